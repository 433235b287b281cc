package dev.txkv.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three replicated engines in one JVM on 127.0.0.1: commits go through the leader and reach
 * every member; followers refuse commits and read versions (not_leader) but serve reads at a
 * version; after the leader stops, another takes over with every acknowledged commit.
 */
class ReplicationTest {
    @TempDir
    Path dir;
    private final Engine[] members = new Engine[4];
    private Map<String, String> addresses;

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static TxkvConfig config() {
        return new TxkvConfig();
    }

    private Engine start(int i) {
        ReplicationConfig rc = new ReplicationConfig("m" + i, addresses).clusterName("test").electionTimeoutMs(500, 1000);
        members[i] = Engine.openReplicated(dir.resolve("m" + i), config(), rc);
        return members[i];
    }

    private void startAll() throws IOException {
        addresses = new LinkedHashMap<>();
        for (int i = 0; i < 3; i++) {
            addresses.put("m" + i, "127.0.0.1:" + freePort());
        }
        for (int i = 0; i < 3; i++) {
            start(i);
        }
    }

    @AfterEach
    void stopAll() {
        for (Engine e : members) {
            if (e != null) {
                e.close();
            }
        }
    }

    private int awaitLeader(int excluded) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (int i = 0; i < members.length; i++) {
                if (i != excluded && members[i] != null && members[i].isLeading()) {
                    return i;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no leader within 30 s");
    }

    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    @Test
    void commitsReplicateFollowersServeReadsAndALeaderCanBeReplaced() throws Exception {
        startAll();
        int leader = awaitLeader(-1);
        Database db = Txkv.open(members[leader], config());
        for (int i = 0; i < 50; i++) {
            int n = i;
            db.run(tr -> {
                tr.set(b("k" + n), b("v" + n));
                return null;
            });
        }
        long readVersion = db.read(tr -> tr.getReadVersion().join());

        int follower = (leader + 1) % 3;
        Engine f = members[follower];
        assertThatThrownBy(() -> f.getReadVersion().join()).isInstanceOf(CompletionException.class)
                .cause().satisfies(e -> assertThat(((TxkvException) e).getCode()).isEqualTo(ErrorCode.NOT_LEADER.code()));
        assertThatThrownBy(() -> f.commit(new dev.txkv.spi.CommitRequest(-1, java.util.List.of(), java.util.List.of(),
                java.util.List.of(new dev.txkv.spi.Mutation(0, b("x"), b("y"))), null, false)).join())
                .isInstanceOf(CompletionException.class)
                .cause().satisfies(e -> assertThat(((TxkvException) e).getCode()).isEqualTo(ErrorCode.NOT_LEADER.code()));
        // A follower read at the leader's read version sees every commit before it.
        for (int i = 0; i < 50; i++) {
            assertThat(f.get(b("k" + i), readVersion).join()).isEqualTo(b("v" + i));
        }

        members[leader].close();
        members[leader] = null;
        int next = awaitLeader(leader);
        Database db2 = Txkv.open(members[next], config());
        java.util.List<dev.txkv.KeyValue> all = db2.read(tr -> tr.getRange(b("k"), b("l")).asList().join());
        assertThat(all).hasSize(50);
        db2.run(tr -> {
            tr.set(b("after"), b("failover"));
            return null;
        });
        byte[] after = db2.read(tr -> tr.get(b("after")).join());
        assertThat(after).isEqualTo(b("failover"));

        // The old leader comes back as a follower and catches up from the log.
        start(leader);
        long rv = db2.read(tr -> tr.getReadVersion().join());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        byte[] seen = null;
        while (System.nanoTime() < deadline && seen == null) {
            try {
                seen = members[leader].get(b("after"), rv).join();
            } catch (CompletionException e) {
                Thread.sleep(50);
            }
        }
        assertThat(seen).isEqualTo(b("failover"));
    }

    @Test
    void aMemberCanBeAddedOnlineAndCatchesUp() throws Exception {
        startAll();
        int leader = awaitLeader(-1);
        Database db = Txkv.open(members[leader], config());
        for (int i = 0; i < 20; i++) {
            int n = i;
            db.run(tr -> {
                tr.set(b("before" + n), b("x"));
                return null;
            });
        }
        addresses.put("m3", "127.0.0.1:" + freePort());
        start(3);
        members[leader].setMembers(addresses).get(30, TimeUnit.SECONDS);
        assertThat(members[leader].replicationStatus().get("members")).asString().contains("m3");
        db.run(tr -> {
            tr.set(b("after"), b("join"));
            return null;
        });
        long rv = db.read(tr -> tr.getReadVersion().join());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        byte[] seen = null;
        while (System.nanoTime() < deadline && seen == null) {
            try {
                seen = members[3].get(b("after"), rv).join();
            } catch (CompletionException e) {
                Thread.sleep(50);
            }
        }
        assertThat(seen).isEqualTo(b("join"));
        assertThat(members[3].get(b("before19"), rv).join()).isEqualTo(b("x"));
    }
}
