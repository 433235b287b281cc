package dev.txkv.cli.shell;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.cli.Main;
import dev.txkv.proto.ExcludeResponse;
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

/**
 * {@code txkv move}, {@code txkv exclude} and {@code txkv include} against a fake remote client
 * that keeps a shard map and, as the cluster does, drains excluded members by itself.
 */
class ShardMoveCommandsTest {
    private static final String CLUSTER = "10.0.0.1:4500";

    /** One call of {@link RemoteAdminProvider#move}. */
    record MoveCall(String connection, int shard, List<String> members, Duration timeout) {
    }

    /** One call of {@link RemoteAdminProvider#exclude}. */
    record ExcludeCall(String connection, String member, boolean include, Duration timeout) {
    }

    /**
     * A sharded cluster in memory: answers status from its members and shard map, and moves
     * shards in it; {@link #failures} fail the next moves, {@link #stale} keeps the map as is.
     * Once a member is excluded, each status read first takes one step of the drain, as the
     * control group's leader would between two reads: it completes the move under way, or starts
     * moving the first replica on an excluded member to the member with the fewest replicas that
     * keeps none of that shard ({@link #drains} off: nothing moves); {@link #statusFailures} fail
     * the next status reads after an exclusion.
     */
    private static final class FakeProvider extends AdminProviderStub {
        final List<String> members = new ArrayList<>();
        final Map<Integer, List<String>> shards = new LinkedHashMap<>();
        final Map<Integer, List<String>> movingTo = new LinkedHashMap<>();
        final Map<Integer, String> moveReasons = new LinkedHashMap<>();
        final List<String> excluded = new ArrayList<>();
        final List<MoveCall> moves = new ArrayList<>();
        final List<ExcludeCall> excludes = new ArrayList<>();
        final List<String> reasons = new ArrayList<>();
        final List<String> statusConnections = new ArrayList<>();
        final Deque<TxkvException> failures = new ArrayDeque<>();
        final Deque<TxkvException> statusFailures = new ArrayDeque<>();
        boolean stale;
        boolean drains = true;

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
            if (!excludes.isEmpty() && !statusFailures.isEmpty()) {
                throw statusFailures.poll();
            }
            if (drains && !excluded.isEmpty()) {
                drainStep();
            }
            Status.Builder b = Status.newBuilder().setAnsweredBy(members.get(0));
            for (String m : members) {
                b.addProcesses(Status.Process.newBuilder().setId(m).setRole("follower"));
            }
            Status.Cluster.Builder cluster = Status.Cluster.newBuilder().setName("test").addAllExcluded(excluded);
            shards.forEach((id, replicas) -> cluster.addShards(Status.Shard.newBuilder().setId(id)
                    .addAllReplicas(replicas).addAllMovingTo(movingTo.getOrDefault(id, List.of()))
                    .setMoveReason(moveReasons.getOrDefault(id, "")).setTwoPhase("epoch 1, chain head 5, 0 undecided")));
            return b.setCluster(cluster).build().toByteArray();
        }

        /** One step of the drain: the move under way completes, or the next one starts. */
        private void drainStep() {
            if (!movingTo.isEmpty()) {
                int id = movingTo.keySet().iterator().next();
                shards.put(id, movingTo.remove(id));
                moveReasons.remove(id);
                return;
            }
            for (Map.Entry<Integer, List<String>> e : shards.entrySet()) {
                for (String m : e.getValue()) {
                    if (!excluded.contains(m)) {
                        continue;
                    }
                    String replacement = null;
                    for (String candidate : members) {
                        if (!excluded.contains(candidate) && !e.getValue().contains(candidate)
                                && (replacement == null || replicas(candidate) < replicas(replacement))) {
                            replacement = candidate;
                        }
                    }
                    if (replacement != null) {
                        List<String> target = new ArrayList<>(e.getValue());
                        target.set(target.indexOf(m), replacement);
                        movingTo.put(e.getKey(), target);
                        moveReasons.put(e.getKey(), "exclude " + m);
                        return;
                    }
                }
            }
        }

        private long replicas(String member) {
            return shards.values().stream().filter(r -> r.contains(member)).count();
        }

        private ShardMapRecord.Builder map() {
            ShardMapRecord.Builder map = ShardMapRecord.newBuilder().setEpoch(moves.size() + excludes.size())
                    .setNextId(shards.size()).addAllExcluded(excluded);
            shards.forEach((id, replicas) -> map.addShards(ShardRecord.newBuilder().setId(id).addAllMembers(replicas)
                    .addAllMovingTo(movingTo.getOrDefault(id, List.of()))));
            return map;
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
            return MoveResponse.newBuilder().setMap(map()).build().toByteArray();
        }

        @Override
        public byte[] exclude(String connection, String member, boolean include, Duration timeout) {
            excludes.add(new ExcludeCall(connection, member, include, timeout));
            if (!members.contains(member)) {
                throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "No member '" + member
                        + "' in the cluster (members: " + String.join(", ", members) + ")");
            }
            excluded.remove(member);
            if (!include) {
                excluded.add(member);
            }
            return ExcludeResponse.newBuilder().setMap(map()).build().toByteArray();
        }


    }

    private FakeProvider provider = new FakeProvider("a", "b", "c", "d").shard(0, "a", "b", "c").shard(1, "b", "c", "d")
            .shard(2, "a", "c").shard(3, "a", "b", "d");

    /** Runs {@code txkv ARGS} as the launcher would, with the fake remote client. */
    private CliRun txkv(String... args) {
        return CliRun.run(List.of(new MoveCommand(this::source), new ExcludeCommand(this::source, 1),
                new IncludeCommand(this::source)), args);
    }

    private RemoteStatusSource source(String cluster) {
        return new RemoteStatusSource(cluster, List.of(provider));
    }

    private static void assertOk(CliRun run) {
        assertThat(run.exitCode()).as(run.err()).isEqualTo(Main.EXIT_OK);
        assertThat(run.err()).isEmpty();
    }

    private void assertRefused(CliRun run, int exitCode, String... messages) {
        assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(exitCode);
        assertThat(run.err()).contains(messages);
        assertThat(provider.moves).as("nothing is moved").isEmpty();
        assertThat(provider.excludes).as("nothing is excluded").isEmpty();
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
        CliRun run = txkv("move", "2", "b,d", "-C", CLUSTER);
        assertOk(run);
        assertThat(provider.moves).containsExactly(
                new MoveCall(CLUSTER, 2, List.of("b", "d"), Duration.ofMillis(MoveCommand.TIMEOUT_MS_DEFAULT)));
        assertThat(run.out()).isEqualTo("Shard 2 is on b,d now.\n");
    }

    @Test
    void moveTakesATimeoutAndPrintsJson() {
        CliRun run = txkv("move", "0", "d", "--timeout", "2500", "--json");
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
        CliRun run = txkv("move", "1", "a,x");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(run.err()).contains("txkv move: ", "No member 'x' in the cluster (members: a, b, c, d)");
        assertThat(run.out()).isEmpty();
    }

    // ---------------------------------------------------------------- exclude

    /** The calls excluding {@code member} (or including it, with {@code include}) with the default call timeout. */
    private static ExcludeCall excludeCall(String connection, String member, boolean include) {
        return new ExcludeCall(connection, member, include, Duration.ofMillis(ExcludeCommand.CALL_TIMEOUT_MS));
    }

    @Test
    void remoteStatusSourcePassesExclusionsToTheProvider() throws InvalidProtocolBufferException {
        ExcludeResponse r = ExcludeResponse.parseFrom(source(CLUSTER).exclude("b", false, Duration.ofSeconds(2)));
        assertThat(provider.excludes).containsExactly(new ExcludeCall(CLUSTER, "b", false, Duration.ofSeconds(2)));
        assertThat(r.getMap().getExcludedList()).containsExactly("b");
        source(CLUSTER).exclude("b", true, Duration.ofSeconds(2));
        assertThat(provider.excluded).isEmpty();
    }

    @Test
    void excludeSendsTheMemberAndPrintsWhatIsLeftOnItAsTheClusterDrainsIt() {
        CliRun run = txkv("exclude", "c", "-C", CLUSTER, "--timeout", "60000");
        assertOk(run);
        assertThat(provider.excludes).containsExactly(excludeCall(CLUSTER, "c", false));
        assertThat(provider.moves).as("the cluster moves the replicas, not the command").isEmpty();
        assertThat(provider.statusConnections).containsOnly(CLUSTER).hasSize(7);
        // One line per change: a move starts (the cluster picks the member with the fewest replicas), or ends.
        assertThat(run.out()).matches("(?s)"
                + "3 shards on c: 0, 1, 2 \\(shard 0 moving to a,b,d: exclude c\\)\n"
                + "2 shards on c: 1, 2\n"
                + "2 shards on c: 1, 2 \\(shard 1 moving to b,a,d: exclude c\\)\n"
                + "1 shard on c: 2\n"
                + "1 shard on c: 2 \\(shard 2 moving to a,b: exclude c\\)\n"
                + "No shard is on c any more \\(\\d+\\.\\d s\\)\\. c stays excluded until txkv include c\\.\n");
        assertThat(provider.shards.values()).noneMatch(replicas -> replicas.contains("c"));
        assertThat(provider.excluded).containsExactly("c");
    }

    @Test
    void aStatusThatDoesNotChangePrintsOneLine() {
        provider.drains = false;
        CliRun run = txkv("exclude", "d", "--timeout", "150");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(run.out()).isEqualTo("2 shards on d: 1, 3\n");
        assertThat(provider.statusConnections.size()).as("the status is read again and again").isGreaterThan(3);
    }

    @Test
    void aTimeoutSaysWhatIsLeftAndThatTheClusterGoesOn() {
        provider.drains = false;
        CliRun run = txkv("exclude", "c", "--timeout", "50");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(provider.excludes).as("the call, too, ends within the timeout")
                .containsExactly(new ExcludeCall(ShellCommand.CLUSTER_DEFAULT, "c", false, Duration.ofMillis(50)));
        assertThat(run.err()).contains("txkv exclude: Shards 0, 1, 2 are still on c after ",
                "The cluster goes on moving shards 0, 1, 2 off it (txkv shards shows the moves).",
                "c stays excluded until txkv include c.");
        assertThat(run.err()).doesNotContain("cannot drain");
        assertThat(provider.excluded).as("the exclusion stays recorded").containsExactly("c");
    }

    @Test
    void aShardOnEveryOtherMemberCannotBeDrainedAndTheTimeoutSaysHowToShrinkIt() {
        provider.shard(4, "d", "c", "b", "a");
        CliRun run = txkv("exclude", "b", "--timeout", "300");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(run.out())
                .startsWith("4 shards on b: 0, 1, 3, 4 (shard 0 moving to a,d,c: exclude b; shard 4: no other member can"
                        + " take it)\n")
                .endsWith("1 shard on b: 4 (shard 4: no other member can take it)\n");
        assertThat(run.err()).contains("txkv exclude: Shard 4 is still on b after ",
                "The cluster cannot drain b: every other member keeps shard 4 or is excluded, so none can take its"
                        + " replica; txkv move 4 d,c,a shrinks the shard to fewer replicas.",
                "b stays excluded until txkv include b.");
        assertThat(run.err()).doesNotContain("goes on moving");
    }

    @Test
    void aFailedStatusReadWhileWaitingIsReadAgain() {
        provider.statusFailures.add(new TxkvException(ErrorCode.CONNECTION_FAILED, "no server answered"));
        CliRun run = txkv("exclude", "a");
        assertOk(run);
        assertThat(run.out()).contains("No shard is on a any more (", "a stays excluded until txkv include a.");
    }

    @Test
    void noWaitExcludesAndReturnsAtOnce() {
        CliRun run = txkv("exclude", "c", "--no-wait", "-C", CLUSTER);
        assertOk(run);
        assertThat(provider.excludes).containsExactly(excludeCall(CLUSTER, "c", false));
        assertThat(provider.statusConnections).as("only the check that the cluster is sharded").hasSize(1);
        assertThat(run.out()).isEqualTo(""
                + "c is excluded: the cluster moves 3 shards off it by itself, one at a time (0, 1, 2; txkv shards"
                + " shows the moves).\n"
                + "c stays excluded until txkv include c.\n");
    }

    @Test
    void aDryRunListsTheShardsOnTheMemberAndCallsNothing() {
        provider.movingTo.put(3, List.of("a", "b", "c"));
        provider.moveReasons.put(3, "asked by an operator");
        provider.shard(4, "d", "c", "b", "a");
        provider.drains = false;
        CliRun run = txkv("exclude", "a", "--dry-run");
        assertOk(run);
        assertThat(provider.excludes).isEmpty();
        assertThat(provider.moves).isEmpty();
        assertThat(run.out()).isEqualTo(""
                + "Would exclude a: the cluster would move 4 shards off it by itself, one at a time, each to the lightest"
                + " member (fewest replicas, weighed by size) that keeps none of the shard:\n"
                + "shard 0: a,b,c\n"
                + "shard 2: a,c\n"
                + "shard 3: a,b,d (moving to a,b,c: asked by an operator)\n"
                + "shard 4: d,c,b,a (cannot move: every other member keeps shard 4 or is excluded, so none can take its"
                + " replica; txkv move 4 d,c,b shrinks the shard to fewer replicas)\n"
                + "Dry run: nothing was excluded.\n");
    }

    @Test
    void aDryRunOfAMemberWithoutReplicasOrAnUnknownOne() {
        provider.members.add("e");
        provider.excluded.add("e");
        provider.drains = false;
        CliRun run = txkv("exclude", "e", "--dry-run");
        assertOk(run);
        assertThat(run.out()).isEqualTo("e is excluded already.\n"
                + "No shard is on e: excluding it would move nothing.\n"
                + "Dry run: nothing was excluded.\n");
        assertRefused(txkv("exclude", "x", "--dry-run"), Main.EXIT_FAILURE,
                "txkv exclude: No member 'x' in the cluster (members: a, b, c, d, e)");
    }

    @Test
    void aMemberWithoutReplicasIsExcludedWithNothingToMove() {
        provider.members.add("e");
        CliRun run = txkv("exclude", "e");
        assertOk(run);
        assertThat(provider.excludes).containsExactly(excludeCall(ShellCommand.CLUSTER_DEFAULT, "e", false));
        assertThat(run.out()).isEqualTo("No shard is on e; nothing to move. e stays excluded until txkv include e.\n");
    }

    @Test
    void theServersRefusalOfAnUnknownMemberIsPassedOn() {
        CliRun run = txkv("exclude", "x");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(provider.excludes).containsExactly(excludeCall(ShellCommand.CLUSTER_DEFAULT, "x", false));
        assertThat(run.err()).contains(
                "txkv exclude: invalid_option_value (2006): No member 'x' in the cluster (members: a, b, c, d)");
        assertThat(run.out()).isEmpty();
        assertThat(provider.excluded).isEmpty();
    }

    @Test
    void excludeChecksItsArgumentsBeforeAsking() {
        assertRefused(txkv("exclude", "b", "--timeout", "-5"), Main.EXIT_USAGE, "--timeout must be positive, got -5");
        assertRefused(txkv("exclude", " "), Main.EXIT_USAGE, "MEMBER must be a member id, got ' '");
        assertRefused(txkv("exclude"), Main.EXIT_USAGE, "Missing required parameter", "MEMBER");
    }

    @Test
    void anUnshardedClusterHasNothingToExclude() {
        provider = new FakeProvider("a", "b");
        CliRun run = txkv("exclude", "a");
        assertRefused(run, Main.EXIT_FAILURE, "The cluster is not sharded");
    }

    // ---------------------------------------------------------------- include

    @Test
    void includeSendsTheMemberWithIncludeAndSaysReplicasMayGoThere() {
        provider.excluded.add("c");
        CliRun run = txkv("include", "c", "-C", CLUSTER);
        assertOk(run);
        assertThat(provider.excludes).containsExactly(excludeCall(CLUSTER, "c", true));
        assertThat(provider.excluded).isEmpty();
        assertThat(run.out()).isEqualTo("c is included again: replicas may be placed there (the rebalancer evens out"
                + " what the members keep by itself).\n");
        assertThat(provider.statusConnections).isEmpty();
    }

    @Test
    void includeTakesATimeoutAndPassesOnRefusals() {
        assertOk(txkv("include", "c", "--timeout", "2500"));
        assertThat(provider.excludes).containsExactly(
                new ExcludeCall(ShellCommand.CLUSTER_DEFAULT, "c", true, Duration.ofMillis(2500)));
        CliRun run = txkv("include", "x");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(run.err()).contains("txkv include: invalid_option_value (2006): No member 'x' in the cluster");
        provider.excludes.clear();
        assertRefused(txkv("include", "c", "--timeout", "0"), Main.EXIT_USAGE, "--timeout must be positive, got 0");
    }

    // ---------------------------------------------------------------- the launcher

    @Test
    void theLauncherHasTheCommands() {
        CommandLine launcher = Main.commandLine();
        assertThat(launcher.getSubcommands()).containsKeys("split", "move", "exclude", "include");
        StringWriter help = new StringWriter();
        launcher.setOut(new PrintWriter(help));
        assertThat(launcher.execute("move", "--help")).isEqualTo(Main.EXIT_OK);
        assertThat(launcher.execute("exclude", "--help")).isEqualTo(Main.EXIT_OK);
        assertThat(launcher.execute("include", "--help")).isEqualTo(Main.EXIT_OK);
        assertThat(help.toString().replaceAll("\\s+", " ")).contains("Usage: txkv move", "SHARD", "MEMBER[,MEMBER...]",
                "--cluster", "--timeout", "(default: 300000)", "--json", "Usage: txkv exclude", "--dry-run",
                "--no-wait", "until txkv include", "Usage: txkv include", "(default: 10000)");
    }
}
