package dev.txkv.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.testkit.Seeds;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The short robustness run: {@code txkv check} from the packaged jar starts a 3-node cluster of
 * real server processes, runs list-append and bank traffic for 30 s under kills, pauses,
 * restarts and (as root with iproute2) partitions, and must find no anomaly and no lost write.
 * Fails if the jar's server has no cluster flags. {@code -Dtxkv.seed=N}
 * replays a run's fault schedule.
 */
class ClusterCheckJarIT {
    private static final Path JAR = Path.of("target", "txkv.jar");
    /** 30 s of traffic, up to 60 s to start, up to 120 s of final reads, checking: well within this. */
    private static final long RUN_TIMEOUT_SECONDS = 600;

    @Test
    void threeNodesUnderFaultsKeepAValidHistory(@TempDir Path dir) throws Exception {
        assertThat(serverHelp()).as("'txkv server --help' names the cluster flags").contains("--peers");
        long seed = Seeds.seed();
        Path runDir = dir.resolve("run");
        Run run = check(dir, "--duration", "30s", "--nodes", "3", "--seed=" + seed, "--dir",
                runDir.toString());
        String report = run.report(runDir);
        assertThat(number(report, "anomalies")).as("anomalies (seed %d)", seed).isZero();
        assertThat(number(report, "lostWrites")).as("lost writes (seed %d)", seed).isZero();
        assertThat(number(report, "faultsInjected")).as("faults injected").isPositive();
        assertThat(run.exitCode()).as("exit code (0 = valid history, seed %d)", seed).isZero();
        assertThat(runDir.resolve("history.jsonl")).isRegularFile();
    }

    /**
     * The short sharded run: {@code --shards 4} on 3 nodes (2 replicas per shard, so that a
     * node's loss leaves some shards without a majority, every server a gateway that commits),
     * the workloads' keys spread over the four shards so that transactions and the bank's read
     * of all accounts span shards (two-phase commit), 35 s under kills, pauses, restarts,
     * two-phase crash points (a coordinator or participant halted mid-protocol), online splits,
     * replica moves and a node excluded and included again; faults aimed at the leader hit the control group's leader, which
     * runs the sequencer; nothing may be left in doubt at the end.
     */
    @Test
    void fourShardsUnderFaultsKeepAValidHistory(@TempDir Path dir) throws Exception {
        long seed = Seeds.seed();
        Path runDir = dir.resolve("run");
        Run run = check(dir, "--duration", "35s", "--nodes", "3", "--shards", "4", "--shard-replicas", "2", "--faults",
                "kill,pause,restart,two-phase,split,move,exclude,merge", "--seed=" + seed, "--dir", runDir.toString());
        String report = run.report(runDir);
        assertThat(report).contains("\"shards\": \"4 (--shards 4 --shard-replicas 2");
        assertThat(run.output()).contains("--shards 4 --shard-replicas 2").contains("shard leaders 0=");
        assertThat(number(report, "anomalies")).as("anomalies (seed %d)", seed).isZero();
        assertThat(number(report, "lostWrites")).as("lost writes (seed %d)", seed).isZero();
        assertThat(number(report, "faultsInjected")).as("faults injected (seed %d)", seed).isPositive();
        assertThat(number(report, "inDoubt")).as("prepared slices left in doubt (seed %d)", seed).isZero();
        assertThat(run.exitCode()).as("exit code (0 = valid history, seed %d)", seed).isZero();
    }

    /**
     * Only strangers on the Raft ports (a plain Ratis client sending garbage, a forged batch,
     * membership and leadership changes, a group removal to every member), so that every run
     * of the default suite has some: every request must be refused and the history stay valid.
     */
    @Test
    void strangersOnTheRaftPortsChangeNothing(@TempDir Path dir) throws Exception {
        long seed = Seeds.seed();
        Path runDir = dir.resolve("run");
        Run run = check(dir, "--duration", "20s", "--nodes", "3", "--faults", "stranger", "--seed=" + seed,
                "--dir", runDir.toString());
        String report = run.report(runDir);
        assertThat(number(report, "faultsInjected")).as("stranger faults injected").isPositive();
        assertThat(number(report, "raftPortBreaches")).as("Raft port breaches (seed %d)", seed).isZero();
        assertThat(run.output()).contains("refused all 15 requests; the forged key is absent");
        assertThat(run.exitCode()).as("exit code (0 = valid history, seed %d)", seed).isZero();
    }

    /**
     * A secure run: TLS on every port with a CA and node certificate made for the run, mutual
     * TLS between the members, the workloads over TLS with a user each (authorization on), under
     * kills and strangers (who now fail at the TLS handshake). The history must be valid, no
     * stranger get through, and each workload's user be refused outside its keys.
     */
    @Test
    void aSecureClusterUnderFaultsKeepsAValidHistory(@TempDir Path dir) throws Exception {
        long seed = Seeds.seed();
        Path runDir = dir.resolve("run");
        Run run = check(dir, "--duration", "20s", "--nodes", "3", "--faults", "kill,stranger", "--secure", "--seed=" + seed,
                "--dir", runDir.toString());
        String report = run.report(runDir);
        assertThat(run.output()).contains("tls: a CA and a node certificate").contains("--tls-cert");
        assertThat(report).contains("\"tls\": \"on every port");
        assertThat(number(report, "anomalies")).as("anomalies (seed %d)", seed).isZero();
        assertThat(number(report, "lostWrites")).as("lost writes (seed %d)", seed).isZero();
        assertThat(number(report, "raftPortBreaches")).as("Raft port breaches (seed %d)", seed).isZero();
        // Authorization was on: each workload's user was refused outside its keys.
        assertThat(report).contains("\"refusedOutsideGrants\": true");
        assertThat(run.exitCode()).as("exit code (0 = valid history, seed %d)", seed).isZero();
    }

    /** A finished {@code txkv check}: its exit code and console output. */
    private record Run(int exitCode, String output) {
        String report(Path runDir) throws IOException {
            Path reportJson = runDir.resolve("report.json");
            assertThat(reportJson).as("report written; output:\n%s", output).isRegularFile();
            return Files.readString(reportJson, StandardCharsets.UTF_8);
        }
    }

    /** Runs {@code txkv check ARGS} from the jar, bounded by {@link #RUN_TIMEOUT_SECONDS}. */
    private static Run check(Path dir, String... args) throws Exception {
        Path output = dir.resolve("check.out");
        List<String> command = new java.util.ArrayList<>(List.of(java(), "-jar", JAR.toString(), "check"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        p.getOutputStream().close();
        boolean exited = p.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (!exited) {
            // The harness's shutdown hook stops its servers and removes its namespaces.
            p.destroy();
            p.waitFor(60, TimeUnit.SECONDS);
            p.destroyForcibly();
        }
        String out = Files.readString(output, StandardCharsets.UTF_8);
        System.out.println(out);
        assertThat(exited).as("txkv check finished within %d s", RUN_TIMEOUT_SECONDS).isTrue();
        return new Run(p.exitValue(), out);
    }

    private static long number(String json, String field) {
        Matcher m = Pattern.compile("\"" + field + "\"\\s*:\\s*(\\d+)").matcher(json);
        assertThat(m.find()).as("%s in %s", field, json).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static String serverHelp() throws Exception {
        Path out = Files.createTempFile("txkv-server-help", ".txt");
        try {
            Process p = new ProcessBuilder(List.of(java(), "-jar", JAR.toString(), "server", "--help"))
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            p.getOutputStream().close();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            return Files.readString(out, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
