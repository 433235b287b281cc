package dev.txkv.replication;

import dev.txkv.engine.CommittedBatch;
import dev.txkv.engine.Engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.testkit.Poll;
import dev.txkv.testkit.Ports;
import java.time.Duration;
import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import dev.txkv.testkit.RaftStranger;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
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
    private final RaftReplica[] replicas = new RaftReplica[4];
    private Map<String, String> addresses;

    private static TxkvConfig config() {
        return new TxkvConfig();
    }

    private long snapshotEvery = 20_000;
    private long electionTimeoutMinMs = 500;

    private Engine start(int i) {
        ReplicationConfig rc = new ReplicationConfig("m" + i, addresses).clusterName("test")
                .electionTimeoutMs(electionTimeoutMinMs, electionTimeoutMinMs * 2)
                .snapshotEveryEntries(snapshotEvery).logSegmentBytes(snapshotEvery < 1000 ? 8192 : 64L << 20);
        // A member restarted on its port may find its last incarnation's socket not yet released.
        String address = addresses.get("m" + i);
        Ports.awaitFree(Integer.parseInt(address.substring(address.lastIndexOf(':') + 1)), Duration.ofSeconds(30));
        members[i] = RaftReplication.open(dir.resolve("m" + i), config(), rc, r -> replicas[i] = r);
        return members[i];
    }

    private void startAll() throws IOException {
        addresses = new LinkedHashMap<>();
        for (int i = 0; i < 3; i++) {
            addresses.put("m" + i, "127.0.0.1:" + Ports.freePort());
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

    private int awaitLeader(int excluded) {
        return Poll.until("a leader other than member " + excluded, Duration.ofSeconds(30), () -> {
            for (int i = 0; i < members.length; i++) {
                if (i != excluded && members[i] != null && members[i].isLeading()) {
                    return i;
                }
            }
            return -1;
        }, i -> i >= 0);
    }

    /**
     * Reads {@code key} from {@code member} at a fresh read version of the leader, retrying
     * until the member has caught up (each attempt takes a new read version: one kept for
     * longer than the MVCC window would be too old).
     */
    private static byte[] readWhenCaughtUp(Database leaderDb, Engine member, byte[] key) {
        // A failed read means not caught up yet (future version, installing a snapshot).
        return Poll.until("a value of " + new String(key, UTF_8) + " on the member", Duration.ofSeconds(90), () -> {
            long rv = leaderDb.read(tr -> tr.getReadVersion().join());
            return member.get(key, rv).join();
        }, v -> v != null);
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
        assertThat(readWhenCaughtUp(db2, members[leader], b("after"))).isEqualTo(b("failover"));
    }

    /** Commits keys before0 .. before{count-1}, each with value "x", one transaction each. */
    private static void commitBefore(Database db, int count) {
        for (int i = 0; i < count; i++) {
            int n = i;
            db.run(tr -> {
                tr.set(b("before" + n), b("x"));
                return null;
            });
        }
    }

    @Test
    void aLeaderStoppedCleanlyHandsOverLeadershipWithoutWaitingForAnElection() throws Exception {
        // Long election timeouts: without a handover no one could lead within 3 s of the stop.
        electionTimeoutMinMs = 3_000;
        startAll();
        int leader = awaitLeader(-1);
        commitBefore(Txkv.open(members[leader], config()), 3);
        long stop = System.nanoTime();
        java.util.concurrent.atomic.AtomicLong tookOverNanos = new java.util.concurrent.atomic.AtomicLong(-1);
        Thread watcher = new Thread(() -> {
            while (tookOverNanos.get() < 0 && System.nanoTime() - stop < TimeUnit.SECONDS.toNanos(20)) {
                for (int i = 0; i < 3; i++) {
                    Engine e = members[i];
                    if (i != leader && e != null && e.isLeading()) {
                        tookOverNanos.compareAndSet(-1, System.nanoTime());
                    }
                }
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        watcher.start();
        members[leader].close();
        members[leader] = null;
        watcher.join(25_000);
        assertThat(tookOverNanos.get()).as("another member leads").isPositive();
        long millis = TimeUnit.NANOSECONDS.toMillis(tookOverNanos.get() - stop);
        System.out.println("leadership handed over " + millis + " ms after the clean stop began");
        assertThat(millis).as("a new leader before any election timeout could pass").isLessThan(3_000);
    }

    @Test
    void aRaftPortInUseFailsTheStartWithAClearErrorAndTheProcessGoesOn() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(Ports.freePort(), 1,
                java.net.InetAddress.getLoopbackAddress())) {
            addresses = new LinkedHashMap<>();
            addresses.put("m0", "127.0.0.1:" + taken.getLocalPort());
            ReplicationConfig rc = new ReplicationConfig("m0", addresses).clusterName("test");
            // Ratis would end the process here (System.exit) were its exit not disabled.
            assertThatThrownBy(() -> RaftReplication.open(dir.resolve("m0"), config(), rc))
                    .isInstanceOf(TxkvException.class)
                    .hasMessageContaining("Raft port 127.0.0.1:" + taken.getLocalPort() + " is in use");
        }
        // The directory is not held by the failed start: the member starts once the port is free.
        addresses.put("m0", "127.0.0.1:" + Ports.freePort());
        start(0);
        Poll.until("the single member leads", Duration.ofSeconds(30), () -> members[0].isLeading());
    }

    @Test
    void aMemberCanBeAddedOnlineAndCatchesUp() throws Exception {
        startAll();
        int leader = awaitLeader(-1);
        Database db = Txkv.open(members[leader], config());
        commitBefore(db, 20);
        addresses.put("m3", "127.0.0.1:" + Ports.freePort());
        start(3);
        members[leader].setMembers(addresses).get(30, TimeUnit.SECONDS);
        assertThat(members[leader].replicationState().orElseThrow().members().keySet()).asString().contains("m3");
        db.run(tr -> {
            tr.set(b("after"), b("join"));
            return null;
        });
        assertThat(readWhenCaughtUp(db, members[3], b("after"))).isEqualTo(b("join"));
        assertThat(readWhenCaughtUp(db, members[3], b("before19"))).isEqualTo(b("x"));
    }

    @Test
    void theLeaderCanBeRemovedOnlineAndTheOthersCarryOn() throws Exception {
        startAll();
        int leader = awaitLeader(-1);
        Database db = Txkv.open(members[leader], config());
        commitBefore(db, 20);
        Map<String, String> remaining = new LinkedHashMap<>(addresses);
        remaining.remove("m" + leader);
        members[leader].setMembers(remaining).get(30, TimeUnit.SECONDS);

        // The removed leader steps down; the two that remain elect one of themselves.
        int next = awaitLeader(leader);
        assertThat(members[next].replicationState().orElseThrow().members().keySet()).asString().doesNotContain("m" + leader);
        Database db2 = Txkv.open(members[next], config());
        db2.run(tr -> {
            tr.set(b("after"), b("removal"));
            return null;
        });
        java.util.List<dev.txkv.KeyValue> before = db2.read(tr -> tr.getRange(b("before"), b("beforf")).asList().join());
        assertThat(before).hasSize(20);
        int other = 3 - leader - next;
        assertThat(readWhenCaughtUp(db2, members[other], b("after"))).isEqualTo(b("removal"));
        // The removed member takes no commits and hands out no read versions.
        assertThat(members[leader].isLeading()).as("%s", members[leader].replicationState()).isFalse();
        assertThat(members[leader].replicationState().orElseThrow().role()).isEqualTo("removed");
        assertThat(members[leader].replicationState().orElseThrow().leader()).isEmpty();
        assertThatThrownBy(() -> members[leader].getReadVersion().join()).isInstanceOf(CompletionException.class)
                .cause().satisfies(e -> assertThat(((TxkvException) e).getCode()).isEqualTo(ErrorCode.NOT_LEADER.code()));
    }

    @Test
    void aMemberBehindThePurgedLogCatchesUpBySnapshotAndSurvivesARestart() throws Exception {
        snapshotEvery = 20;
        startAll();
        int leader = awaitLeader(-1);
        int lagging = (leader + 2) % 3;
        members[lagging].close();
        members[lagging] = null;
        Database db = Txkv.open(members[leader], config());
        for (int i = 0; i < 150; i++) {
            int n = i;
            db.run(tr -> {
                tr.set(b("s" + n), b("v" + n));
                return null;
            });
        }
        // The other members have snapshotted and purged the log the lagging one still needs.
        start(lagging);
        assertThat(readWhenCaughtUp(db, members[lagging], b("s149"))).isEqualTo(b("v149"));
        long rv = db.read(tr -> tr.getReadVersion().join());
        java.util.List<dev.txkv.KeyValue> rows = members[lagging].getRange(b("s"), b("t"), 1000, 1 << 20, false, rv)
                .join().rows();
        assertThat(rows).hasSize(150);

        // Restarting a member that applied entries past its newest snapshot loses nothing and
        // keeps applying (the replayed entries it already holds are skipped).
        for (int i = 0; i < 5; i++) {
            int n = i;
            db.run(tr -> {
                tr.set(b("extra" + n), b("x"));
                return null;
            });
        }
        assertThat(readWhenCaughtUp(db, members[lagging], b("extra4"))).isEqualTo(b("x"));
        members[lagging].close();
        start(lagging);
        db.run(tr -> {
            tr.set(b("after-restart"), b("y"));
            return null;
        });
        assertThat(readWhenCaughtUp(db, members[lagging], b("after-restart"))).isEqualTo(b("y"));
        assertThat(readWhenCaughtUp(db, members[lagging], b("s0"))).isEqualTo(b("v0"));
    }

    private static void assertRefused(CompletableFuture<?> future, String what) {
        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).as(what).isInstanceOf(ExecutionException.class);
    }

    @Test
    void aStrangerOnTheRaftPortCanNeitherAppendNorChangeTheMembership() throws Exception {
        startAll();
        int leader = awaitLeader(-1);
        Database db = Txkv.open(members[leader], config());
        commitBefore(db, 5);
        byte[] forgedKey = b("forged-by-a-stranger");
        // The forgery is a sound record in the published layout, not noise.
        assertThat(CommittedBatch.decode(RaftStranger.forgedBatch(forgedKey)).transactions()).hasSize(1);

        List<RaftStranger.Attempt> attempts = RaftStranger.attack("test", addresses, forgedKey);

        assertThat(attempts).hasSize(15).allSatisfy(a -> assertThat(a.refused()).as("%s", a).isTrue());
        assertThat(attempts).allSatisfy(a -> assertThat(a.answer()).as("%s", a).contains("PERMISSION_DENIED"));
        long refused = 0;
        for (int i = 0; i < 3; i++) {
            assertThat(members[i].health().failed()).as("m%d %s", i, members[i].health()).isFalse();
            refused += members[i].health().refusedRaftCalls();
        }
        assertThat(refused).isEqualTo(15);
        // The cluster goes on committing, with its membership whole, and nothing forged is readable.
        db.run(tr -> {
            tr.set(b("after"), b("stranger"));
            return null;
        });
        assertThat(members[leader].replicationState().orElseThrow().members().keySet()).asString().contains("m0", "m1", "m2");
        for (int i = 0; i < 3; i++) {
            assertThat(readWhenCaughtUp(db, members[i], b("after"))).isEqualTo(b("stranger"));
            long rv = db.read(tr -> tr.getReadVersion().join());
            assertThat(members[i].get(forgedKey, rv).join()).isNull();
        }
    }

    @Test
    void theStrangerNoticesAnUnguardedRaftPort() throws Exception {
        // The planted bug: members that serve Ratis's client and admin services and admit any entry.
        RaftReplica.unguardedForTest = true;
        try {
            startAll();
        } finally {
            RaftReplica.unguardedForTest = false;
        }
        awaitLeader(-1);
        List<RaftStranger.Attempt> attempts = RaftStranger.attack("test", addresses, b("forged"));
        attempts.forEach(a -> System.out.println("unguarded: " + a));
        assertThat(attempts).as("attempts the stranger saw accepted").anySatisfy(a -> assertThat(a.refused()).isFalse());
        assertThat(attempts.stream().filter(a -> a.what().equals("garbage log entry")))
                .as("garbage reached the log and failed the members that applied it")
                .anySatisfy(a -> assertThat(a.refused()).isTrue());
    }

    @Test
    void theLeaderAdmitsOnlySoundBatchesFromItsOwnPipeline() throws Exception {
        startAll();
        int leader = awaitLeader(-1);
        RaftReplica replica = replicas[leader];
        byte[] forged = RaftStranger.forgedBatch(b("forged-in-process"));
        // Past the network guard (in-process, as a bug or a plug-in could): another client id is refused...
        assertRefused(submit(replica, ClientId.randomId(), forged), "a batch from another client id");
        // ... and so is a malformed record, even from the pipeline's own id.
        assertRefused(submit(replica, replica.pipelineClientId(), new byte[16]), "garbage from the pipeline's id");
        assertThat(members[leader].health().refusedLogEntries()).isEqualTo(2);
        Database db = Txkv.open(members[leader], config());
        db.run(tr -> {
            tr.set(b("still"), b("committing"));
            return null;
        });
        long rv = db.read(tr -> tr.getReadVersion().join());
        assertThat(members[leader].get(b("forged-in-process"), rv).join()).isNull();
        assertThat(members[leader].health().failed()).isFalse();
    }

    private static CompletableFuture<RaftClientReply> submit(RaftReplica replica, ClientId client, byte[] payload)
            throws IOException {
        RaftClientRequest request = RaftClientRequest.newBuilder().setClientId(client)
                .setServerId(replica.raftServer().getId()).setGroupId(replica.group().getGroupId()).setCallId(1)
                .setMessage(Message.valueOf(ByteString.copyFrom(payload)))
                .setType(RaftClientRequest.writeRequestType()).build();
        return replica.raftServer().submitClientRequestAsync(request).thenApply(reply -> {
            if (!reply.isSuccess()) {
                throw new CompletionException(reply.getException());
            }
            return reply;
        });
    }

    @Test
    void aFollowerThatCannotApplyStopsServingTheOthersGoOnAndItIsRebuilt() throws Exception {
        startAll();
        int leader = awaitLeader(-1);
        int broken = (leader + 1) % 3;
        Database db = Txkv.open(members[leader], config());
        commitBefore(db, 5);
        FailPoints.arm(FailPoints.applyOf("m" + broken));
        try {
            db.run(tr -> {
                tr.set(b("poison"), b("x"));
                return null;
            });
            awaitFailed(members[broken]);
        } finally {
            FailPoints.disarm(FailPoints.applyOf("m" + broken));
        }
        // It serves nothing and says why; the other two go on committing and serving.
        Engine failed = members[broken];
        assertThat(failed.health().failure()).contains("failed to apply log entry");
        assertThat(failed.replicationState().orElseThrow().role()).isEqualTo("failed");
        assertThatThrownBy(() -> failed.get(b("before0"), failed.health().failedLogIndex()).join())
                .cause().satisfies(e -> assertThat(((TxkvException) e).getCode())
                        .isEqualTo(ErrorCode.PROCESS_BEHIND.code()));
        assertThatThrownBy(() -> failed.getReadVersion().join()).cause().satisfies(e ->
                assertThat(((TxkvException) e).getCode()).isEqualTo(ErrorCode.NOT_LEADER.code()));
        db.run(tr -> {
            tr.set(b("after"), b("failure"));
            return null;
        });
        int other = 3 - leader - broken;
        assertThat(readWhenCaughtUp(db, members[other], b("after"))).isEqualTo(b("failure"));

        // The documented rebuild: remove it, wipe its directory, start it afresh, add it back.
        rebuild(leader, broken);
        assertThat(readWhenCaughtUp(db, members[broken], b("after"))).isEqualTo(b("failure"));
        assertThat(readWhenCaughtUp(db, members[broken], b("poison"))).isEqualTo(b("x"));
        assertThat(members[broken].health().failed()).isFalse();
    }

    @Test
    void aLeaderThatCannotApplyStepsAsideAndTheOthersElectAnother() throws Exception {
        startAll();
        int leader = awaitLeader(-1);
        Database db = Txkv.open(members[leader], config());
        commitBefore(db, 5);
        FailPoints.arm(FailPoints.applyOf("m" + leader));
        try {
            // Not db.run: its retry loop would retry not_leader on this member for ever.
            CompletableFuture<?> commit = members[leader].commit(new dev.txkv.spi.CommitRequest(-1, List.of(),
                    List.of(), List.of(new dev.txkv.spi.Mutation(0, b("poison"), b("x"))), null, false));
            assertThatThrownBy(() -> commit.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
            awaitFailed(members[leader]);
        } finally {
            FailPoints.disarm(FailPoints.applyOf("m" + leader));
        }
        int next = awaitLeader(leader);
        Database db2 = Txkv.open(members[next], config());
        db2.run(tr -> {
            tr.set(b("after"), b("new-leader"));
            return null;
        });
        byte[] before = db2.read(tr -> tr.get(b("before4")).join());
        assertThat(before).isEqualTo(b("x"));
        assertThat(members[leader].isLeading()).isFalse();
    }

    private static void awaitFailed(Engine member) {
        Poll.until("the member to report itself failed", Duration.ofSeconds(30), () -> member.health().failed());
    }

    /** docs/replication.md, "Rebuild a failed member", through the engine's API. */
    private void rebuild(int leader, int broken) throws Exception {
        Map<String, String> without = new LinkedHashMap<>(addresses);
        without.remove("m" + broken);
        members[leader].setMembers(without).get(30, TimeUnit.SECONDS);
        members[broken].close();
        members[broken] = null;
        SnapshotStore.deleteTree(dir.resolve("m" + broken));
        start(broken);
        members[leader].setMembers(addresses).get(60, TimeUnit.SECONDS);
    }
}
