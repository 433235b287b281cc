package dev.txkv.check;

import dev.txkv.Database;
import dev.txkv.Transaction;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Measures failover: tiny blind writes through a client that knows every node, one after the
 * other, until one commits. Its keys are its own, so it never disturbs the workloads' checks.
 */
final class CommitProbe {
    /** Longest a failover may take before the probe gives up and reports -1. */
    static final long PROBE_LIMIT_MS = 30_000;
    static final long ATTEMPT_TIMEOUT_MS = 1_000;
    private static final long RETRY_PAUSE_MS = 20;
    static final long READ_TIMEOUT_MS = 10_000;
    /** The probe's one key (its user's role grants it when authorization is on). */
    static final byte[] KEY = "check/failover-probe".getBytes(StandardCharsets.UTF_8);

    private final Database db;

    CommitProbe(Database db) {
        this.db = db;
    }

    /**
     * Commits until one succeeds; returns the milliseconds from {@code sinceNanos} to that
     * commit's acknowledgement, or -1 after {@link #PROBE_LIMIT_MS}.
     */
    long millisToFirstCommit(long sinceNanos) {
        long deadline = sinceNanos + TimeUnit.MILLISECONDS.toNanos(PROBE_LIMIT_MS);
        int attempts = 0;
        while (System.nanoTime() < deadline && attempts < 100_000 && !Thread.currentThread().isInterrupted()) {
            attempts++;
            try (Transaction tr = db.createTransaction()) {
                tr.options().setTimeout(ATTEMPT_TIMEOUT_MS);
                tr.set(KEY, Long.toString(System.nanoTime()).getBytes(StandardCharsets.UTF_8));
                tr.commit().get(ATTEMPT_TIMEOUT_MS + 500, TimeUnit.MILLISECONDS);
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sinceNanos);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                Cluster.sleep(RETRY_PAUSE_MS);
            }
        }
        return -1;
    }

    /** Reads {@code key} at a fresh read version (one attempt, at most {@link #READ_TIMEOUT_MS}). */
    byte[] read(byte[] key) throws Exception {
        try (Transaction tr = db.createTransaction()) {
            tr.options().setTimeout(READ_TIMEOUT_MS);
            return tr.get(key).get(READ_TIMEOUT_MS + 500, TimeUnit.MILLISECONDS);
        }
    }
}
