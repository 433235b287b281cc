package dev.txkv.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.rocksdb.DBOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The durable commit log measured alone, two ways: a one-member Apache Ratis group (the design's
 * log, which later grows to 3–5 members) and RocksDB's own write-ahead log written the way the
 * embedded engine writes it (one WriteBatch with sync=true per commit batch, from one thread).
 *
 * <p>Implementation notes. An "entry" of about 130 bytes stands for one small commit (16-byte key,
 * 100-byte value, framing); 16 KiB and 64 KiB entries stand for a commit batch that packs many
 * of them, which is how the engine would use either log. Nothing is applied: the Ratis state
 * machine only advances its applied index, and the RocksDB case writes into an otherwise idle
 * store, so the figures are the cost of the log and its fsync, an upper bound for the engine.
 * Every loop stops at a deadline or an operation count, whichever comes first, and waits for
 * in-flight requests with a timeout.
 */
@Command(name = "ratis-log", mixinStandardHelpOptions = true,
        description = "Commit log alone: a one-member Ratis group vs. RocksDB's WAL with sync writes.")
public final class RatisLogBench implements Callable<Integer> {
    @Option(names = "--seconds", defaultValue = "10", description = "Measured seconds per case (default ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--warmup", defaultValue = "5", description = "Warm-up seconds per case (default ${DEFAULT-VALUE}).")
    int warmupSeconds;

    @Option(names = "--log", defaultValue = "both", description = "ratis | rocksdb | both (default ${DEFAULT-VALUE}).")
    String log;

    @Option(names = "--cases", split = ",", defaultValue = "single,concurrent,batched",
            description = "Any of single, concurrent, batched (default ${DEFAULT-VALUE}).")
    List<String> cases;

    @Option(names = "--transport", defaultValue = "grpc",
            description = "How entries reach the Ratis server: grpc (an async RaftClient over loopback, as a remote "
                    + "client would) or direct (RaftServer.submitClientRequestAsync in-process, as an embedded "
                    + "engine could) (default ${DEFAULT-VALUE}).")
    String transport;

    @Option(names = "--dir", description = "Parent of the temporary data directories (default: the system temp dir).")
    Path parentDir;

    /** One small commit: 16-byte key + 100-byte value + ~14 bytes of framing. */
    static final int SMALL_ENTRY_BYTES = 130;
    static final int[] CONCURRENCY = {16, 64, 256};
    static final int[] BATCH_BYTES = {16 * 1024, 64 * 1024};
    static final int BATCH_IN_FLIGHT = 8;

    /** Above the largest concurrency case: the client's default of 100 silently caps in-flight requests. */
    static final int OUTSTANDING_REQUESTS_MAX = 1024;
    /** Caps a case even if the deadline were never reached (a clock or scheduling fault). */
    static final long OPERATIONS_MAX = 50_000_000L;
    static final long DRAIN_TIMEOUT_MS = 30_000;
    static final long LEADER_WAIT_MS = 20_000;

    @Override
    public Integer call() throws Exception {
        if (!List.of("ratis", "rocksdb", "both").contains(log)) {
            System.err.println("Unknown --log '" + log + "': use ratis, rocksdb or both");
            return 2;
        }
        if (!List.of("grpc", "direct").contains(transport)) {
            System.err.println("Unknown --transport '" + transport + "': use grpc or direct");
            return 2;
        }
        for (String c : cases) {
            if (!List.of("single", "concurrent", "batched").contains(c)) {
                System.err.println("Unknown case '" + c + "': use single, concurrent, batched");
                return 2;
            }
        }
        if (seconds < 1 || warmupSeconds < 0) {
            System.err.println("--seconds must be at least 1 and --warmup at least 0");
            return 2;
        }
        System.out.printf("load average before the run: %s%n", loadAverage());
        if (!log.equals("rocksdb")) {
            ratis();
        }
        if (!log.equals("ratis")) {
            rocksdb();
        }
        return 0;
    }

    // ---------------------------------------------------------------- Ratis

    private void ratis() throws Exception {
        Path dir = newDataDir("txkv-ratis-log");
        int port = freePort();
        RaftPeerId id = RaftPeerId.valueOf("n0");
        RaftPeer peer = RaftPeer.newBuilder().setId(id).setAddress("127.0.0.1:" + port).build();
        RaftGroup group = RaftGroup.valueOf(RaftGroupId.randomId(), peer);
        RaftProperties properties = ratisProperties(dir, port);
        String settings = String.format("1 member, %s, log fsync on (Ratis default), append-entries compose off, "
                        + "log-metadata off, client outstanding max %d",
                transport.equals("grpc") ? "async RaftClient over gRPC on 127.0.0.1:" + port
                        : "in-process RaftServer.submitClientRequestAsync", OUTSTANDING_REQUESTS_MAX);
        System.out.println("ratis-log: " + settings + ", storage " + dir);
        RaftServer server = RaftServer.newBuilder().setServerId(id).setGroup(group).setProperties(properties)
                .setStateMachine(new LogOnlyStateMachine()).setOption(RaftStorage.StartupOption.FORMAT).build();
        try {
            server.start();
            awaitLeader(server, group.getGroupId());
            // Bounded retries: a request that cannot commit must fail the run, not loop.
            try (RaftClient client = RaftClient.newBuilder().setProperties(properties).setRaftGroup(group)
                    .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(5, TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
                    .build()) {
                Sender send = transport.equals("grpc")
                        ? payload -> client.async().send(Message.valueOf(payload)).thenApply(RaftClientReply::isSuccess)
                        : directSender(server, id, group.getGroupId());
                runCases("ratis-log", settings, send);
            }
        } finally {
            server.close();
            deleteTree(dir);
        }
    }

    /**
     * Skips the client and gRPC: the request goes straight to the server's submit path, which is
     * all an in-process engine would need. Call ids only have to be unique per client id (they key
     * Ratis's retry cache).
     */
    private static Sender directSender(RaftServer server, RaftPeerId serverId, RaftGroupId groupId) {
        ClientId clientId = ClientId.randomId();
        AtomicLong callId = new AtomicLong();
        return payload -> {
            RaftClientRequest request = RaftClientRequest.newBuilder().setClientId(clientId).setServerId(serverId)
                    .setGroupId(groupId).setCallId(callId.incrementAndGet()).setMessage(Message.valueOf(payload))
                    .setType(RaftClientRequest.writeRequestType()).build();
            try {
                return server.submitClientRequestAsync(request).thenApply(RaftClientReply::isSuccess);
            } catch (IOException e) {
                return CompletableFuture.failedFuture(e);
            }
        };
    }

    static RaftProperties ratisProperties(Path dir, int port) {
        RaftProperties p = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(p, List.of(dir.toFile()));
        GrpcConfigKeys.Server.setHost(p, "127.0.0.1");
        GrpcConfigKeys.Server.setPort(p, port);
        // Its 3.3.0 default (true) cut throughput ~2.4x at 16 in flight (RATIS-NOTES).
        RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
        // Otherwise every commit adds a metadata entry and roughly doubles the fsyncs; Raft does
        // not need the commit index persisted.
        RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
        RaftClientConfigKeys.Async.setOutstandingRequestsMax(p, OUTSTANDING_REQUESTS_MAX);
        return p;
    }

    private static void awaitLeader(RaftServer server, RaftGroupId groupId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LEADER_WAIT_MS);
        while (!server.getDivision(groupId).getInfo().isLeader()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no leader after " + LEADER_WAIT_MS + " ms");
            }
            Thread.sleep(10);
        }
    }

    /**
     * Applies nothing: only the applied index moves, so the figures are the log's own cost. A real
     * state machine would apply the commit batch here and complete exceptionally on error, since
     * an exception thrown from applyTransaction stops the server.
     */
    static final class LogOnlyStateMachine extends BaseStateMachine {
        private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();

        @Override
        public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
            super.initialize(server, groupId, raftStorage);
            storage.init(raftStorage);
        }

        @Override
        public StateMachineStorage getStateMachineStorage() {
            return storage;
        }

        @Override
        public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
            LogEntryProto entry = trx.getLogEntry();
            updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
            return CompletableFuture.completedFuture(Message.EMPTY);
        }
    }

    /** Sends one entry; completes with whether it committed. */
    interface Sender {
        CompletableFuture<Boolean> send(ByteString payload);
    }

    private void runCases(String name, String settings, Sender send) throws Exception {
        if (cases.contains("single")) {
            report(name + " single", settings + ", one writer, one " + SMALL_ENTRY_BYTES + "-byte entry at a time",
                    measure(send, 1, SMALL_ENTRY_BYTES), "entries", "entry");
        }
        if (cases.contains("concurrent")) {
            for (int inFlight : CONCURRENCY) {
                report(name + " concurrent", settings + ", " + inFlight + " entries of " + SMALL_ENTRY_BYTES
                        + " bytes in flight", measure(send, inFlight, SMALL_ENTRY_BYTES), "entries", "entry");
            }
        }
        if (cases.contains("batched")) {
            for (int bytes : BATCH_BYTES) {
                report(name + " batched", settings + ", " + BATCH_IN_FLIGHT + " entries of " + bytes
                        + " bytes in flight", measure(send, BATCH_IN_FLIGHT, bytes), "entries", "entry");
            }
        }
    }

    private Result measure(Sender send, int inFlight, int entryBytes) throws Exception {
        ByteString payload = ByteString.copyFrom(randomBytes(entryBytes));
        drive(send, payload, inFlight, warmupSeconds);
        return drive(send, payload, inFlight, seconds);
    }

    /** Keeps {@code inFlight} entries outstanding for {@code durationSeconds}, then waits for them. */
    private static Result drive(Sender send, ByteString payload, int inFlight, int durationSeconds)
            throws InterruptedException {
        Semaphore permits = new Semaphore(inFlight);
        Recorder latencyMicros = new Recorder(3);
        AtomicLong committed = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long cpuStart = processCpuNanos();
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(durationSeconds);
        long issued = 0;
        while (System.nanoTime() < deadline && issued < OPERATIONS_MAX) {
            if (!permits.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                continue; // re-check the deadline
            }
            issued++;
            long sent = System.nanoTime();
            send.send(payload).whenComplete((ok, error) -> {
                if (error == null && ok) {
                    latencyMicros.recordValue((System.nanoTime() - sent) / 1000);
                    committed.incrementAndGet();
                } else {
                    if (failed.getAndIncrement() == 0) {
                        System.err.println("entry failed: " + (error != null ? error : "reply not successful"));
                    }
                }
                permits.release();
            });
        }
        if (!permits.tryAcquire(inFlight, DRAIN_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("in-flight entries did not complete within " + DRAIN_TIMEOUT_MS + " ms");
        }
        long elapsed = System.nanoTime() - start;
        return new Result(committed.get(), failed.get(), (long) payload.size() * committed.get(), elapsed,
                processCpuNanos() - cpuStart, latencyMicros.getIntervalHistogram());
    }

    // ---------------------------------------------------------------- RocksDB

    private void rocksdb() throws Exception {
        RocksDB.loadLibrary();
        Path dir = newDataDir("txkv-rocksdb-log");
        // The engine's DB options (Storage), default column family only; sync=true makes every
        // write fsync the WAL, as the engine's durable mode does per commit batch.
        String settings = "RocksDB " + RocksDB.rocksdbVersion() + ", one thread, WriteBatch per write, "
                + "WriteOptions.sync=true, WAL on, entries of 16-byte key + 114-byte value";
        System.out.println("rocksdb-log: " + settings + ", storage " + dir);
        try (Options options = new Options(new DBOptions().setCreateIfMissing(true).setParanoidChecks(true)
                        .setMaxBackgroundJobs(2).setKeepLogFileNum(5), new org.rocksdb.ColumnFamilyOptions()
                        .optimizeLevelStyleCompaction());
                RocksDB db = RocksDB.open(options, dir.toString());
                WriteOptions sync = new WriteOptions().setSync(true)) {
            AtomicLong nextKey = new AtomicLong();
            byte[] value = randomBytes(SMALL_ENTRY_BYTES - 16);
            if (cases.contains("single")) {
                report("rocksdb-log single", settings + ", 1 entry (130 B) per write",
                        measureRocks(db, sync, 1, value, nextKey), "writes", "write");
            }
            if (cases.contains("batched")) {
                for (int bytes : BATCH_BYTES) {
                    int entries = bytes / SMALL_ENTRY_BYTES;
                    report("rocksdb-log batched", settings + ", " + entries + " entries (" + (entries * SMALL_ENTRY_BYTES)
                            + " B) per write", measureRocks(db, sync, entries, value, nextKey), "writes", "write");
                }
            }
        } finally {
            deleteTree(dir);
        }
    }

    private Result measureRocks(RocksDB db, WriteOptions sync, int entriesPerWrite, byte[] value, AtomicLong nextKey)
            throws Exception {
        driveRocks(db, sync, entriesPerWrite, value, nextKey, warmupSeconds);
        return driveRocks(db, sync, entriesPerWrite, value, nextKey, seconds);
    }

    private static Result driveRocks(RocksDB db, WriteOptions sync, int entriesPerWrite, byte[] value,
            AtomicLong nextKey, int durationSeconds) throws Exception {
        Histogram latencyMicros = new Histogram(3);
        long writes = 0;
        long cpuStart = processCpuNanos();
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(durationSeconds);
        while (System.nanoTime() < deadline && writes < OPERATIONS_MAX) {
            try (WriteBatch batch = new WriteBatch()) {
                for (int i = 0; i < entriesPerWrite; i++) {
                    batch.put(EmbeddedBench.key(nextKey.getAndIncrement()), value);
                }
                long t = System.nanoTime();
                db.write(sync, batch);
                latencyMicros.recordValue((System.nanoTime() - t) / 1000);
            }
            writes++;
        }
        long elapsed = System.nanoTime() - start;
        return new Result(writes, 0, writes * entriesPerWrite * (long) SMALL_ENTRY_BYTES, elapsed,
                processCpuNanos() - cpuStart, latencyMicros);
    }

    // ---------------------------------------------------------------- reporting and helpers

    /** {@code cpuNanos}: CPU time of the whole process (server, client, all threads) during the case. */
    record Result(long operations, long failures, long bytes, long elapsedNanos, long cpuNanos, Histogram latencyMicros) {
    }

    /** Process CPU time in nanoseconds, -1 where the JVM does not report it. */
    static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean
                ? ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime() : -1;
    }

    private void report(String name, String settings, Result r, String unit, String unitSingular) {
        double elapsedSeconds = r.elapsedNanos() / 1e9;
        Histogram h = r.latencyMicros();
        System.out.printf("RESULT %s: %,.0f %s/s, %.1f MB/s; latency p50 %.3f ms, p99 %.3f ms, max %.3f ms; "
                        + "process CPU %.0f us per %s; %,d ok, %d failed in %.1f s (+%d s warm-up); load %s; %s%n",
                name, r.operations() / elapsedSeconds, unit, r.bytes() / elapsedSeconds / 1e6,
                h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0,
                r.cpuNanos() / 1000.0 / Math.max(1, r.operations()), unitSingular,
                r.operations(), r.failures(), elapsedSeconds, warmupSeconds, loadAverage(), settings);
    }

    private Path newDataDir(String prefix) throws IOException {
        return parentDir == null ? Files.createTempDirectory(prefix) : Files.createTempDirectory(parentDir, prefix);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(paths::add);
        }
        for (Path f : paths) {
            Files.deleteIfExists(f);
        }
    }
}
