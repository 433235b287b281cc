package dev.txkv.replication;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.engine.ControlSequencer;
import dev.txkv.engine.Engine;
import dev.txkv.engine.ShardConfig;
import dev.txkv.engine.ShardNetwork;
import dev.txkv.engine.VersionSequencer;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.Environment;
import dev.txkv.spi.RangeChunk;
import dev.txkv.spi.ReadStamp;
import dev.txkv.spi.ShardMap;
import dev.txkv.spi.ShardRouter;
import dev.txkv.testkit.Poll;
import dev.txkv.testkit.ShardedAccounts;
import dev.txkv.testkit.Ports;
import dev.txkv.testkit.Seeds;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sharded engines on real Raft groups: four shards and the control group (the sequencer), each
 * a Raft group of three members, all on one Raft host per member. Bank transfers between accounts on different shards (two-phase
 * commit) run from several threads while a reader checks, in one transaction spanning every
 * shard, that the total never changes (no fractured read); the member leading the control group
 * is stopped mid-run, so the sequencer starts a new epoch elsewhere while coordinators and
 * participants lose their leaders, and then it comes back. Afterwards the total
 * holds and no member keeps an undecided slice, a deferred batch or an open decision.
 */
class ShardedRaftTest {
    private static final int MEMBERS = 3;
    private static final int SHARDS = 4;
    private static final int ACCOUNTS = 8;
    private static final long INITIAL = 100;

    @TempDir
    Path dir;

    private final Map<String, String> members = new LinkedHashMap<>();
    private final ShardMap map = ShardMap.evenSplit(SHARDS);
    /** sequencers[member]: the sequencer over that member's engine of the control group; null while down. */
    private final ControlSequencer[] sequencers = new ControlSequencer[MEMBERS];
    private final RaftHost[] hosts = new RaftHost[MEMBERS];
    /** engines[member] is null while the member is down; else shard id to its engine. */
    @SuppressWarnings("unchecked")
    private final Map<Integer, Engine>[] engines = new Map[MEMBERS];
    private final Engine[] controls = new Engine[MEMBERS];

    @AfterEach
    void stopAll() {
        for (int m = 0; m < MEMBERS; m++) {
            stop(m);
        }
    }

    private static TxkvConfig config() {
        return new TxkvConfig().durable(false);
    }

    private ReplicationConfig replication(int member) {
        return new ReplicationConfig("m" + member, members).electionTimeoutMs(500, 1000);
    }

    private synchronized void start(int m) {
        RaftHost host = new RaftHost(replication(m), dir.resolve("m" + m).resolve("raft"), 16 << 20, true);
        Map<Integer, Engine> byShard = new ConcurrentHashMap<>();
        for (ShardMap.Shard s : map.shards()) {
            ReplicationConfig rc = replication(m).clusterName("shard-" + s.id());
            byShard.put(s.id(), Engine.builder(dir.resolve("m" + m).resolve("shard-" + s.id()), config())
                    .shard(new ShardConfig(s.id(), map, network, 200, 2_000, 500))
                    .log(RaftReplication.log(rc, host)).open());
        }
        ReplicationConfig controlGroup = replication(m).clusterName("control");
        Engine control = Engine.builder(dir.resolve("m" + m).resolve("control"), config())
                .log(RaftReplication.log(controlGroup, host)).open();
        controls[m] = control;
        sequencers[m] = new ControlSequencer(control, Environment.SYSTEM, 2_000);
        hosts[m] = host;
        engines[m] = byShard;
        host.start();
    }

    private void stop(int m) {
        Map<Integer, Engine> byShard;
        RaftHost host;
        Engine control;
        synchronized (this) {
            byShard = engines[m];
            host = hosts[m];
            control = controls[m];
            engines[m] = null;
            hosts[m] = null;
            controls[m] = null;
            sequencers[m] = null;
        }
        if (byShard != null) {
            byShard.values().forEach(Engine::close);
        }
        if (control != null) {
            control.close();
        }
        if (host != null) {
            host.close();
        }
    }

    /** The engine that leads {@code shard} now; not_leader if none does. */
    private synchronized Engine leader(int shard) {
        for (Map<Integer, Engine> byShard : engines) {
            if (byShard != null && byShard.get(shard).isLeading()) {
                return byShard.get(shard);
            }
        }
        throw new TxkvException(ErrorCode.NOT_LEADER, "no leader of shard " + shard + " now");
    }

    /** The sequencer of the member that leads the control group now; not_leader if none does. */
    private synchronized ControlSequencer sequencer() {
        for (int m = 0; m < MEMBERS; m++) {
            if (controls[m] != null && controls[m].isLeading()) {
                return sequencers[m];
            }
        }
        throw new TxkvException(ErrorCode.NOT_LEADER, "no leader of the control group now");
    }

    private <T> CompletableFuture<T> onSequencer(Function<ControlSequencer, CompletableFuture<T>> call) {
        try {
            return call.apply(sequencer());
        } catch (TxkvException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private <T> CompletableFuture<T> onLeader(int shard, Function<Engine, CompletableFuture<T>> call) {
        try {
            return call.apply(leader(shard));
        } catch (TxkvException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Every shard reaches the others and the sequencer directly, in this process. */
    private final ShardNetwork network = new ShardNetwork() {
        @Override
        public CompletableFuture<VersionSequencer.Grant> grant(int coordinator, int[] participants) {
            return onSequencer(s -> s.grant(coordinator, participants));
        }

        @Override
        public CompletableFuture<Long> epoch() {
            return onSequencer(ControlSequencer::epoch);
        }

        @Override
        public CompletableFuture<Integer> coordinatorOf(long version) {
            return onSequencer(s -> s.coordinatorOf(version));
        }

        @Override
        public CompletableFuture<Void> prepare(int shard, Prepare request) {
            return onLeader(shard, e -> e.prepare(request));
        }

        @Override
        public CompletableFuture<Void> decided(int shard, long version, boolean commit) {
            return onLeader(shard, e -> e.decided(version, commit));
        }

        @Override
        public CompletableFuture<Outcome> queryDecision(int coordinator, long version) {
            return onLeader(coordinator, e -> e.queryDecision(version));
        }
    };

    /** What the client's router reaches: the sequencer and each shard's current leader. */
    private final ShardRouter.Shards clientSide = new ShardRouter.Shards() {
        @Override
        public ShardMap map() {
            return map;
        }

        @Override
        public CompletableFuture<ReadStamp> readVersion() {
            return onSequencer(ControlSequencer::readVersion);
        }

        @Override
        public CompletableFuture<byte[]> get(int shard, byte[] key, ReadStamp s) {
            return onLeader(shard, e -> e.getAt(key, s.version(), s.epoch(), s.lastGrant(shard)));
        }

        @Override
        public CompletableFuture<RangeChunk> getRange(int shard, byte[] begin, byte[] end, int rowLimit, long byteLimit,
                boolean reverse, ReadStamp s) {
            return onLeader(shard, e -> e.getRangeAt(begin, end, rowLimit, byteLimit, reverse, s.version(), s.epoch(),
                    s.lastGrant(shard)));
        }

        @Override
        public CompletableFuture<CommitResult> commit(int shard, CommitRequest request) {
            return onLeader(shard, e -> e.commit(request));
        }

        @Override
        public CompletableFuture<Void> watch(int shard, byte[] key, ReadStamp s) {
            return onLeader(shard, e -> e.watchAt(key, s.version(), s.epoch(), s.lastGrant(shard)));
        }

        @Override
        public void close() {
        }
    };

    private static byte[] account(int i) {
        return ShardedAccounts.key(i, ACCOUNTS);
    }

    @Test
    void crossShardTransfersKeepTheTotalThroughALostMemberAndLeaveNothingInDoubt() throws Exception {
        for (int m = 0; m < MEMBERS; m++) {
            members.put("m" + m, "127.0.0.1:" + Ports.freePort());
        }
        for (int m = 0; m < MEMBERS; m++) {
            start(m);
        }
        for (int s = 0; s < SHARDS; s++) {
            int shard = s;
            Poll.until("a leader of shard " + s, Duration.ofSeconds(30), () -> {
                try {
                    return leader(shard);
                } catch (TxkvException e) {
                    return null;
                }
            }, e -> e != null);
        }
        Database db = Txkv.open(new ShardRouter(clientSide), config());
        db.run(tr -> {
            for (int i = 0; i < ACCOUNTS; i++) {
                tr.set(account(i), ShardedAccounts.amount(INITIAL));
            }
            return null;
        });
        assertThat(ShardedAccounts.total(db)).isEqualTo(ACCOUNTS * INITIAL);
        // A watch on a key of one shard fires when a cross-shard transaction changes it.
        CompletableFuture<Void> watch = db.run(tr -> tr.watch(account(ACCOUNTS - 1)));
        assertThat(watch).isNotDone();
        db.run(tr -> {
            tr.set(account(0), ShardedAccounts.amount(INITIAL - 1));
            tr.set(account(ACCOUNTS - 1), ShardedAccounts.amount(INITIAL + 1));
            return null;
        });
        watch.get(10, java.util.concurrent.TimeUnit.SECONDS);

        long seed = Seeds.seed();
        AtomicBoolean done = new AtomicBoolean();
        AtomicLong transfers = new AtomicLong();
        AtomicLong checks = new AtomicLong();
        List<Long> wrongTotals = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            Random random = new Random(seed + t);
            threads.add(new Thread(() -> {
                while (!done.get()) {
                    int from = random.nextInt(ACCOUNTS);
                    int to = (from + 1 + random.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
                    long moved = 1 + random.nextInt(5);
                    try {
                        db.run(tr -> {
                            long a = ShardedAccounts.balance(tr.get(account(from)).join());
                            long b = ShardedAccounts.balance(tr.get(account(to)).join());
                            tr.set(account(from), ShardedAccounts.amount(a - moved));
                            tr.set(account(to), ShardedAccounts.amount(b + moved));
                            return null;
                        });
                        transfers.incrementAndGet();
                    } catch (TxkvException e) {
                        // Out of retries while a member was down: the transfer may or may not have happened; both keep the total.
                    }
                }
            }, "transfer-" + t));
        }
        threads.add(new Thread(() -> {
            while (!done.get()) {
                try {
                    long sum = ShardedAccounts.total(db);
                    checks.incrementAndGet();
                    if (sum != ACCOUNTS * INITIAL) {
                        wrongTotals.add(sum);
                    }
                } catch (TxkvException e) {
                    // retried out while a member was down
                }
            }
        }, "reader"));
        threads.forEach(Thread::start);
        Thread.sleep(3_000);
        int sequencerMember = java.util.Arrays.asList(sequencers).indexOf(sequencer());
        long epochBefore = sequencer().epoch().join();
        stop(sequencerMember);
        Thread.sleep(4_000);
        long epochAfter = Poll.until("a sequencer again", Duration.ofSeconds(30), () -> {
            try {
                return sequencer().epoch().join();
            } catch (RuntimeException e) {
                return null;
            }
        }, e -> e != null);
        assertThat(epochAfter).as("the sequencer's epoch after its member stopped").isGreaterThan(epochBefore);
        start(sequencerMember);
        Thread.sleep(3_000);
        done.set(true);
        for (Thread t : threads) {
            t.join(60_000);
        }
        System.out.printf("[txkv] sharded Raft bank: %d transfers, %d whole reads (seed %d)%n", transfers.get(),
                checks.get(), seed);
        assertThat(wrongTotals).as("totals seen by whole reads").isEmpty();
        assertThat(transfers.get()).isPositive();
        assertThat(ShardedAccounts.total(db)).isEqualTo(ACCOUNTS * INITIAL);
        Poll.until("every member settled: no undecided slice, deferred batch or open decision", Duration.ofSeconds(30),
                this::inDoubt, String::isEmpty);
    }

    private synchronized String inDoubt() {
        StringBuilder out = new StringBuilder();
        for (int m = 0; m < MEMBERS; m++) {
            for (Map.Entry<Integer, Engine> e : engines[m].entrySet()) {
                int[] c = e.getValue().twoPhaseCounts().orElseThrow();
                if (c[0] + c[1] + c[2] > 0) {
                    out.append("m").append(m).append(" shard ").append(e.getKey()).append(": ")
                            .append(java.util.Arrays.toString(c)).append("; ");
                }
            }
        }
        return out.toString();
    }
}
