package dev.txkv.server;

import dev.txkv.TxkvException;
import dev.txkv.engine.EngineCounters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * The server's meters, all named {@code txkv.*} (Prometheus: {@code txkv_*}). Engine counters
 * are read through {@link EngineStatusReader} when scraped, so the commit path pays nothing for them;
 * per-call latencies and sizes are recorded by {@link TxkvService}.
 *
 * <p>Implementation notes. The engine counts batches but does not report each batch's size.
 * Every commit's result carries its version and its order within the batch, and a batch's
 * committed transactions get orders 0, 1, 2, ...; so the largest order seen for a version,
 * plus one, is that batch's size as far as this server's commits show it. {@link #commitResult}
 * records it into {@code txkv.commit.batch.size} when a newer version arrives.
 */
final class ServerMetrics {
    private final MeterRegistry registry;
    final Timer grvLatency;
    final Timer getLatency;
    final Timer getRangeLatency;
    final Timer commitLatency;
    final Counter bytesRead;
    final Counter rowsRead;
    final Counter bytesWritten;
    final Counter executorRejected;
    final DistributionSummary commitBytes;
    final DistributionSummary commitMutations;
    final DistributionSummary batchSize;
    final DistributionSummary getManySize;
    final DistributionSummary commitManySize;
    private long batchVersion = -1;
    private int batchOrderMax;

    ServerMetrics(MeterRegistry registry) {
        this.registry = registry;
        grvLatency = latency("txkv.grv.latency", "Time to get a read version", "grv");
        getLatency = latency("txkv.read.latency", "Time to read a key or a range", "get");
        getRangeLatency = latency("txkv.read.latency", "Time to read a key or a range", "get_range");
        commitLatency = latency("txkv.commit.latency", "Time from a commit's arrival to its answer", "commit");
        bytesRead = Counter.builder("txkv.read").baseUnit("bytes")
                .description("Bytes of keys and values returned by reads").register(registry);
        rowsRead = Counter.builder("txkv.rows.read").description("Rows returned by range reads").register(registry);
        bytesWritten = Counter.builder("txkv.written").baseUnit("bytes")
                .description("Bytes of mutations in committed transactions").register(registry);
        executorRejected = Counter.builder("txkv.executor.rejected")
                .description("Requests refused with 1042 because the request queue was full").register(registry);
        commitBytes = DistributionSummary.builder("txkv.commit.transaction.size").baseUnit("bytes")
                .description("Size of committed transactions: mutations and conflict ranges")
                .publishPercentileHistogram().register(registry);
        commitMutations = DistributionSummary.builder("txkv.commit.mutations")
                .description("Mutations per committed transaction").publishPercentileHistogram().register(registry);
        batchSize = DistributionSummary.builder("txkv.commit.batch.size")
                .description("Transactions per commit batch (one fsync), as seen by this server's commits")
                .publishPercentileHistogram().register(registry);
        getManySize = callBatchSize("get_many");
        commitManySize = callBatchSize("commit_many");
    }

    /** Elements per GetMany or CommitMany call: how much the clients' coalescing saves. */
    private DistributionSummary callBatchSize(String method) {
        return DistributionSummary.builder("txkv.rpc.batch.size").tag("method", method)
                .description("Elements per GetMany or CommitMany call").publishPercentileHistogram().register(registry);
    }

    private Timer latency(String name, String description, String operation) {
        return Timer.builder(name).description(description).tag("operation", operation)
                .publishPercentileHistogram().register(registry);
    }

    /** Meters read from the engine's counters when scraped. */
    void bindEngine(Supplier<EngineCounters> stats) {
        counter("txkv.commits", "Committed transactions", stats, EngineCounters::commits);
        counter("txkv.commit.batches", "Commit batches written (one fsync each)", stats, EngineCounters::commitBatches);
        counter("txkv.commit.conflicts", "Commits refused with not_committed (1020)", stats,
                EngineCounters::commitConflicts);
        counter("txkv.commit.too_old", "Commits refused with transaction_too_old (1007)", stats,
                EngineCounters::commitTooOld);
        counter("txkv.commit.rejected", "Commits refused because the commit queue was full (1042)", stats,
                EngineCounters::commitRejectedQueueFull);
        counter("txkv.reads", "Point and range reads served by the engine", stats, EngineCounters::reads);
        gauge("txkv.commit.queue.depth", "Commits waiting for the commit pipeline", stats,
                EngineCounters::commitQueueDepth);
        gauge("txkv.watches", "Outstanding watches in the engine", stats, EngineCounters::watches);
        gauge("txkv.version.committed", "The newest committed version", stats, EngineCounters::versionCommitted);
        gauge("txkv.mvcc.views", "Versions retained for reads in the MVCC window", stats, EngineCounters::mvccViews);
        gauge("txkv.storage.size.estimate", "Estimated bytes of live keys and values", stats,
                EngineCounters::liveBytesEstimate);
        gauge("txkv.replica.failed", "1 when this member failed to apply the replicated log and serves nothing",
                stats, c -> c.replicaFailed() ? 1 : 0);
        gauge("txkv.apply.since.last.ms", "Milliseconds since this member last applied a commit batch", stats,
                EngineCounters::msSinceApply);
        counter("txkv.raft.refused.calls", "Ratis client or admin calls refused on the Raft port", stats,
                EngineCounters::raftRefusedCalls);
        counter("txkv.raft.refused.entries", "Log entries refused before being appended (not from this member's "
                + "commit pipeline, or malformed)", stats, EngineCounters::raftRefusedEntries);
    }

    /** 1/0 gauges of what {@code /health} and the status document's database_status say. */
    void bindHealth(Supplier<Boolean> available, Supplier<Boolean> healthy) {
        Gauge.builder("txkv.available", available, a -> Boolean.TRUE.equals(a.get()) ? 1 : 0)
                .description("1 while the database is available through this server (see /health)").register(registry);
        Gauge.builder("txkv.healthy", healthy, h -> Boolean.TRUE.equals(h.get()) ? 1 : 0)
                .description("1 while this server reports the database healthy").register(registry);
    }

    void bindExecutor(ThreadPoolExecutor executor) {
        Gauge.builder("txkv.executor.queue.depth", executor, e -> e.getQueue().size())
                .description("Requests waiting for a server thread").register(registry);
        Gauge.builder("txkv.executor.active", executor, ThreadPoolExecutor::getActiveCount)
                .description("Server threads running a request").register(registry);
    }

    void bindWatchStreams(Supplier<Integer> open) {
        Gauge.builder("txkv.watch.streams", open, s -> s.get())
                .description("Open Watch calls on this server").register(registry);
    }

    private void counter(String name, String description, Supplier<EngineCounters> stats,
            ToLongFunction<EngineCounters> value) {
        FunctionCounter.builder(name, stats, s -> value.applyAsLong(s.get())).description(description).register(registry);
    }

    private void gauge(String name, String description, Supplier<EngineCounters> stats,
            ToLongFunction<EngineCounters> value) {
        Gauge.builder(name, stats, s -> value.applyAsLong(s.get())).description(description).register(registry);
    }

    /** Counts a failed call by method and txkv error. */
    void rpcError(String method, TxkvException e) {
        Counter.builder("txkv.rpc.errors").description("Failed calls by method and txkv error code")
                .tag("method", method).tag("code", Integer.toString(e.getCode())).tag("name", e.getError().errorName())
                .register(registry).increment();
    }

    /** Notes a commit's place in its batch; records the previous batch's size once a newer batch shows up. */
    synchronized void commitResult(long version, int batchOrder) {
        if (version == batchVersion) {
            batchOrderMax = Math.max(batchOrderMax, batchOrder);
            return;
        }
        if (version < batchVersion) {
            // A late answer from an older batch, already recorded: its size was at least this.
            return;
        }
        if (batchVersion >= 0) {
            batchSize.record(batchOrderMax + 1);
        }
        batchVersion = version;
        batchOrderMax = batchOrder;
    }
}
