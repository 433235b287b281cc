package dev.txkv.cli.shell;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.cli.Main;
import dev.txkv.proto.MoveResponse;
import dev.txkv.proto.ShardMapRecord;
import dev.txkv.proto.ShardRecord;
import dev.txkv.proto.Status;
import dev.txkv.spi.RemoteAdminProvider;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ScopeType;

/** {@code txkv move} and {@code txkv exclude} against a fake remote client that keeps a shard map. */
class ShardMoveCommandsTest {
    private static final String CLUSTER = "10.0.0.1:4500";

    /** One call of {@link RemoteAdminProvider#move}. */
    record MoveCall(String connection, int shard, List<String> members, Duration timeout) {
    }

    /**
     * A sharded cluster in memory: answers status from its members and shard map, and moves
     * shards in it; {@link #failures} fail the next moves, {@link #stale} keeps the map as is.
     */
    private static final class FakeProvider implements RemoteAdminProvider {
        final List<String> members = new ArrayList<>();
        final Map<Integer, List<String>> shards = new LinkedHashMap<>();
        final List<MoveCall> moves = new ArrayList<>();
        final List<String> reasons = new ArrayList<>();
        final List<String> statusConnections = new ArrayList<>();
        final Deque<TxkvException> failures = new ArrayDeque<>();
        boolean stale;

        FakeProvider(String... members) {
            this.members.addAll(List.of(members));
        }

        FakeProvider shard(int id, String... replicas) {
            shards.put(id, List.of(replicas));
            return this;
        }

        @Override
        public byte[] status(String connection, Duration timeout) {
            statusConnections.add(connection);
            Status.Builder b = Status.newBuilder().setAnsweredBy(members.get(0));
            for (String m : members) {
                b.addProcesses(Status.Process.newBuilder().setId(m).setRole("follower"));
            }
            Status.Cluster.Builder cluster = Status.Cluster.newBuilder().setName("test");
            shards.forEach((id, replicas) -> cluster.addShards(Status.Shard.newBuilder().setId(id)
                    .addAllReplicas(replicas).setTwoPhase("epoch 1, chain head 5, 0 undecided")));
            return b.setCluster(cluster).build().toByteArray();
        }

        @Override
        public Map<String, String> setMembers(String connection, Map<String, String> members, Duration timeout) {
            throw new UnsupportedOperationException();
        }

        @Override
        public byte[] split(String connection, byte[] key, Duration timeout) {
            throw new UnsupportedOperationException();
        }

        @Override
        public byte[] move(String connection, int shard, List<String> members, String reason, Duration timeout) {
            moves.add(new MoveCall(connection, shard, List.copyOf(members), timeout));
            reasons.add(reason);
            if (!failures.isEmpty()) {
                throw failures.poll();
            }
            if (!stale) {
                shards.put(shard, List.copyOf(members));
            }
            ShardMapRecord.Builder map = ShardMapRecord.newBuilder().setEpoch(moves.size()).setNextId(shards.size());
            shards.forEach((id, replicas) -> map.addShards(ShardRecord.newBuilder().setId(id).addAllMembers(replicas)));
            return MoveResponse.newBuilder().setMap(map).build().toByteArray();
        }

        @Override
        public byte[] changeAuth(String connection, byte[] request, Duration timeout) {
            throw new UnsupportedOperationException();
        }

        @Override
        public byte[] describeAuth(String connection, Duration timeout) {
            throw new UnsupportedOperationException();
        }
    }

    @Command(name = "txkv", mixinStandardHelpOptions = true, scope = ScopeType.INHERIT)
    static final class Root {
    }

    record Run(int exitCode, String out, String err) {
    }

    private FakeProvider provider = new FakeProvider("a", "b", "c", "d").shard(0, "a", "b", "c").shard(1, "b", "c", "d")
            .shard(2, "a", "c").shard(3, "a", "b", "d");

    /** Runs {@code txkv ARGS} as the launcher would, with the fake remote client. */
    private Run txkv(String... args) {
        CommandLine cli = new CommandLine(new Root());
        cli.addSubcommand(new MoveCommand(this::source));
        cli.addSubcommand(new ExcludeCommand(this::source, 0));
        Main.withLauncherErrorHandling(cli);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exitCode = cli.execute(args);
        return new Run(exitCode, lines(out), lines(err));
    }

    private RemoteStatusSource source(String cluster) {
        return new RemoteStatusSource(cluster, List.of(provider));
    }

    private static String lines(StringWriter w) {
        return w.toString().replace(System.lineSeparator(), "\n");
    }

    private static void assertOk(Run run) {
        assertThat(run.exitCode()).as(run.err()).isEqualTo(Main.EXIT_OK);
        assertThat(run.err()).isEmpty();
    }

    private void assertRefused(Run run, int exitCode, String... messages) {
        assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(exitCode);
        assertThat(run.err()).contains(messages);
        assertThat(provider.moves).as("nothing is moved").isEmpty();
    }

    // ---------------------------------------------------------------- move

    @Test
    void remoteStatusSourcePassesMovesToTheProvider() throws InvalidProtocolBufferException {
        byte[] answer = source(CLUSTER).move(2, List.of("b", "c"), "", Duration.ofSeconds(3));
        assertThat(provider.moves).containsExactly(new MoveCall(CLUSTER, 2, List.of("b", "c"), Duration.ofSeconds(3)));
        assertThat(MoveCommand.membersAfter(MoveResponse.parseFrom(answer), 2, List.of())).containsExactly("b", "c");
    }

    @Test
    void moveSendsTheShardAndMembersAndPrintsWhereTheShardIs() {
        Run run = txkv("move", "2", "b,d", "-C", CLUSTER);
        assertOk(run);
        assertThat(provider.moves).containsExactly(
                new MoveCall(CLUSTER, 2, List.of("b", "d"), Duration.ofMillis(MoveCommand.TIMEOUT_MS_DEFAULT)));
        assertThat(run.out()).isEqualTo("Shard 2 is on b,d now.\n");
    }

    @Test
    void moveTakesATimeoutAndPrintsJson() {
        Run run = txkv("move", "0", "d", "--timeout", "2500", "--json");
        assertOk(run);
        assertThat(provider.moves).containsExactly(
                new MoveCall(ShellCommand.CLUSTER_DEFAULT, 0, List.of("d"), Duration.ofMillis(2500)));
        assertThat(run.out()).startsWith("{").contains("\"shards\"", "\"members\": [\"d\"]", "\"next_id\": 4");
    }

    @Test
    void moveChecksItsArgumentsBeforeAsking() {
        assertRefused(txkv("move", "x", "a,b"), Main.EXIT_USAGE,
                "txkv: SHARD must be a shard id, a non-negative integer (txkv shards lists them), got 'x'",
                "Run 'txkv move --help' for usage.");
        assertRefused(txkv("move", "-1", "a,b"), Main.EXIT_USAGE, "SHARD must be a shard id", "got '-1'");
        assertRefused(txkv("move", "1.5", "a"), Main.EXIT_USAGE, "got '1.5'");
        assertRefused(txkv("move", "99999999999", "a"), Main.EXIT_USAGE, "too large");
        assertRefused(txkv("move", "1", "a,,b"), Main.EXIT_USAGE, "with none empty, got 'a,,b'");
        assertRefused(txkv("move", "1", ""), Main.EXIT_USAGE, "with none empty, got ''");
        assertRefused(txkv("move", "1", "a,"), Main.EXIT_USAGE, "with none empty, got 'a,'");
        assertRefused(txkv("move", "1", "a,b,a"), Main.EXIT_USAGE, "Member a is named twice in 'a,b,a'");
        assertRefused(txkv("move", "1", "a,b,c,d,e,f"), Main.EXIT_USAGE,
                "A shard has 1 to 5 replicas; 6 members given");
        assertRefused(txkv("move", "1", "a", "--timeout", "0"), Main.EXIT_USAGE, "--timeout must be positive, got 0");
        assertRefused(txkv("move", "1"), Main.EXIT_USAGE, "Missing required parameter", "MEMBER");
        assertRefused(txkv("move", "1", "a", "b"), Main.EXIT_USAGE, "Unmatched argument");
    }

    @Test
    void fiveDistinctMembersAreTheMost() {
        assertThat(MoveCommand.memberList("a,b,c,d,e")).containsExactly("a", "b", "c", "d", "e");
        assertThat(MoveCommand.memberList(" a, b")).containsExactly("a", "b");
        assertThat(MoveCommand.shardId("0")).isZero();
        assertThat(MoveCommand.shardId("2147483647")).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void aServerRefusalIsAFailure() {
        provider.failures.add(new TxkvException(ErrorCode.INVALID_OPTION_VALUE,
                "No member 'x' in the cluster (members: a, b, c, d)"));
        Run run = txkv("move", "1", "a,x");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(run.err()).contains("txkv move: ", "No member 'x' in the cluster (members: a, b, c, d)");
        assertThat(run.out()).isEmpty();
    }

    // ---------------------------------------------------------------- exclude

    @Test
    void excludeMakesThePlannedMovesInOrderAndChecksTheStatus() {
        Run run = txkv("exclude", "c", "-C", CLUSTER, "--timeout", "60000");
        assertOk(run);
        // Replicas: a 3, b 3, c 3, d 2.
        assertThat(provider.moves).containsExactly(
                new MoveCall(CLUSTER, 0, List.of("a", "b", "d"), Duration.ofMillis(60000)),
                new MoveCall(CLUSTER, 1, List.of("b", "d", "a"), Duration.ofMillis(60000)),
                new MoveCall(CLUSTER, 2, List.of("a", "b"), Duration.ofMillis(60000)));
        assertThat(provider.reasons).containsOnly("exclude c");
        assertThat(provider.statusConnections).containsExactly(CLUSTER, CLUSTER);
        assertThat(run.out()).matches("(?s)Moving 3 shards off c, one at a time:\n"
                + "shard 0: a,b,c -> a,b,d \\.\\.\\. done in \\d+\\.\\d s\n"
                + "shard 1: b,c,d -> b,d,a \\.\\.\\. done in \\d+\\.\\d s\n"
                + "shard 2: a,c -> a,b \\.\\.\\. done in \\d+\\.\\d s\n"
                + "No shard is on c any more\\. The cluster does not remember the exclusion.*\n");
        assertThat(provider.shards.values()).noneMatch(replicas -> replicas.contains("c"));
    }

    @Test
    void aDryRunPrintsThePlanAndMovesNothing() {
        Run run = txkv("exclude", "a", "--dry-run");
        assertOk(run);
        assertThat(provider.moves).isEmpty();
        assertThat(run.out()).isEqualTo(""
                + "Would move 3 shards off a, one at a time:\n"
                + "shard 0: a,b,c -> b,c,d\n"
                + "shard 2: a,c -> c,b\n"
                + "shard 3: a,b,d -> b,d,c\n"
                + "Dry run: nothing was moved.\n");
    }

    @Test
    void aMemberWithoutReplicasIsLeftAsItIs() {
        provider.members.add("e");
        Run run = txkv("exclude", "e");
        assertOk(run);
        assertThat(run.out()).isEqualTo("No shard is on e; nothing to move.\n");
        assertThat(provider.moves).isEmpty();
    }

    @Test
    void anUnknownMemberOrAShardWithoutReplacementMovesNothing() {
        assertRefused(txkv("exclude", "x"), Main.EXIT_FAILURE,
                "txkv exclude: No member 'x' in the cluster (members: a, b, c, d)");
        provider.shard(4, "d", "c", "b", "a");
        Run run = txkv("exclude", "b");
        assertRefused(run, Main.EXIT_FAILURE, "Shard 4 has a replica on every member (d,c,b,a)", "txkv move 4 d,c,a");
        assertThat(run.out()).isEmpty();
        assertRefused(txkv("exclude", "b", "--timeout", "-5"), Main.EXIT_USAGE, "--timeout must be positive, got -5");
    }

    @Test
    void aFailedMoveStopsTheExclusion() {
        provider.failures.add(new TxkvException(ErrorCode.OPERATION_FAILED, "Shard 0 is being split"));
        Run run = txkv("exclude", "c");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(provider.moves).hasSize(1);
        assertThat(run.out()).isEqualTo("Moving 3 shards off c, one at a time:\nshard 0: a,b,c -> a,b,d ... failed\n");
        assertThat(run.err()).contains("txkv exclude: ", "Shard 0 is being split");
    }

    @Test
    void theMemberStillListedAfterTheMovesIsAnError() {
        provider.stale = true;
        Run run = txkv("exclude", "d");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(provider.moves).extracting(MoveCall::shard).containsExactly(1, 3);
        assertThat(run.err()).contains("After the moves the cluster still lists d for shards 1, 3");
    }

    @Test
    void anUnshardedClusterHasNothingToExclude() {
        provider = new FakeProvider("a", "b");
        Run run = txkv("exclude", "a");
        assertRefused(run, Main.EXIT_FAILURE, "The cluster is not sharded");
    }

    // ---------------------------------------------------------------- the launcher

    @Test
    void theLauncherHasTheCommands() {
        CommandLine launcher = Main.commandLine();
        assertThat(launcher.getSubcommands()).containsKeys("split", "move", "exclude");
        StringWriter help = new StringWriter();
        launcher.setOut(new PrintWriter(help));
        assertThat(launcher.execute("move", "--help")).isEqualTo(Main.EXIT_OK);
        assertThat(launcher.execute("exclude", "--help")).isEqualTo(Main.EXIT_OK);
        assertThat(help.toString().replaceAll("\\s+", " ")).contains("Usage: txkv move", "SHARD", "MEMBER[,MEMBER...]",
                "--cluster", "--timeout", "(default: 300000)", "--json", "Usage: txkv exclude", "--dry-run",
                "does not remember the exclusion");
    }
}
