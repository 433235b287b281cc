package dev.txkv.remote;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.Database;
import dev.txkv.KeyValue;
import dev.txkv.Txkv;
import dev.txkv.TxkvException;
import dev.txkv.engine.Engine;
import dev.txkv.replication.ReplicationConfig;
import dev.txkv.server.ServerConfig;
import dev.txkv.server.TxkvServer;
import dev.txkv.testkit.Poll;
import dev.txkv.testkit.ShardedAccounts;
import dev.txkv.testkit.Ports;
import dev.txkv.testkit.Seeds;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sharded cluster of three txkv servers in this JVM on 127.0.0.1, four shards, reached
 * through the ordinary client ({@code Txkv.open("a,b,c")}) and through one server alone: every
 * server serves the whole keyspace and forwards what it does not lead. Bank transfers between
 * accounts on different shards (two-phase commit) run from several threads while readers check,
 * in one transaction spanning every shard, that the total never changes; one server is stopped
 * mid-run. Afterwards the total holds and no remaining replica keeps an undecided slice, a
 * deferred batch or an open decision.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ShardedClusterTest {
    private static final int ACCOUNTS = 8;
    private static final long INITIAL = 100;

    @TempDir
    Path dir;
    private final List<TxkvServer> servers = new ArrayList<>();
    private final List<Database> databases = new ArrayList<>();

    private final List<java.util.concurrent.ExecutorService> pools = new ArrayList<>();

    @AfterEach
    void stop() {
        pools.forEach(java.util.concurrent.ExecutorService::shutdownNow);
        databases.forEach(Database::close);
        // All at once: each server's stop waits on its Raft groups' hand-overs for a few seconds.
        CompletableFuture.allOf(servers.stream().map(s -> CompletableFuture.runAsync(s::close)).toArray(CompletableFuture[]::new))
                .join();
    }

    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    /** Account i's key: its first byte spreads the accounts over the shards' key ranges. */
    private static byte[] account(int i) {
        return ShardedAccounts.key(i, ACCOUNTS);
    }

    /** Moves 1 to 10 from one random account to another, in one transaction. */
    private static void transfer(Database db, Random random) {
        int from = random.nextInt(ACCOUNTS);
        int to = (from + 1 + random.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
        long moved = 1 + random.nextInt(10);
        db.run(tr -> {
            long a = ShardedAccounts.balance(tr.get(account(from)).join());
            long c = ShardedAccounts.balance(tr.get(account(to)).join());
            tr.set(account(from), ShardedAccounts.amount(a - moved));
            tr.set(account(to), ShardedAccounts.amount(c + moved));
            return null;
        });
    }

    /** A database over {@code connection} (closed after the test) with every account at its initial balance. */
    private Database openBank(String connection) {
        Database db = Txkv.open(connection);
        databases.add(db);
        db.run(tr -> {
            for (int i = 0; i < ACCOUNTS; i++) {
                tr.set(account(i), ShardedAccounts.amount(INITIAL));
            }
            return null;
        });
        return db;
    }

    private final List<ServerConfig> configs = new ArrayList<>();

    /** Starts members a, b, c with {@code shards} shards of {@code replicas} replicas; their client addresses. */
    private List<String> startCluster(int shards, int replicas) throws IOException {
        return startCluster(shards, replicas, c -> { });
    }

    private List<String> startCluster(int shards, int replicas, java.util.function.Consumer<ServerConfig> more)
            throws IOException {
        return startCluster(shards, replicas, more, "a", "b", "c");
    }

    /** Starts members {@code ids} with {@code shards} shards of {@code replicas} replicas; their client addresses. */
    private List<String> startCluster(int shards, int replicas, java.util.function.Consumer<ServerConfig> more,
            String... ids) throws IOException {
        int n = ids.length;
        int[] ports = Ports.freePorts(2 * n);
        Map<String, String> raft = new LinkedHashMap<>();
        Map<String, String> clients = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            raft.put(ids[i], "127.0.0.1:" + ports[i]);
            clients.put(ids[i], "127.0.0.1:" + ports[n + i]);
        }
        for (int i = 0; i < n; i++) {
            ServerConfig config = new ServerConfig().dataDir(dir.resolve(ids[i]))
                    .grpcAddress("127.0.0.1", ports[n + i]).httpAddress("127.0.0.1", 0)
                    .replication(new ReplicationConfig(ids[i], raft).clusterName("sharded-test")
                            .electionTimeoutMs(500, 1000))
                    .peerClientAddresses(clients).shards(shards, replicas);
            more.accept(config);
            configs.add(config);
            servers.add(TxkvServer.start(config));
        }
        return new ArrayList<>(clients.values());
    }

    @Test
    void transfersAcrossShardsKeepTheTotalWhileAServerStops() throws Exception {
        List<String> addresses = startCluster(4, 3);
        Database db = openBank(String.join(",", addresses));
        assertThat(ShardedAccounts.total(db)).isEqualTo(ACCOUNTS * INITIAL);

        long seed = Seeds.seed();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong transfers = new AtomicLong();
        AtomicLong wrongTotals = new AtomicLong();
        List<CompletableFuture<Void>> workers = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            Random random = new Random(seed + w);
            workers.add(CompletableFuture.runAsync(() -> {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(70);
                while (!stop.get() && System.nanoTime() < until) {
                    try {
                        transfer(db, random);
                        transfers.incrementAndGet();
                    } catch (TxkvException e) {
                        // An unknown outcome (1021) with the server stopped mid-commit: the total
                        // still holds either way, which the readers check.
                    }
                }
            }));
        }
        // A reader through one server alone: it forwards to the shards' leaders elsewhere.
        Database viaOne = Txkv.open(addresses.get(2));
        databases.add(viaOne);
        workers.add(CompletableFuture.runAsync(() -> {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(70);
            while (!stop.get() && System.nanoTime() < until) {
                try {
                    if (ShardedAccounts.total(viaOne) != ACCOUNTS * INITIAL) {
                        wrongTotals.incrementAndGet();
                    }
                } catch (TxkvException e) {
                    // Retried reads may give up while leaders move; a wrong total never passes.
                }
            }
        }));
        Thread.sleep(4_000);
        // Every shard's leadership to a: the control group's leader evens them out again, one
        // hand-over at a time, while the transfers run (4 shards on 3 members: 2, 1 and 1).
        for (TxkvServer s : servers.subList(1, servers.size())) {
            for (Engine shard : s.shardReplicas().values()) {
                if (shard.isLeading()) {
                    shard.transferLeadership("a").get(10, TimeUnit.SECONDS);
                }
            }
        }
        // The balancer runs while the leaderships gather and may already have handed some back;
        // either way it must have acted by the time they are even again.
        System.out.println("shard leaders after gathering them on a: " + leaderCounts());
        Poll.until("the shard leaders evened out", Duration.ofSeconds(40), () -> {
            Map<String, Integer> counts = leaderCounts();
            return counts.values().stream().mapToInt(Integer::intValue).sum() == 4
                    && java.util.Collections.max(counts.values()) - java.util.Collections.min(counts.values()) <= 1;
        });
        assertThat(servers.stream().mapToDouble(s -> s.meterRegistry().find("txkv.shard.leader.transfers")
                .counters().stream().mapToDouble(io.micrometer.core.instrument.Counter::count).sum()).sum())
                .as("leaderships the balancer handed over").isPositive();
        long before = transfers.get();
        servers.get(0).close();
        Thread.sleep(6_000);
        stop.set(true);
        CompletableFuture.allOf(workers.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
        System.out.println("sharded cluster: " + transfers.get() + " transfers (" + before
                + " before server a stopped), seed " + seed);
        assertThat(wrongTotals.get()).as("totals that were not " + ACCOUNTS * INITIAL).isZero();
        assertThat(transfers.get()).as("transfers after server a stopped").isGreaterThan(before);
        assertThat(ShardedAccounts.total(viaOne)).isEqualTo(ACCOUNTS * INITIAL);

        // Range reads across shard boundaries, in both directions with limits.
        List<KeyValue> firstThree = viaOne.read(tr -> tr.getRange(new byte[0], new byte[] {(byte) 0xff}, 3).asList().join());
        assertThat(firstThree).extracting(KeyValue::getKey).containsExactly(account(0), account(1), account(2));
        List<KeyValue> lastThree = viaOne.read(tr -> tr.getRange(new byte[0], new byte[] {(byte) 0xff}, 3, true)
                .asList().join());
        assertThat(lastThree).extracting(KeyValue::getKey).containsExactly(account(7), account(6), account(5));

        // Nothing stays in doubt on the remaining servers.
        for (TxkvServer s : servers.subList(1, servers.size())) {
            awaitNothingInDoubt(s);
        }
    }

    /** Waits until no replica of {@code s} keeps undecided slices, deferred batches or open decisions. */
    /** Waits until, as the server at {@code address} sees the map, no shard keeps or is moving a replica to {@code member}. */
    private static void awaitNoReplicaOn(String address, String member) {
        Poll.until(member + "'s replicas replaced", Duration.ofSeconds(60), () -> {
            try {
                dev.txkv.proto.Status st = RemoteStatus.fetch(address, Duration.ofSeconds(5));
                return st.getCluster().getShardsList().stream().allMatch(r -> !r.getReplicasList().contains(member)
                        && r.getMovingToList().isEmpty());
            } catch (TxkvException e) {
                return false;
            }
        });
    }

    private void awaitNothingInDoubt(TxkvServer s) {
        for (Map.Entry<Integer, Engine> shard : s.shardReplicas().entrySet()) {
            Engine e = shard.getValue();
            Poll.until("no two-phase state left on shard " + shard.getKey() + " of server " + servers.indexOf(s),
                    Duration.ofSeconds(30), e::shardState, state -> {
                        int[] c = e.twoPhaseCounts().orElseThrow();
                        return c[0] == 0 && c[1] == 0 && c[2] == 0;
                    });
        }
    }

    /** How many shards each member of a, b, c leads now, as their replicas say. */
    private Map<String, Integer> leaderCounts() {
        Map<String, Integer> counts = new java.util.TreeMap<>(Map.of("a", 0, "b", 0, "c", 0));
        String[] ids = {"a", "b", "c"};
        for (int i = 0; i < ids.length; i++) {
            for (Engine shard : servers.get(i).shardReplicas().values()) {
                if (shard.isLeading()) {
                    counts.merge(ids[i], 1, Integer::sum);
                }
            }
        }
        return counts;
    }

    /**
     * Bank transfers between the accounts from {@code writers} threads, and one reader that checks
     * in one transaction that the total never changes, until {@link #stop} or {@code maxSeconds}.
     * A transaction that gives up is a failure, except an unknown outcome (1021) when
     * {@code unknownOutcomeOk} (a server stopped mid-commit: the total holds either way).
     */
    private final class Transfers {
        final long seed = Seeds.seed();
        final AtomicLong done = new AtomicLong();
        final AtomicLong wrongTotals = new AtomicLong();
        final List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        private final AtomicBoolean stopped = new AtomicBoolean();
        private final List<CompletableFuture<Void>> workers = new ArrayList<>();

        Transfers(Database db, int writers, int maxSeconds, boolean unknownOutcomeOk) {
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(writers + 1);
            pools.add(pool);
            for (int w = 0; w < writers; w++) {
                Random random = new Random(seed + w);
                workers.add(CompletableFuture.runAsync(() -> {
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(maxSeconds);
                    while (!stopped.get() && System.nanoTime() < until) {
                        try {
                            transfer(db, random);
                            done.incrementAndGet();
                        } catch (TxkvException e) {
                            if (!unknownOutcomeOk || e.getError() != dev.txkv.ErrorCode.COMMIT_UNKNOWN_RESULT) {
                                failures.add(e);
                                return;
                            }
                        } catch (RuntimeException e) {
                            failures.add(e);
                            return;
                        }
                    }
                }, pool));
            }
            workers.add(CompletableFuture.runAsync(() -> {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(maxSeconds);
                while (!stopped.get() && System.nanoTime() < until) {
                    try {
                        if (ShardedAccounts.total(db) != ACCOUNTS * INITIAL) {
                            wrongTotals.incrementAndGet();
                        }
                    } catch (RuntimeException e) {
                        failures.add(e);
                        return;
                    }
                }
            }, pool));
        }

        /** Stops the transfers and the reader and waits for them. */
        void stop() throws Exception {
            stopped.set(true);
            try {
                CompletableFuture.allOf(workers.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                // Say where every thread is (clients and the servers in this JVM) before failing.
                for (java.lang.management.ThreadInfo t : java.lang.management.ManagementFactory.getThreadMXBean()
                        .dumpAllThreads(false, false)) {
                    StringBuilder trace = new StringBuilder(t.getThreadName()).append(' ').append(t.getThreadState());
                    for (StackTraceElement frame : t.getStackTrace()) {
                        trace.append("\n\tat ").append(frame);
                    }
                    System.out.println(trace);
                }
                throw e;
            }
        }

        /** No transaction gave up and every total read was right. */
        void assertClean() {
            assertThat(failures).as("transactions that gave up (seed %d)", seed).extracting(Throwable::toString).isEmpty();
            assertThat(wrongTotals.get()).as("totals that were not %d (seed %d)", ACCOUNTS * INITIAL, seed).isZero();
        }
    }

    /**
     * Shards split online while transfers run: every transfer and read meets only retryable
     * errors, the total never changes, the new shards serve their keys (also after a server
     * restarts from its data directory), and nothing stays in doubt.
     */
    @Test
    void shardsSplitOnlineUnderTransfers() throws Exception {
        List<String> addresses = startCluster(4, 3);
        String all = String.join(",", addresses);
        Database db = openBank(all);
        Transfers transfers = new Transfers(db, 3, 40, false);
        Thread.sleep(2_000);
        // Shard 0 holds accounts 0 and 1, shard 1 accounts 2 and 3: split each between them.
        dev.txkv.proto.SplitResponse first = RemoteStatus.split(all, account(1), Duration.ofSeconds(60));
        assertThat(first.getShard()).isZero();
        assertThat(first.getNewShard()).isEqualTo(4);
        long afterFirst = transfers.done.get();
        dev.txkv.proto.SplitResponse second = RemoteStatus.split(addresses.get(2), account(3), Duration.ofSeconds(60));
        assertThat(second.getShard()).isEqualTo(1);
        assertThat(second.getNewShard()).isEqualTo(5);
        // A new shard splits again, at a key after the one it holds.
        byte[] third = dev.txkv.ByteArrays.concat(account(1), new byte[] {0});
        assertThat(RemoteStatus.split(all, third, Duration.ofSeconds(60)).getShard()).isEqualTo(4);
        assertThatThrownBy(() -> RemoteStatus.split(all, account(1), Duration.ofSeconds(10)))
                .isInstanceOf(TxkvException.class).hasMessageContaining("already begins shard 4");
        Thread.sleep(3_000);
        transfers.stop();
        System.out.println("online splits: " + transfers.done.get() + " transfers (" + afterFirst + " by the first split), "
                + transfers.failures.size() + " gave up, seed " + transfers.seed);
        transfers.assertClean();
        assertThat(transfers.done.get()).as("transfers after the splits").isGreaterThan(afterFirst);
        assertThat(ShardedAccounts.total(db)).isEqualTo(ACCOUNTS * INITIAL);

        dev.txkv.proto.Status status = RemoteStatus.fetch(addresses.get(1), Duration.ofSeconds(10));
        assertThat(status.getCluster().getShardsList()).extracting(dev.txkv.proto.Status.Shard::getId)
                .containsExactly(0, 4, 6, 1, 5, 2, 3);
        for (TxkvServer s : servers) {
            assertThat(s.shardReplicas().get(4).ownedKeys().orElseThrow().begin()).isEqualTo(account(1));
        }
        // A server restarted from its directory hosts the new shards again.
        servers.get(2).close();
        servers.set(2, TxkvServer.start(configs.get(2)));
        try (Database viaRestarted = Txkv.open(addresses.get(2))) {
            Poll.until("the restarted server serves the total", Duration.ofSeconds(60), () -> {
                try {
                    return ShardedAccounts.total(viaRestarted) == ACCOUNTS * INITIAL;
                } catch (TxkvException e) {
                    return false;
                }
            });
            viaRestarted.run(tr -> {
                long a = ShardedAccounts.balance(tr.get(account(1)).join());
                long c = ShardedAccounts.balance(tr.get(account(3)).join());
                tr.set(account(1), ShardedAccounts.amount(a - 5));
                tr.set(account(3), ShardedAccounts.amount(c + 5));
                return null;
            });
        }
        assertThat(servers.get(2).shardReplicas()).containsKeys(4, 5, 6);
        for (TxkvServer s : servers) {
            awaitNothingInDoubt(s);
        }
    }

    /**
     * Shards merge online while transfers run: a shard a split made merges back into its
     * parent, and two of the cluster's first shards merge; every transfer and read meets only
     * retryable errors, the total never changes, the absorbed shards' replicas are dropped
     * everywhere (also from a server that was down meanwhile), and nothing stays in doubt.
     */
    @Test
    void shardsMergeOnlineUnderTransfers() throws Exception {
        List<String> addresses = startCluster(4, 3);
        String all = String.join(",", addresses);
        Database db = openBank(all);
        Transfers transfers = new Transfers(db, 3, 60, false);
        Thread.sleep(2_000);
        // Shard 0 holds accounts 0 and 1: split between them (shard 4), then merge back.
        assertThat(RemoteStatus.split(all, account(1), Duration.ofSeconds(60)).getNewShard()).isEqualTo(4);
        Thread.sleep(1_000);
        long beforeMerges = transfers.done.get();
        dev.txkv.proto.MergeResponse first = RemoteStatus.merge(all, 0, "", Duration.ofSeconds(60));
        assertThat(first.getShard()).isZero();
        assertThat(first.getAbsorbed()).isEqualTo(4);
        // Shard 1 (accounts 2, 3) absorbs shard 2 (accounts 4, 5) while server c is down: the
        // merge completes once c is back and its replica of shard 1 holds them too.
        servers.get(2).close();
        String ab = addresses.get(0) + "," + addresses.get(1);
        CompletableFuture<dev.txkv.proto.MergeResponse> second = CompletableFuture.supplyAsync(
                () -> RemoteStatus.merge(ab, 1, "", Duration.ofSeconds(90)));
        assertThatThrownBy(() -> RemoteStatus.merge(ab, 3, "", Duration.ofSeconds(10)))
                .isInstanceOf(TxkvException.class).hasMessageContaining("no right neighbour");
        Thread.sleep(3_000);
        servers.set(2, TxkvServer.start(configs.get(2)));
        assertThat(second.get(100, TimeUnit.SECONDS).getAbsorbed()).isEqualTo(2);
        Thread.sleep(2_000);
        transfers.stop();
        System.out.println("online merges: " + transfers.done.get() + " transfers (" + beforeMerges
                + " before the merges), seed " + transfers.seed);
        transfers.assertClean();
        assertThat(transfers.done.get()).as("transfers after the merges").isGreaterThan(beforeMerges);
        try (Database viaRestarted = Txkv.open(addresses.get(2))) {
            Poll.until("the restarted server serves the total", Duration.ofSeconds(60), () -> {
                try {
                    return ShardedAccounts.total(viaRestarted) == ACCOUNTS * INITIAL;
                } catch (TxkvException e) {
                    return false;
                }
            });
        }
        dev.txkv.proto.Status status = RemoteStatus.fetch(addresses.get(0), Duration.ofSeconds(10));
        assertThat(status.getCluster().getShardsList()).extracting(dev.txkv.proto.Status.Shard::getId)
                .containsExactly(0, 1, 3);
        byte[] third = status.getCluster().getShards(2).getBegin().toByteArray();
        for (TxkvServer s : servers) {
            Poll.until("the merged shards' replicas dropped", Duration.ofSeconds(30),
                    () -> !s.shardReplicas().containsKey(2) && !s.shardReplicas().containsKey(4));
            assertThat(s.shardReplicas().get(1).ownedKeys().orElseThrow().end()).isEqualTo(third);
            awaitNothingInDoubt(s);
        }
        for (String member : List.of("a", "b", "c")) {
            Poll.until("member " + member + " deleted the merged shards' files", Duration.ofSeconds(30),
                    () -> !java.nio.file.Files.exists(dir.resolve(member).resolve("shard-2"))
                            && !java.nio.file.Files.exists(dir.resolve(member).resolve("shard-4")));
        }
        assertThat(ShardedAccounts.total(db)).isEqualTo(ACCOUNTS * INITIAL);
    }

    /**
     * Two servers join a running cluster of three (--join): each asks to be added, the control
     * group takes it in, and the rebalancer moves shard replicas onto it while transfers run;
     * the joined servers serve clients, and one restarts from its data directory.
     */
    @Test
    void newServersJoinARunningClusterAndReceiveShards() throws Exception {
        // 4 shards of 2 replicas on a, b, c: 3, 3 and 2 replicas.
        List<String> addresses = startCluster(4, 2);
        String all = String.join(",", addresses);
        Database db = openBank(all);
        Transfers transfers = new Transfers(db, 2, 120, true);
        Thread.sleep(1_000);
        ReplicationConfig founders = configs.get(0).replication();
        Map<String, String> raft = new LinkedHashMap<>(founders.members());
        Map<String, String> clients = new LinkedHashMap<>(configs.get(0).peerClientAddresses());
        int[] ports = Ports.freePorts(4);
        for (String id : List.of("d", "e")) {
            int k = id.equals("d") ? 0 : 1;
            raft.put(id, "127.0.0.1:" + ports[k]);
            clients.put(id, "127.0.0.1:" + ports[2 + k]);
            ServerConfig config = new ServerConfig().dataDir(dir.resolve(id))
                    .grpcAddress("127.0.0.1", ports[2 + k]).httpAddress("127.0.0.1", 0)
                    .replication(new ReplicationConfig(id, new LinkedHashMap<>(raft)).clusterName("sharded-test")
                            .electionTimeoutMs(500, 1000))
                    .peerClientAddresses(new LinkedHashMap<>(clients)).shards(4, 2).join(true);
            configs.add(config);
            servers.add(TxkvServer.start(config));
        }
        // The rebalancer evens 3, 3, 2, 0, 0 out: one replica each moves to d and to e.
        Poll.until("d and e keep a replica each, every shard at 2 replicas", Duration.ofSeconds(120), () -> {
            try {
                dev.txkv.proto.Status s = RemoteStatus.fetch(addresses.get(0), Duration.ofSeconds(5));
                List<dev.txkv.proto.Status.Shard> shards = s.getCluster().getShardsList();
                return shards.stream().allMatch(r -> r.getReplicasCount() == 2 && r.getMovingToList().isEmpty())
                        && shards.stream().anyMatch(r -> r.getReplicasList().contains("d"))
                        && shards.stream().anyMatch(r -> r.getReplicasList().contains("e"));
            } catch (TxkvException e) {
                return false;
            }
        });
        // A founding member's status asks the joined members too (their addresses from the map).
        Poll.until("a's status lists all five members answering", Duration.ofSeconds(30), () -> {
            dev.txkv.proto.Status s = RemoteStatus.fetch(addresses.get(0), Duration.ofSeconds(5));
            return s.getProcessesCount() == 5
                    && s.getProcessesList().stream().noneMatch(p -> p.getRole().equals("unreachable"));
        });
        // A joined member restarts from its directory (which records that it joined).
        TxkvServer d = servers.get(3);
        Poll.until("d opened its replica", Duration.ofSeconds(30), () -> !d.shardReplicas().isEmpty());
        d.close();
        servers.set(3, TxkvServer.start(configs.get(3).join(false)));
        try (Database viaD = Txkv.open(clients.get("d")); Database viaE = Txkv.open(clients.get("e"))) {
            for (Database via : List.of(viaD, viaE)) {
                Poll.until("a joined server serves the total", Duration.ofSeconds(60), () -> {
                    try {
                        return ShardedAccounts.total(via) == ACCOUNTS * INITIAL;
                    } catch (TxkvException e) {
                        return false;
                    }
                });
            }
        }
        Thread.sleep(1_000);
        transfers.stop();
        System.out.println("joins: " + transfers.done.get() + " transfers, seed " + transfers.seed);
        transfers.assertClean();
        assertThat(transfers.done.get()).isPositive();
    }

    /**
     * Shard replicas move between servers online while transfers run, and a server lost for good
     * is replaced: a new replica is copied from a current one and caught up by Raft, a leader
     * that leaves hands over first, a shard made by a split moves (its new replicas never needed
     * the parent), and the replicas of a stopped server move to the others by themselves. Clients
     * meet only retryable errors, the total never changes, the servers that lost a replica delete
     * it, and a restarted server keeps exactly what the map gives it.
     */
    @Test
    void replicasMoveOnlineAndALostServerIsReplaced() throws Exception {
        // Shard 0 on a, b, c; shard 1 on b, c, d. A member unheard of for 2 s is lost.
        // Rebalancing off: the test places every replica itself (until the exclusion at the end).
        List<String> addresses = startCluster(2, 3, c -> c.replaceLostAfter(2_000).rebalance(false), "a", "b", "c", "d");
        String all = String.join(",", addresses);
        Database db = openBank(all);
        // An unknown outcome (1021) when server c stops mid-commit is no failure: the total still
        // holds either way, which the reader checks.
        Transfers transfers = new Transfers(db, 2, 90, true);
        Thread.sleep(1_500);
        // A split first: shard 2 (accounts 1 to 3) is born on a, b and c from shard 0's replicas there.
        assertThat(RemoteStatus.split(all, account(1), Duration.ofSeconds(60)).getNewShard()).isEqualTo(2);
        long beforeMoves = transfers.done.get();
        // Shard 2 to b, c, d: d copies it (it never had shard 0), a drops it.
        RemoteStatus.move(all, 2, List.of("b", "c", "d"), "", Duration.ofSeconds(120));
        // Shard 0 to d alone: every replica leaves, so its leader hands over to d first.
        RemoteStatus.move(addresses.get(1), 0, List.of("d"), "", Duration.ofSeconds(120));
        // Shard 1 to a, c, d: a copies it, b drops it.
        dev.txkv.proto.MoveResponse last = RemoteStatus.move(all, 1, List.of("a", "c", "d"), "", Duration.ofSeconds(120));
        assertThat(last.getMap().getShardsList()).extracting(r -> r.getId() + "@" + String.join(",", r.getMembersList()))
                .containsExactly("0@d", "2@b,c,d", "1@a,c,d");
        assertThat(last.getMap().getShardsList()).allSatisfy(r -> assertThat(r.getMovingToList()).isEmpty());
        assertThatThrownBy(() -> RemoteStatus.move(all, 1, List.of("c", "a", "d"), "", Duration.ofSeconds(10)))
                .isInstanceOf(TxkvException.class).hasMessageContaining("nothing to move");
        assertThatThrownBy(() -> RemoteStatus.move(all, 1, List.of("a", "x"), "", Duration.ofSeconds(10)))
                .isInstanceOf(TxkvException.class).hasMessageContaining("No member 'x'");
        assertThatThrownBy(() -> RemoteStatus.move(all, 9, List.of("a"), "", Duration.ofSeconds(10)))
                .isInstanceOf(TxkvException.class).hasMessageContaining("No shard 9");
        long beforeLoss = transfers.done.get();
        // Server c stops for good: its replicas of shards 1 and 2 move to the member with the
        // fewest replicas that keeps none of the shard (b for shard 1, a for shard 2).
        servers.get(2).close();
        awaitNoReplicaOn(addresses.get(3), "c");
        Thread.sleep(2_000);
        transfers.stop();
        System.out.println("online moves: " + transfers.done.get() + " transfers (" + beforeMoves + " before the moves, "
                + beforeLoss + " before c was lost), seed " + transfers.seed);
        transfers.assertClean();
        assertThat(transfers.done.get()).as("transfers after c was lost").isGreaterThan(beforeLoss);
        try (Database viaD = Txkv.open(addresses.get(3))) {
            assertThat(ShardedAccounts.total(viaD)).isEqualTo(ACCOUNTS * INITIAL);
        }
        dev.txkv.proto.Status after = RemoteStatus.fetch(addresses.get(3), Duration.ofSeconds(10));
        assertThat(after.getCluster().getShardsList()).extracting(r -> r.getId() + "@" + String.join(",", r.getReplicasList()))
                .containsExactly("0@d", "2@b,a,d", "1@a,b,d");

        Map<String, List<Integer>> expected = Map.of("a", List.of(1, 2), "b", List.of(1, 2), "d", List.of(0, 1, 2));
        String[] ids = {"a", "b", "c", "d"};
        for (int i = 0; i < ids.length; i++) {
            if (ids[i].equals("c")) {
                continue;
            }
            TxkvServer s = servers.get(i);
            String id = ids[i];
            Poll.until("member " + id + " keeps exactly its replicas", Duration.ofSeconds(30),
                    () -> new java.util.TreeSet<>(s.shardReplicas().keySet()).equals(new java.util.TreeSet<>(expected.get(id))));
            for (int shard = 0; shard < 3; shard++) {
                Path data = dir.resolve(id).resolve("shard-" + shard);
                boolean keeps = expected.get(id).contains(shard);
                Poll.until("member " + id + (keeps ? " keeps " : " deleted ") + data, Duration.ofSeconds(30),
                        () -> java.nio.file.Files.isDirectory(data) == keeps);
            }
        }
        // The lost server comes back: it drops the replicas the map no longer gives it and serves again.
        servers.set(2, TxkvServer.start(configs.get(2)));
        try (Database viaC = Txkv.open(addresses.get(2))) {
            Poll.until("the returning server serves the total", Duration.ofSeconds(60), () -> {
                try {
                    return ShardedAccounts.total(viaC) == ACCOUNTS * INITIAL;
                } catch (TxkvException e) {
                    return false;
                }
            });
        }
        Poll.until("c keeps no replica", Duration.ofSeconds(30), () -> servers.get(2).shardReplicas().isEmpty());
        for (int shard = 0; shard < 3; shard++) {
            Path data = dir.resolve("c").resolve("shard-" + shard);
            Poll.until("c deleted " + data, Duration.ofSeconds(30), () -> !java.nio.file.Files.exists(data));
        }
        // d is excluded: the cluster remembers it and moves every replica off d by itself, to c
        // (the member with the fewest), and refuses a move onto d until d is included again.
        assertThat(RemoteStatus.exclude(all, "d", false, Duration.ofSeconds(10)).getMap().getExcludedList())
                .containsExactly("d");
        Poll.until("no replica on d", Duration.ofSeconds(90), () -> {
            try {
                dev.txkv.proto.Status s = RemoteStatus.fetch(addresses.get(0), Duration.ofSeconds(5));
                return s.getCluster().getExcludedList().contains("d") && s.getCluster().getShardsList().stream()
                        .allMatch(r -> !r.getReplicasList().contains("d") && r.getMovingToList().isEmpty());
            } catch (TxkvException e) {
                return false;
            }
        });
        assertThatThrownBy(() -> RemoteStatus.move(all, 0, List.of("d"), "", Duration.ofSeconds(10)))
                .isInstanceOf(TxkvException.class).hasMessageContaining("Member d is excluded");
        assertThatThrownBy(() -> RemoteStatus.exclude(all, "x", false, Duration.ofSeconds(10)))
                .isInstanceOf(TxkvException.class).hasMessageContaining("No member 'x'");
        assertThat(RemoteStatus.exclude(all, "d", true, Duration.ofSeconds(10)).getMap().getExcludedList()).isEmpty();
        try (Database viaA = Txkv.open(addresses.get(0))) {
            assertThat(ShardedAccounts.total(viaA)).isEqualTo(ACCOUNTS * INITIAL);
        }
        for (TxkvServer s : servers) {
            awaitNothingInDoubt(s);
        }
    }

    @Test
    void aShardPastTheSplitSizeSplitsByItself() throws Exception {
        long splitBytes = 96 << 10;
        List<String> addresses = startCluster(2, 3, c -> c.autoSplit(splitBytes, 0, 200));
        Database db = Txkv.open(String.join(",", addresses));
        databases.add(db);
        // About 394 KiB, every key in shard 0 ("a/..." is below the second shard's first key),
        // written in small transactions: the shard may split under them.
        int keys = 400;
        for (int i = 0; i < keys; i += 20) {
            int first = i;
            db.run(tr -> {
                for (int k = first; k < first + 20; k++) {
                    tr.set(b(String.format("a/%05d", k)), value(k));
                }
                return null;
            });
        }
        // Over a split size of 96 KiB shard 0 splits at least three times. Each replica estimates
        // its size by itself (memtables included), so the exact count varies.
        Poll.until("shard 0's keys over at least four shards, none being split", Duration.ofSeconds(120), () -> {
            List<dev.txkv.proto.Status.Shard> shards = RemoteStatus.fetch(addresses.get(0), Duration.ofSeconds(10))
                    .getCluster().getShardsList();
            return shards.size() >= 5 && shards.stream().noneMatch(sh -> sh.getTwoPhase().contains("being split"));
        });
        List<dev.txkv.proto.Status.Shard> shards = RemoteStatus.fetch(addresses.get(1), Duration.ofSeconds(10))
                .getCluster().getShardsList();
        System.out.println("automatic splits: " + shards.stream().map(sh -> sh.getId() + "@"
                + dev.txkv.ByteArrays.printable(sh.getBegin().toByteArray()) + "=" + sh.getKvSizeBytesEstimate().getValue())
                .toList());
        // Shard 1 (from 0x80 on) holds nothing: it never split.
        assertThat(shards).filteredOn(sh -> sh.getId() == 1).singleElement()
                .satisfies(sh -> assertThat(sh.getBegin().toByteArray()).isEqualTo(new byte[] {(byte) 0x80}));
        List<KeyValue> all = db.read(tr -> tr.getRange(b("a/"), b("a0")).asList().join());
        assertThat(all).hasSize(keys);
        for (int i = 0; i < keys; i++) {
            assertThat(all.get(i).getKey()).isEqualTo(b(String.format("a/%05d", i)));
            assertThat(all.get(i).getValue()).isEqualTo(value(i));
        }
        // The new shards take writes, one transaction across the first and the last.
        db.run(tr -> {
            tr.set(b("a/00000"), b("after"));
            tr.set(b(String.format("a/%05d", keys - 1)), b("after"));
            return null;
        });
        byte[] last = db.read(tr -> tr.get(b(String.format("a/%05d", keys - 1))).join());
        assertThat(last).isEqualTo(b("after"));
    }

    /**
     * Small, cold shards merge back by themselves: two operator splits of a cluster created with
     * two shards leave four tiny ones, which the distributor merges until two are left (never
     * fewer: the cluster was created with two), with every key intact.
     */
    @Test
    void smallColdNeighboursMergeByThemselvesDownToTheShardsTheClusterBeganWith() throws Exception {
        // Two replicas per shard on three members, so that neighbours can sit on different members.
        List<String> addresses = startCluster(2, 2, c -> c.autoSplit(1 << 20, 0, 300));
        String all = String.join(",", addresses);
        Database db = Txkv.open(all);
        databases.add(db);
        for (int i = 0; i < 40; i++) {
            int k = i;
            db.run(tr -> {
                tr.set(b(String.format("a/%03d", k)), value(k));
                return null;
            });
        }
        RemoteStatus.split(all, b("a/010"), Duration.ofSeconds(60));
        RemoteStatus.split(all, b("a/020"), Duration.ofSeconds(60));
        // The last piece goes to members that neither neighbour has (both sit on others), so the
        // distributor must bring it together with one of them by a move before it can merge it.
        List<dev.txkv.proto.Status.Shard> pieces = RemoteStatus.fetch(addresses.get(0), Duration.ofSeconds(10)).getCluster()
                .getShardsList();
        int at = java.util.stream.IntStream.range(0, pieces.size())
                .filter(i -> java.util.Arrays.equals(pieces.get(i).getBegin().toByteArray(), b("a/020"))).findFirst().orElseThrow();
        dev.txkv.proto.Status.Shard last = pieces.get(at);
        java.util.Set<String> left = new java.util.HashSet<>(pieces.get(at - 1).getReplicasList());
        java.util.Set<String> right = new java.util.HashSet<>(pieces.get(at + 1).getReplicasList());
        List<String> target = java.util.stream.Stream.of(List.of("a", "b"), List.of("a", "c"), List.of("b", "c"))
                .filter(t -> !new java.util.HashSet<>(t).equals(left) && !new java.util.HashSet<>(t).equals(right))
                .findFirst().orElseThrow();
        RemoteStatus.move(all, last.getId(), target, "test", Duration.ofSeconds(60));
        Poll.until("the shards merged back to two", Duration.ofSeconds(60), () -> {
            List<dev.txkv.proto.Status.Shard> shards = RemoteStatus.fetch(addresses.get(0), Duration.ofSeconds(10))
                    .getCluster().getShardsList();
            return shards.size() == 2 && shards.stream().allMatch(sh -> sh.getTwoPhase().isEmpty()
                    || !sh.getTwoPhase().contains("merging"));
        });
        // Never below the two shards the cluster began with.
        Thread.sleep(2_000);
        assertThat(RemoteStatus.fetch(addresses.get(1), Duration.ofSeconds(10)).getCluster().getShardsList()).hasSize(2);
        List<KeyValue> rows = db.read(tr -> tr.getRange(b("a/"), b("a0")).asList().join());
        assertThat(rows).hasSize(40);
        for (int i = 0; i < 40; i++) {
            assertThat(rows.get(i).getValue()).isEqualTo(value(i));
        }
        assertThat(servers.stream().mapToDouble(s -> s.meterRegistry().find("txkv.shard.merges").tag("cause", "size")
                .counters().stream().mapToDouble(io.micrometer.core.instrument.Counter::count).sum()).sum())
                .as("merges the distributor made").isEqualTo(2);
        assertThat(servers.stream().mapToDouble(s -> s.meterRegistry().find("txkv.shard.moves").counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count).sum()).sum())
                .as("moves: the operator's and at least one that brought neighbours together").isGreaterThanOrEqualTo(2);
    }

    @Test
    void aServerLostForGoodDuringAMergeIsReplacedAndTheMergeCompletes() throws Exception {
        // Shard 0 on a, b, c; shard 1 on b, c, d. A member unheard of for 8 s is lost: long
        // enough for the merge below to be under way when c is found lost.
        List<String> addresses = startCluster(2, 3, c -> c.replaceLostAfter(8_000).rebalance(false), "a", "b", "c", "d");
        String all = String.join(",", addresses);
        Database db = openBank(all);
        Transfers transfers = new Transfers(db, 2, 90, true);
        Thread.sleep(1_000);
        // Shard 2 (accounts 1 to 3) is born on a, b and c.
        assertThat(RemoteStatus.split(all, account(1), Duration.ofSeconds(60)).getNewShard()).isEqualTo(2);
        // c stops for good; shard 0 then absorbs shard 2. The merge waits for every replica of
        // shard 0, c's too, until c is found lost and shard 0's replica there moves to d.
        servers.get(2).close();
        String abd = String.join(",", addresses.get(0), addresses.get(1), addresses.get(3));
        dev.txkv.proto.MergeResponse merged = RemoteStatus.merge(abd, 0, "", Duration.ofSeconds(120));
        assertThat(merged.getShard()).isZero();
        assertThat(merged.getAbsorbed()).isEqualTo(2);
        awaitNoReplicaOn(addresses.get(3), "c");
        transfers.stop();
        transfers.assertClean();
        try (Database viaD = Txkv.open(addresses.get(3))) {
            assertThat(ShardedAccounts.total(viaD)).isEqualTo(ACCOUNTS * INITIAL);
        }
        dev.txkv.proto.Status after = RemoteStatus.fetch(addresses.get(3), Duration.ofSeconds(10));
        assertThat(after.getCluster().getShardsList()).extracting(r -> r.getId() + ":" + r.getReplicasCount())
                .containsExactly("0:3", "1:3");
        awaitNothingInDoubt(servers.get(3));
    }

    @Test
    void replicasAreBalancedByBytesNotByCountsAlone() throws Exception {
        // Two members, four shards of one replica: 0 and 2 on a, 1 and 3 on b. A shard of the
        // split size weighs 8 units (512 KiB each here), a small one 1.
        List<String> addresses = startCluster(4, 1, c -> c.autoSplit(4 << 20, 0, 300), "a", "b");
        Database db = Txkv.open(String.join(",", addresses));
        databases.add(db);
        // Shard 0 (keys below 0x40) gets 2 MiB of values that do not compress (the size is the
        // storage's estimate, compressed once on disk): a weighs 4 + 1, b 1 + 1.
        Random random = new Random(Seeds.seed());
        for (int batch = 0; batch < 32; batch++) {
            int first = batch * 64;
            db.run(tr -> {
                for (int i = first; i < first + 64; i++) {
                    byte[] kib = new byte[1024];
                    random.nextBytes(kib);
                    tr.set(b(String.format("\u0010/%05d", i)), kib);
                }
                return null;
            });
        }
        // The big shard cannot move without making b as heavy; the small one on a moves to b,
        // though b then keeps three replicas and a one.
        Poll.until("shard 2 moved to b", Duration.ofSeconds(60), () -> replicasOf(addresses.get(1), 2).equals(List.of("b")));
        Thread.sleep(3_000);
        assertThat(replicasOf(addresses.get(0), 0)).containsExactly("a");
        assertThat(replicasOf(addresses.get(0), 1)).containsExactly("b");
        assertThat(replicasOf(addresses.get(0), 2)).containsExactly("b");
        assertThat(replicasOf(addresses.get(0), 3)).containsExactly("b");
        List<KeyValue> rows = db.read(tr -> tr.getRange(b("\u0010/"), b("\u00100")).asList().join());
        assertThat(rows).hasSize(32 * 64);
    }

    private static List<String> replicasOf(String address, int shard) {
        return RemoteStatus.fetch(address, Duration.ofSeconds(10)).getCluster().getShardsList().stream()
                .filter(sh -> sh.getId() == shard).findFirst().map(sh -> List.copyOf(sh.getReplicasList())).orElse(List.of());
    }

    @Test
    void aBusyShardSplitsByLoadAndAHotKeyIsReportedNotSplit() throws Exception {
        List<String> addresses = startCluster(2, 3, c -> c.autoSplit(0, 40, 1_000));
        Database db = Txkv.open(String.join(",", addresses));
        databases.add(db);
        long seed = Seeds.seed();
        AtomicBoolean stop = new AtomicBoolean();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        pools.add(pool);
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        // Shard 0: writes spread over 100 keys. Shard 1 (from 0x80 on): one key, written again and again.
        List<CompletableFuture<Void>> writers = new ArrayList<>();
        Random random = new Random(seed);
        writers.add(CompletableFuture.runAsync(() -> write(db, stop, failures,
                () -> b(String.format("a/%03d", random.nextInt(100)))), pool));
        byte[] hot = {(byte) 0x90, 'h', 'o', 't'};
        writers.add(CompletableFuture.runAsync(() -> write(db, stop, failures, () -> hot), pool));
        try {
            Poll.until("shard 0 split by load and shard 1's hot key reported", Duration.ofSeconds(90), () -> {
                List<dev.txkv.proto.Status.Shard> shards = new ArrayList<>();
                for (String a : addresses) {
                    shards.addAll(RemoteStatus.fetch(a, Duration.ofSeconds(10)).getCluster().getShardsList());
                }
                return shards.stream().anyMatch(sh -> sh.getId() >= 2)
                        && shards.stream().anyMatch(sh -> sh.getId() == 1 && sh.getTwoPhase().contains("hot key \\x90hot"));
            });
        } finally {
            stop.set(true);
            CompletableFuture.allOf(writers.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
        }
        System.out.println("load split, seed " + seed + ": " + RemoteStatus.fetch(addresses.get(0), Duration.ofSeconds(10))
                .getCluster().getShardsList().stream().map(sh -> sh.getId() + "@"
                        + dev.txkv.ByteArrays.printable(sh.getBegin().toByteArray())).toList());
        assertThat(failures).as("writes that gave up").extracting(Throwable::toString).isEmpty();
        // The hot key's shard did not split: shard 1 still begins at 0x80 and ends the keyspace.
        List<dev.txkv.proto.Status.Shard> shards = RemoteStatus.fetch(addresses.get(1), Duration.ofSeconds(10))
                .getCluster().getShardsList();
        assertThat(shards.get(shards.size() - 1).getId()).isEqualTo(1);
        assertThat(shards.get(shards.size() - 1).getBegin().toByteArray()).isEqualTo(new byte[] {(byte) 0x80});
        // The control group's leader counts the split by its cause once the split is made.
        Poll.until("txkv_shard_splits_total{cause=\"load\"} on /metrics", Duration.ofSeconds(60), () -> {
            StringBuilder metrics = new StringBuilder();
            for (TxkvServer s : servers) {
                try {
                    metrics.append(java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://127.0.0.1:" + s.httpPort() + "/metrics")).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString()).body());
                } catch (java.io.IOException e) {
                    return false;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return metrics.toString().contains("txkv_shard_splits_total{cause=\"load\"");
        });
    }

    /** Writes one key a transaction, each from {@code keys}, until {@code stop} (at most 90 s). */
    private static void write(Database db, AtomicBoolean stop, List<Throwable> failures,
            java.util.function.Supplier<byte[]> keys) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!stop.get() && System.nanoTime() < until) {
            byte[] key = keys.get();
            try {
                db.run(tr -> {
                    tr.set(key, b("v"));
                    return null;
                });
            } catch (RuntimeException e) {
                failures.add(e);
                return;
            }
        }
    }

    private static byte[] value(int k) {
        byte[] v = new byte[1000];
        java.util.Arrays.fill(v, (byte) ('a' + k % 26));
        return v;
    }

    @Test
    void shardsOnSeparateServersServeReadsCommitsAndWatchesThroughAnyServer() throws Exception {
        // One replica per shard: shard s lives on member s mod 3 alone, so most calls are forwarded.
        List<String> addresses = startCluster(3, 1);
        for (String address : addresses) {
            try (Database db = Txkv.open(address)) {
                int n = addresses.indexOf(address);
                db.run(tr -> {
                    for (int i = 0; i < ACCOUNTS; i++) {
                        tr.set(account(i), ShardedAccounts.amount(n));
                    }
                    return null;
                });
                assertThat(ShardedAccounts.total(db)).isEqualTo(ACCOUNTS * (long) n);
            }
        }
        Database db = Txkv.open(addresses.get(0));
        databases.add(db);
        CompletableFuture<Void> watch = db.run(tr -> tr.watch(account(7)));
        Thread.sleep(200);
        assertThat(watch).isNotDone();
        try (Database other = Txkv.open(addresses.get(1))) {
            other.run(tr -> {
                tr.set(account(7), ShardedAccounts.amount(42));
                return null;
            });
        }
        watch.get(30, TimeUnit.SECONDS);
        long seen = db.read(tr -> ShardedAccounts.balance(tr.get(account(7)).join()));
        assertThat(seen).isEqualTo(42);

        // A client given every server sends each commit to its home shard's leader and reads
        // at the sequencer's server (ShardRouting): once it knows them, no commit is forwarded.
        Database routed = Txkv.open(String.join(",", addresses));
        databases.add(routed);
        for (int i = 0; i < ACCOUNTS; i++) {
            int k = i;
            routed.run(tr -> {
                tr.set(account(k), ShardedAccounts.amount(k));
                return null;
            });
        }
        Thread.sleep(200);
        long forwardedBefore = forwardedCommits(servers);
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < ACCOUNTS; i++) {
                int k = i;
                long read = routed.run(tr -> {
                    long v = ShardedAccounts.balance(tr.get(account(k)).join());
                    tr.set(account(k), ShardedAccounts.amount(v + 1));
                    return v;
                });
                assertThat(read).isEqualTo(k + round);
            }
        }
        assertThat(forwardedCommits(servers) - forwardedBefore).as("commits forwarded between servers").isZero();

        // Status shows each replica's slices in doubt (none here); crash points are refused
        // on a server not started for fault tests.
        dev.txkv.proto.Status status = RemoteStatus.fetch(addresses.get(0), Duration.ofSeconds(10));
        assertThat(status.getCluster().getShardsList()).filteredOn(x -> x.hasUndecided()).isNotEmpty()
                .allSatisfy(x -> assertThat(x.getUndecided().getValue()).isZero());
        io.grpc.ManagedChannel channel = io.grpc.ManagedChannelBuilder.forTarget(addresses.get(0)).usePlaintext().build();
        try {
            assertThatThrownBy(() -> dev.txkv.proto.ShardPeerGrpc.newBlockingStub(channel)
                    .armCrashPoint(dev.txkv.proto.ArmCrashPointRequest.newBuilder().setProtocolVersion(1)
                            .setPoint("coordinator-before-decision").build()))
                    .hasMessageContaining("Crash points are off");
        } finally {
            channel.shutdownNow();
        }
    }

    /** Commits the servers forwarded to other servers so far, from their /metrics. */
    private static long forwardedCommits(List<TxkvServer> servers) throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        double total = 0;
        for (TxkvServer s : servers) {
            String body = http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + s.httpPort() + "/metrics")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            for (String line : body.split("\n")) {
                if (line.startsWith("txkv_shard_peer_call_seconds_count") && line.contains("method=\"shardCommit\"")) {
                    total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
        }
        return (long) total;
    }
}
