package dev.txkv.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.replication.ReplicationConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Where a sharded cluster's groups live, the layout a data directory records, and the checks of
 * the server's shard flags.
 */
class ShardLayoutTest {
    @TempDir
    Path dir;

    @Test
    void shardsWrapAroundTheMembersAndTheControlGroupIsOnEveryMember() {
        ShardLayout layout = new ShardLayout(List.of("a", "b", "c"), 4, 2);
        assertThat(layout.membersOf(0)).containsExactly("a", "b");
        assertThat(layout.membersOf(1)).containsExactly("b", "c");
        assertThat(layout.membersOf(2)).containsExactly("c", "a");
        assertThat(layout.membersOf(3)).containsExactly("a", "b");
        assertThat(layout.membersOf(ShardLayout.CONTROL)).containsExactly("a", "b", "c");
        assertThat(layout.hosts("c", 0)).isFalse();
        assertThat(layout.hosts("c", 1)).isTrue();
        assertThat(layout.map().shards()).hasSize(4);
        assertThat(ShardLayout.groupName("txkv", 2)).isEqualTo("txkv-shard-2");
        assertThat(ShardLayout.groupName("txkv", ShardLayout.CONTROL)).isEqualTo("txkv-control");
    }

    @Test
    void badShardCountsAndReplicasAreRefused() {
        assertThatThrownBy(() -> new ShardLayout(List.of("a"), 0, 1)).isInstanceOf(TxkvException.class)
                .hasMessageContaining("shard count");
        assertThatThrownBy(() -> new ShardLayout(List.of("a"), ShardLayout.SHARDS_MAX + 1, 1))
                .isInstanceOf(TxkvException.class);
        assertThatThrownBy(() -> new ShardLayout(List.of("a", "b"), 2, 3)).isInstanceOf(TxkvException.class)
                .hasMessageContaining("Replicas per shard must be 1 to the 2 members");
    }

    @Test
    void aDataDirectoryKeepsItsLayoutAndRefusesAnother() throws Exception {
        ShardLayout four = new ShardLayout(List.of("a", "b", "c"), 4, 3);
        ShardedNode.checkLayout(dir, four, false);
        assertThat(Files.readString(dir.resolve(ShardedNode.LAYOUT_FILE), StandardCharsets.UTF_8))
                .isEqualTo("shards=4\nreplicas=3\nmembers=a,b,c\n");
        assertThat(ShardedNode.isSharded(dir)).isTrue();
        ShardedNode.checkLayout(dir, four, false);
        assertThatThrownBy(() -> ShardedNode.checkLayout(dir, new ShardLayout(List.of("a", "b", "c"), 2, 3), false))
                .isInstanceOf(TxkvException.class)
                .hasMessageContaining("holds a sharded cluster laid out as [shards=4 replicas=3 members=a,b,c]")
                .hasMessageContaining("started as [shards=2");
        // Members that joined later may be named in the flags; the recorded ones stay the layout's.
        ShardedNode.Recorded grown = ShardedNode.checkLayout(dir, new ShardLayout(List.of("a", "b", "c", "d"), 4, 3), false);
        assertThat(grown.layout().members()).containsExactly("a", "b", "c");
        assertThat(grown.joined()).isFalse();
        assertThatThrownBy(() -> ShardedNode.checkLayout(dir, new ShardLayout(List.of("a", "b", "d"), 4, 3), false))
                .isInstanceOf(TxkvException.class).hasMessageContaining("must name at least the members recorded");
        assertThatThrownBy(() -> ShardedNode.checkLayout(dir, four, true))
                .isInstanceOf(TxkvException.class).hasMessageContaining("founding member");
    }

    @Test
    void aJoiningMembersDirectoryStaysJoined() throws Exception {
        Path joiner = dir.resolve("joiner");
        ShardLayout five = new ShardLayout(List.of("a", "b", "c", "d"), 4, 2);
        assertThat(ShardedNode.checkLayout(joiner, five, true).joined()).isTrue();
        assertThat(Files.readString(joiner.resolve(ShardedNode.LAYOUT_FILE), StandardCharsets.UTF_8))
                .isEqualTo("shards=4\nreplicas=2\nmembers=a,b,c,d\njoined=true\n");
        assertThat(ShardedNode.checkLayout(joiner, five, false).joined()).isTrue();
    }

    @Test
    void anUnshardedDatabaseIsNotOpenedAsShardsNorAShardedOneAsUnsharded() throws Exception {
        Path unsharded = dir.resolve("plain");
        Files.createDirectories(unsharded.resolve("raft"));
        assertThatThrownBy(() -> ShardedNode.checkLayout(unsharded, new ShardLayout(List.of("a"), 2, 1), false))
                .isInstanceOf(TxkvException.class).hasMessageContaining("holds an unsharded database");

        Path sharded = dir.resolve("sharded");
        ShardedNode.checkLayout(sharded, new ShardLayout(List.of("a"), 2, 1), false);
        assertThatThrownBy(() -> TxkvServer.start(new ServerConfig().dataDir(sharded).grpcAddress("127.0.0.1", 0)))
                .isInstanceOf(TxkvException.class)
                .satisfies(e -> assertThat(((TxkvException) e).getError()).isEqualTo(ErrorCode.INVALID_OPTION_VALUE))
                .hasMessageContaining("holds a sharded cluster");
    }

    @Test
    void aShardedServerNeedsEveryOtherMembersClientAddress() {
        Map<String, String> raft = new LinkedHashMap<>();
        raft.put("a", "127.0.0.1:1");
        raft.put("b", "127.0.0.1:2");
        ServerConfig config = new ServerConfig().dataDir(dir.resolve("a")).grpcAddress("127.0.0.1", 0)
                .replication(new ReplicationConfig("a", raft)).shards(2, 2);
        assertThatThrownBy(() -> TxkvServer.start(config)).isInstanceOf(TxkvException.class)
                .hasMessageContaining("member b has none");
    }

    private static int run(StringWriter err, String... args) {
        CommandLine cli = new CommandLine(new ServerCommand());
        cli.setErr(new PrintWriter(err));
        cli.setOut(new PrintWriter(new StringWriter()));
        return cli.execute(args);
    }

    @Test
    void theShardFlagsAreCheckedBeforeAnythingStarts() {
        StringWriter err = new StringWriter();
        assertThat(run(err, "--data", dir.resolve("x").toString(), "--shards", "4")).isEqualTo(2);
        assertThat(err.toString()).contains("--shards needs --id and --peers");

        err = new StringWriter();
        assertThat(run(err, "--data", dir.resolve("x").toString(), "--id", "a", "--peers", "a@127.0.0.1:1",
                "--shards", "4", "--shard-replicas", "2")).isEqualTo(2);
        assertThat(err.toString()).contains("--shard-replicas must be 1 to the 1 members, got 2");

        err = new StringWriter();
        assertThat(run(err, "--data", dir.resolve("x").toString(), "--shard-replicas", "2")).isEqualTo(2);
        assertThat(err.toString()).contains("--shard-replicas needs --shards");

        err = new StringWriter();
        assertThat(run(err, "--data", dir.resolve("x").toString(), "--id", "a", "--peers", "a@127.0.0.1:1",
                "--shards", "0")).isEqualTo(2);
        assertThat(err.toString()).contains("--shards must be 1 to " + ShardLayout.SHARDS_MAX);
    }

    @Test
    void theAutomaticSplitFlagsAreChecked() {
        String[] sharded = {"--data", dir.resolve("x").toString(), "--id", "a", "--peers", "a@127.0.0.1:1", "--shards", "2"};
        StringWriter err = new StringWriter();
        assertThat(run(err, "--data", dir.resolve("x").toString(), "--split-size", "1MiB")).isEqualTo(2);
        assertThat(err.toString()).contains("--split-size needs --shards");

        for (String bad : new String[] {"64 MB", "-1", "12XiB", "", "99999999999999999GiB"}) {
            err = new StringWriter();
            assertThat(run(err, concat(sharded, "--split-size", bad))).as(bad).isEqualTo(2);
            assertThat(err.toString()).as(bad).contains("--split-size");
        }
        err = new StringWriter();
        assertThat(run(err, concat(sharded, "--split-load", "-5"))).isEqualTo(2);
        assertThat(err.toString()).contains("--split-load must be 0 (off) or a positive number");

        err = new StringWriter();
        assertThat(run(err, concat(sharded, "--split-check-interval", "5"))).isEqualTo(2);
        assertThat(err.toString()).contains("--split-check-interval must be 10 to 86400000 ms, got 5");

        err = new StringWriter();
        assertThat(run(err, "--data", dir.resolve("x").toString(), "--move-rate", "8MiB")).isEqualTo(2);
        assertThat(err.toString()).contains("--move-rate needs --shards");
        for (String bad : new String[] {"8 MB/s", "-1", "fast"}) {
            err = new StringWriter();
            assertThat(run(err, concat(sharded, "--move-rate", bad))).as(bad).isEqualTo(2);
            assertThat(err.toString()).as(bad).contains("--move-rate");
        }
    }

    @Test
    void aCopyIsPacedAtItsRate() {
        long started = System.nanoTime();
        // 256 KiB at 1 MiB/s are due a quarter of a second after the start: the pace waits for it.
        ReplicaCopies.pace(started, 256 << 10, 1 << 20);
        assertThat(System.nanoTime() - started).isGreaterThanOrEqualTo(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(240));
        // No rate: no wait, however much was copied.
        long before = System.nanoTime();
        ReplicaCopies.pace(before, Long.MAX_VALUE / 2, 0);
        assertThat(System.nanoTime() - before).isLessThan(java.util.concurrent.TimeUnit.SECONDS.toNanos(1));
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
