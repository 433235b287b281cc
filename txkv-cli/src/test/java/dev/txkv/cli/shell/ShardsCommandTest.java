package dev.txkv.cli.shell;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Int64Value;
import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.cli.Main;
import dev.txkv.proto.Status;
import java.time.Duration;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * {@code txkv shards}: the merge of several servers' statuses, each of which knows the leader,
 * applied version, size and two-phase state only of the shards it keeps a replica of, and the
 * command against a fake remote client whose servers answer with their own status.
 */
class ShardsCommandTest {
    /** Four shards [, a), [a, b), [b, c), [c, ...) with their replicas, one member leading each. */
    private static final List<List<String>> REPLICAS = List.of(List.of("node-0"), List.of("node-1"),
            List.of("node-2"), List.of("node-3"));

    /**
     * The status {@code member} answers in a cluster whose shards have {@code replicas} (by id)
     * and {@code leaders} (by id, where one is known): the rows of the shards it keeps a replica of
     * name the leader and have its replica's applied version (1000 + 100 * shard, less 1 on a
     * follower), size and two-phase state; the others have none, as a server's status has them.
     */
    private static Status status(String member, List<List<String>> replicas, Map<Integer, String> leaders) {
        Status.Cluster.Builder cluster = Status.Cluster.newBuilder().setName("txkv").setLeader("node-0");
        for (int id = 0; id < replicas.size(); id++) {
            Status.Shard.Builder shard = Status.Shard.newBuilder().setId(id)
                    .setBegin(id == 0 ? ByteString.EMPTY : ByteString.copyFromUtf8(String.valueOf((char) ('a' + id - 1))))
                    .setEnd(id == replicas.size() - 1 ? ByteString.EMPTY
                            : ByteString.copyFromUtf8(String.valueOf((char) ('a' + id))))
                    .addAllReplicas(replicas.get(id));
            if (replicas.get(id).contains(member)) {
                String leader = leaders.getOrDefault(id, "");
                boolean leads = leader.equals(member);
                shard.setLeader(leader).setLeaderAddress(leader.isEmpty() ? "" : leader + ":4500")
                        .setAppliedVersion(Int64Value.of(1000 + 100 * id - (leads ? 0 : 1)))
                        .setKvSizeBytesEstimate(Int64Value.of(2_000 * (id + 1)))
                        .setTwoPhase("epoch " + id + " on " + member).setUndecided(Int64Value.of(leads ? 0 : 1));
            }
            cluster.addShards(shard);
        }
        return Status.newBuilder().setAnsweredBy(member).setCluster(cluster).build();
    }

    /** The cluster of {@link #REPLICAS}: node-N leads shard N, its only replica. */
    private static Status oneReplicaEach(int member) {
        return status("node-" + member, REPLICAS, Map.of(0, "node-0", 1, "node-1", 2, "node-2", 3, "node-3"));
    }

    // ---------------------------------------------------------------- merge

    @Test
    void eachShardTakesTheRowOfTheServerThatKeepsIt() {
        Status merged = ShardsCommand.merge(List.of(oneReplicaEach(2), oneReplicaEach(0), oneReplicaEach(1),
                oneReplicaEach(3)));
        assertThat(merged.getAnsweredBy()).isEqualTo("node-2");
        List<Status.Shard> rows = merged.getCluster().getShardsList();
        assertThat(rows).hasSize(4);
        for (int id = 0; id < 4; id++) {
            Status.Shard row = rows.get(id);
            assertThat(row.getId()).isEqualTo(id);
            assertThat(row.getReplicasList()).containsExactly("node-" + id);
            assertThat(row.getLeader()).isEqualTo("node-" + id);
            assertThat(row.getLeaderAddress()).isEqualTo("node-" + id + ":4500");
            assertThat(row.getAppliedVersion().getValue()).isEqualTo(1000 + 100 * id);
            assertThat(row.getKvSizeBytesEstimate().getValue()).isEqualTo(2_000 * (id + 1));
            assertThat(row.getTwoPhase()).isEqualTo("epoch " + id + " on node-" + id);
            assertThat(row.getUndecided().getValue()).isZero();
        }
        // What the merge does not touch stays as the first answer has it.
        assertThat(merged.getCluster().getName()).isEqualTo("txkv");
        assertThat(rows.get(1).getBegin().toStringUtf8()).isEqualTo("a");
    }

    @Test
    void aServerWithoutAReplicaNeverOverridesOneWithIt() {
        // Shard 0 on node-0 and node-1, led by node-1; shard 1 on node-2 alone, leader not known yet.
        List<List<String>> replicas = List.of(List.of("node-0", "node-1"), List.of("node-2"));
        Map<Integer, String> leaders = new LinkedHashMap<>(Map.of(0, "node-1"));
        Status follower = status("node-0", replicas, leaders);
        Status leader = status("node-1", replicas, leaders);
        Status keepsShard1 = status("node-2", replicas, leaders);
        // A server with no replica of shard 0 that still names a leader and a move for it, as a guess.
        Status outsider = status("node-3", replicas, leaders);
        outsider = outsider.toBuilder().setCluster(outsider.getCluster().toBuilder().setShards(0,
                outsider.getCluster().getShards(0).toBuilder().setLeader("node-3").setTwoPhase("moving to node-3 (x)")))
                .build();

        Status merged = ShardsCommand.merge(List.of(outsider, follower, keepsShard1, leader));
        Status.Shard shard0 = merged.getCluster().getShards(0);
        assertThat(shard0.getLeader()).as("the leader's own row wins over the follower's").isEqualTo("node-1");
        assertThat(shard0.getAppliedVersion().getValue()).isEqualTo(1000);
        assertThat(shard0.getTwoPhase()).isEqualTo("epoch 0 on node-1");
        assertThat(shard0.getUndecided().getValue()).isZero();
        Status.Shard shard1 = merged.getCluster().getShards(1);
        assertThat(shard1.getLeader()).as("no leader known yet").isEmpty();
        assertThat(shard1.getAppliedVersion().getValue()).isEqualTo(1099);
        assertThat(shard1.getTwoPhase()).isEqualTo("epoch 1 on node-2");

        // Without the leader, the follower's replica stands; the outsider keeps its guess only where no replica answered.
        merged = ShardsCommand.merge(List.of(outsider, follower));
        assertThat(merged.getCluster().getShards(0).getLeader()).isEqualTo("node-1");
        assertThat(merged.getCluster().getShards(0).getAppliedVersion().getValue()).isEqualTo(999);
        assertThat(merged.getCluster().getShards(0).getTwoPhase()).isEqualTo("epoch 0 on node-0");
        // A first answer that keeps a replica is not overridden by a later one without it.
        merged = ShardsCommand.merge(List.of(follower, outsider));
        assertThat(merged.getCluster().getShards(0)).isEqualTo(follower.getCluster().getShards(0));
    }

    @Test
    void shardsWhoseServersDidNotAnswerStayAsTheFirstAnswerHasThem() {
        Status merged = ShardsCommand.merge(List.of(oneReplicaEach(0), oneReplicaEach(2)));
        List<Status.Shard> rows = merged.getCluster().getShardsList();
        assertThat(rows.get(0).getLeader()).isEqualTo("node-0");
        assertThat(rows.get(2).getLeader()).isEqualTo("node-2");
        for (int missing : List.of(1, 3)) {
            assertThat(rows.get(missing)).isEqualTo(oneReplicaEach(0).getCluster().getShards(missing));
            assertThat(rows.get(missing).hasAppliedVersion()).isFalse();
        }
        assertThat(ShardsCommand.merge(List.of(oneReplicaEach(1)))).isEqualTo(oneReplicaEach(1));
        String table = StatusSummary.shards(merged, ShardsCommand.ON_A_REPLICA).replace(System.lineSeparator(), "\n");
        String[] lines = table.split("\n");
        assertThat(lines[0]).endsWith("two-phase state (on a replica)");
        assertThat(lines[1]).contains("node-0     1000").endsWith("epoch 0 on node-0");
        assertThat(lines[2]).startsWith("1     [a, b)").endsWith("-");
        assertThat(lines[3]).contains("node-2     1200").endsWith("epoch 2 on node-2");
        // The columns line up however the rows were filled.
        int leader = lines[0].indexOf("leader");
        assertThat(lines[1].indexOf("node-0     1000")).isEqualTo(leader);
        assertThat(lines[2].indexOf(" - ") + 1).isEqualTo(leader);
        assertThat(lines[3].indexOf("epoch 2")).isEqualTo(lines[0].indexOf("two-phase"));
    }

    // ---------------------------------------------------------------- the command

    /**
     * Servers {@code hN:4500} answering as node-N of {@link #oneReplicaEach}; those in
     * {@link #down} do not answer. Like the remote client, asks the servers of a connection string
     * in order and returns the first answer.
     */
    private static final class FakeProvider extends AdminProviderStub {
        final Set<String> down = new HashSet<>();
        final List<String> statusConnections = new CopyOnWriteArrayList<>();
        final List<Duration> timeouts = new CopyOnWriteArrayList<>();
        Map<String, Status> answers = new LinkedHashMap<>();

        FakeProvider() {
            for (int n = 0; n < 4; n++) {
                answers.put("h" + n + ":4500", oneReplicaEach(n));
            }
        }

        @Override
        public byte[] status(String connection, Duration timeout) {
            statusConnections.add(connection);
            timeouts.add(timeout);
            for (String server : connection.split(",")) {
                if (!down.contains(server) && answers.containsKey(server)) {
                    return answers.get(server).toByteArray();
                }
            }
            throw new TxkvException(ErrorCode.CONNECTION_FAILED, "No server of " + connection + " answered");
        }






    }

    private final FakeProvider provider = new FakeProvider();

    /** Runs {@code txkv ARGS} as the launcher would, with the fake remote client. */
    private CliRun txkv(String... args) {
        return CliRun.run(List.of(new ShardsCommand(cluster -> new RemoteStatusSource(cluster, List.of(provider)))), args);
    }

    @Test
    void asksEveryServerAndShowsEachShardFromOneThatKeepsIt() {
        provider.down.add("h1:4500");
        CliRun run = txkv("shards", "-C", "h1:4500,h0:4500,h2:4500,h3:4500", "--timeout", "1500");
        assertThat(run.exitCode()).as(run.err()).isEqualTo(Main.EXIT_OK);
        assertThat(run.err()).isEmpty();
        String[] lines = run.out().split("\n");
        assertThat(lines).hasSize(5);
        assertThat(lines[0]).startsWith("id    range").endsWith("two-phase state (on a replica)");
        assertThat(lines[1]).startsWith("0     [, a)").contains("node-0     1000").endsWith("epoch 0 on node-0");
        assertThat(lines[2]).as("node-1 did not answer").startsWith("1     [a, b)").contains("node-1   ").endsWith("-");
        assertThat(lines[3]).contains("node-2     1200").endsWith("epoch 2 on node-2");
        assertThat(lines[4]).contains("node-3     1300").endsWith("epoch 3 on node-3");
        assertThat(provider.statusConnections.get(0)).isEqualTo("h1:4500,h0:4500,h2:4500,h3:4500");
        assertThat(provider.statusConnections.subList(1, provider.statusConnections.size()))
                .containsExactlyInAnyOrder("h1:4500", "h0:4500", "h2:4500", "h3:4500");
        assertThat(provider.timeouts).containsOnly(Duration.ofMillis(1500));
    }

    @Test
    void jsonHasTheMergedShards() throws Exception {
        CliRun run = txkv("shards", "-C", "h0:4500, h1:4500,h2:4500,h3:4500", "--json");
        assertThat(run.exitCode()).as(run.err()).isEqualTo(Main.EXIT_OK);
        Status.Builder back = Status.newBuilder();
        com.google.protobuf.util.JsonFormat.parser().merge(run.out(), back);
        assertThat(back.build().getCluster()).isEqualTo(ShardsCommand.merge(List.of(oneReplicaEach(0),
                oneReplicaEach(1), oneReplicaEach(2), oneReplicaEach(3))).getCluster());
        assertThat(back.getCluster().getShardsList()).allMatch(s -> !s.getLeader().isEmpty() && s.hasAppliedVersion());
    }

    @Test
    void oneServerOrACompleteFirstAnswerIsAskedOnce() {
        CliRun run = txkv("shards", "-C", "h2:4500");
        assertThat(run.exitCode()).as(run.err()).isEqualTo(Main.EXIT_OK);
        assertThat(run.out().split("\n")[0]).endsWith("two-phase state (on node-2)");
        assertThat(run.out().split("\n")[1]).startsWith("0     [, a)").endsWith("-");
        assertThat(provider.statusConnections).containsExactly("h2:4500");

        provider.statusConnections.clear();
        List<List<String>> everywhere = Collections.nCopies(2, List.of("node-0", "node-1"));
        provider.answers.put("h0:4500", status("node-0", everywhere, Map.of(0, "node-0", 1, "node-1")));
        run = txkv("shards", "-C", "h0:4500,h1:4500");
        assertThat(run.exitCode()).as(run.err()).isEqualTo(Main.EXIT_OK);
        assertThat(run.out().split("\n")[0]).endsWith("two-phase state (on node-0)");
        assertThat(provider.statusConnections).containsExactly("h0:4500,h1:4500");
    }

    @Test
    void noServerAnsweringFailsAsBefore() {
        provider.down.addAll(List.of("h0:4500", "h1:4500"));
        CliRun run = txkv("shards", "-C", "h0:4500,h1:4500");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(run.err()).contains("txkv shards: ", "connection_failed", "No server of h0:4500,h1:4500 answered");
        assertThat(run.out()).isEmpty();
        assertThat(provider.statusConnections).containsExactly("h0:4500,h1:4500");
    }
}
