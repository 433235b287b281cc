package dev.txkv.bench.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ScaleSimTest {
    private static final long SEED = 20261206L;

    /** Short runs: a few simulated tens of milliseconds each. */
    private static ScaleParams small(int processes) {
        ScaleParams p = new ScaleParams();
        p.processes = processes;
        p.clientsPerShard = 128;
        p.warmupMs = 10;
        p.measureMs = 40;
        return p;
    }

    private static ScaleResult run(ScaleParams p) {
        return new ScaleSim(p, SEED).run();
    }

    @Test
    void theSameSeedGivesTheSameFiguresAndAnotherSeedOthers() {
        ScaleParams p = small(4);
        p.crossShard = 0.2;
        ScaleResult a = new ScaleSim(p, 7).run();
        ScaleResult b = new ScaleSim(p, 7).run();
        ScaleResult c = new ScaleSim(p, 8).run();
        assertEquals(a, b);
        assertNotEquals(a, c);
    }

    @Test
    void throughputStopsWhereTheCpuDoes() {
        // One process, one replica, versions from the leader: the leader's 26 µs a commit on one
        // core allow at most 38,462 commits/s, whatever the number of clients.
        ScaleParams p = small(1);
        p.sequencer = false;
        p.measureMs = 200;
        double bound = 1e6 / p.leaderUs;
        p.clients = 4;
        ScaleResult few = run(p);
        p.clients = 256;
        ScaleResult many = run(p);
        p.clients = 1024;
        ScaleResult more = run(p);
        assertTrue(few.commitsPerSecond() < 0.6 * bound, "4 clients do not fill the core: " + few);
        // 5 % for the edges of the window (a commit counts when answered, its CPU when spent).
        assertTrue(many.commitsPerSecond() > 0.85 * bound && many.commitsPerSecond() <= 1.05 * bound, many.toString());
        assertTrue(many.maxUtil() > 0.9, many.toString());
        assertTrue(Math.abs(more.commitsPerSecond() / many.commitsPerSecond() - 1) < 0.05,
                "four times the clients, the same throughput: " + many + " " + more);
        assertTrue(more.p50Ms() > 3 * many.p50Ms(), "the clients queue instead: " + many + " " + more);

        p.clients = 256;
        p.coresPerProcess = 2;
        ScaleResult clientBound = run(p);
        assertTrue(Math.abs(clientBound.commitsPerSecond() / (1e6 / p.clientUs) - 1) < 0.05,
                "now the client process's one core (22 µs a commit) is the limit: " + clientBound);
        p.clientCores = 4;
        ScaleResult twoCores = run(p);
        assertTrue(twoCores.commitsPerSecond() > 1.5 * many.commitsPerSecond(), many + " " + twoCores);
    }

    @Test
    void twiceTheProcessesWithoutCrossShardWorkGiveAboutTwiceTheThroughput() {
        ScaleResult four = run(small(4));
        ScaleResult eight = run(small(8));
        double ratio = eight.commitsPerSecond() / four.commitsPerSecond();
        assertTrue(ratio > 1.8 && ratio < 2.2, "ratio " + ratio + ": " + four + " " + eight);
        // Each commit costs the leader 26 µs and two followers 11 µs: 48 µs of server CPU.
        assertEquals(48, eight.serverUsPerCommit(), 3, eight.toString());
    }

    @Test
    void crossShardTransactionsLowerThroughputPerProcess() {
        ScaleParams p = small(8);
        ScaleResult none = run(p);
        p.crossShard = 0.1;
        ScaleResult tenth = run(p);
        p.crossShard = 0.3;
        ScaleResult third = run(p);
        assertTrue(tenth.commitsPerSecond() < 0.95 * none.commitsPerSecond(), none + " " + tenth);
        assertTrue(third.commitsPerSecond() < 0.9 * tenth.commitsPerSecond(), tenth + " " + third);
        assertEquals(0.0, none.twoPhaseShare());
        assertEquals(0.3, third.twoPhaseShare(), 0.05, third.toString());
        // A two-shard commit writes PREPARED twice, DECIDE (the coordinator's shard's own
        // outcome), DECIDED on the other participant and FORGET: 5 records.
        assertTrue(third.logRecordsPerCommit() > 0.3 * 5 - 0.1 && third.logRecordsPerCommit() < 0.3 * 5 + 0.1,
                third.toString());
    }

    /**
     * With an expensive grant the sequencer bounds cross-shard commits (one grant each) at
     * its cores' capacity: 1 / grantUs. A model that forgets the sequencer's cost (planted
     * here as {@link ScaleSim.Variant#FREE_SEQUENCER}) breaks the bound and scales on.
     */
    @Test
    void theSequencerBecomesTheLimitAndAModelThatForgetsItsCostIsCaught() {
        ScaleParams p = small(4);
        p.crossShard = 0.3;
        p.grantUs = 50;
        ScaleResult four = run(p);
        p.processes = 16;
        ScaleResult sixteen = run(p);
        ScaleResult forgetful = new ScaleSim(p, SEED, ScaleSim.Variant.FREE_SEQUENCER).run();

        double crossBound = p.sequencerCores * 1e6 / p.grantUs;
        assertTrue(sixteen.sequencerUtil() > 0.9, sixteen.toString());
        assertTrue(withinSequencerBound(sixteen, crossBound), sixteen.toString());
        assertTrue(sixteen.commitsPerSecond() < 2.5 * four.commitsPerSecond(),
                "four times the processes, far less than four times the throughput: " + four + " " + sixteen);

        assertTrue(!withinSequencerBound(forgetful, crossBound), "the planted mistake must break the bound: " + forgetful);
        assertTrue(forgetful.commitsPerSecond() > 1.5 * sixteen.commitsPerSecond(), sixteen + " " + forgetful);
    }

    private static boolean withinSequencerBound(ScaleResult r, double crossBound) {
        return r.commitsPerSecond() * r.twoPhaseShare() <= 1.02 * crossBound;
    }

    @Test
    void benchScaleModelRunsTheModel() {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            code = new CommandLine(new dev.txkv.bench.EmbeddedBench()).execute("scale-model",
                    "--processes", "2", "--cross-shard", "0.5", "--seed", "3", "--warmup-ms", "5", "--measure-ms", "5",
                    "--clients", "16");
        } finally {
            System.setOut(out);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, text);
        assertTrue(text.contains("seed=3"), text);
        assertEquals(1, text.lines().filter(l -> l.matches("\\s+2\\s+2\\s+2\\s+0\\.50 .*")).count(), text);
    }

    @Test
    void aParametersFileGivesDefaultsAndTheCommandLineWins(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("p.properties");
        Files.writeString(file, "leader-us = 30\nprocesses = 2,4\nsequencer = false\nmeasure-ms = 5\nwarmup-ms = 5\n");
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            code = new CommandLine(new ScaleModelCommand()).execute(
                    "--params", file.toString(), "--processes", "1", "--seed", "5", "--clients", "8");
        } finally {
            System.setOut(out);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, text);
        assertTrue(text.contains("seed=5"), text);
        assertTrue(text.contains("--leader-us 30.0"), text);
        assertTrue(text.contains("--sequencer false"), text);
        assertTrue(text.contains("--processes 1 "), text);
        assertEquals(1, text.lines().filter(l -> l.matches("\\s+1\\s+1\\s+1 .*")).count(), text);
    }
}
