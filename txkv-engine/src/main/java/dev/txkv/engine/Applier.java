package dev.txkv.engine;

import dev.txkv.spi.CommitResult;
import dev.txkv.spi.Environment;
import java.util.concurrent.TimeUnit;

/**
 * Applies durable commit batches to storage: each batch in one RocksDB write batch with its
 * mutations (atomic operations computed against the state so far), its idempotency outcomes,
 * the batch's version and, when the log has positions, the log index.
 *
 * <p>Invariants (checked): batches apply once each, in increasing version order, and log
 * positions only grow.
 */
final class Applier {
    private final IdempotencyTable idempotency;
    private final EngineStats stats;
    private final Environment env;
    private final int valueSizeMax;
    private volatile long appliedVersion;
    private volatile long appliedLogIndex;
    private volatile long lastApplyNanos;

    Applier(IdempotencyTable idempotency, EngineStats stats, Environment env, int valueSizeMax, Storage storage) {
        this.idempotency = idempotency;
        this.stats = stats;
        this.env = env;
        this.valueSizeMax = valueSizeMax;
        restarted(storage);
    }

    /** Takes the applied positions from storage (at open, and after a snapshot install). */
    void restarted(Storage storage) {
        this.appliedVersion = storage.lastVersion();
        this.appliedLogIndex = storage.raftAppliedIndex();
        this.lastApplyNanos = env.nanoTime();
    }

    long appliedVersion() {
        return appliedVersion;
    }

    long appliedLogIndex() {
        return appliedLogIndex;
    }

    long millisSinceApply() {
        return TimeUnit.NANOSECONDS.toMillis(env.nanoTime() - lastApplyNanos);
    }

    /**
     * Writes {@code batch} to {@code storage}; returns the writer, whose changed keys and
     * ranges the caller hands to watches once the version is published.
     */
    /** Bookkeeping written with a batch or a log record. */
    @FunctionalInterface
    interface Stage {
        void stage(org.rocksdb.WriteBatch batch) throws org.rocksdb.RocksDBException;
    }

    /**
     * Writes a log record that applies no batch (two-phase bookkeeping) with its log index;
     * the index may repeat the last one only for the writes of one record.
     */
    void record(Storage storage, long logIndex, Stage stage) {
        Invariants.check(logIndex < 0 || logIndex >= appliedLogIndex, "log entries apply once and in order", logIndex,
                appliedLogIndex);
        try (org.rocksdb.WriteBatch batch = new org.rocksdb.WriteBatch()) {
            stage.stage(batch);
            if (logIndex >= 0) {
                batch.put(storage.meta, Storage.META_RAFT_APPLIED, Storage.versionBytes(logIndex));
            }
            storage.write(batch);
            if (logIndex >= 0) {
                appliedLogIndex = logIndex;
            }
            lastApplyNanos = env.nanoTime();
        } catch (org.rocksdb.RocksDBException e) {
            throw Storage.ioError("two-phase record", e);
        }
    }

    BatchWriter apply(Storage storage, CommittedBatch batch, long logIndex) {
        return apply(storage, batch, logIndex, null);
    }

    /**
     * As {@link #apply(Storage, CommittedBatch, long)}, with {@code extra} staged in the same
     * write (a sharded engine's bookkeeping). A batch applied after the undecided slices before
     * it were decided is applied with the log entry that decided them: the same log index may
     * then apply more than one batch.
     */
    BatchWriter apply(Storage storage, CommittedBatch batch, long logIndex, Stage extra) {
        Invariants.check(batch.version() > appliedVersion, "batches apply once and in version order", batch.version(),
                appliedVersion);
        Invariants.check(logIndex < 0 || logIndex > appliedLogIndex || (extra != null && logIndex == appliedLogIndex),
                "log entries apply once and in order", logIndex, appliedLogIndex);
        BatchWriter writer = new BatchWriter(storage, valueSizeMax);
        try {
            if (extra != null) {
                extra.stage(writer.batch);
            }
            idempotency.stageExpiries(writer.batch);
            for (CommittedBatch.Transaction t : batch.transactions()) {
                CommitResult result = t.result(batch.version());
                byte[] stamp = result.versionstamp();
                for (dev.txkv.spi.Mutation m : t.mutations()) {
                    writer.apply(m, stamp);
                }
                if (t.idempotencyId() != null) {
                    idempotency.stage(t.idempotencyId(), result, batch.commitTimeMs(), writer.batch);
                }
            }
            writer.batch.put(storage.meta, Storage.META_VERSION, Storage.versionBytes(batch.version()));
            if (logIndex >= 0) {
                writer.batch.put(storage.meta, Storage.META_RAFT_APPLIED, Storage.versionBytes(logIndex));
            }
            long start = env.nanoTime();
            storage.write(writer.batch);
            long end = env.nanoTime();
            stats.recordBatch(batch.transactions().size(), end - start);
            idempotency.publish(batch);
            idempotency.applied(batch.version());
            appliedVersion = batch.version();
            if (logIndex >= 0) {
                appliedLogIndex = logIndex;
            }
            lastApplyNanos = end;
            return writer;
        } catch (org.rocksdb.RocksDBException e) {
            writer.close();
            throw Storage.ioError("commit batch", e);
        } catch (RuntimeException | Error e) {
            writer.close();
            throw e;
        }
    }
}
