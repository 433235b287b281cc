package dev.txkv.testkit;

import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.Transaction;
import dev.txkv.TxkvException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * The retry loop and worker threads shared by the workloads. The loop is written out by hand
 * ({@code createTransaction}, {@code commit}, {@code onError}) rather than through
 * {@link Database#run}, because the history must record each attempt with its exact outcome.
 */
final class WorkloadSupport {
    /** Most attempts for a setup or final-read transaction before giving up. */
    static final int SUPPORT_ATTEMPTS_MAX = 20;

    /** Codes that prove a commit did not happen; any other failure of commit is indeterminate. */
    private static final List<ErrorCode> NOT_COMMITTED_CODES = List.of(
            ErrorCode.TRANSACTION_TOO_LARGE, ErrorCode.KEY_TOO_LARGE, ErrorCode.VALUE_TOO_LARGE,
            ErrorCode.KEY_OUTSIDE_LEGAL_RANGE, ErrorCode.INVERTED_RANGE);

    private WorkloadSupport() {
    }

    /** What one attempt plans, and how to run it. */
    interface Attempt {
        /** The steps, with reads' results unknown, as recorded at invocation. */
        List<MicroOp> planned();

        /**
         * Performs the reads and writes on {@code tr} (not the commit), replacing or adding
         * entries of {@code steps} (a copy of {@link #planned()}) as results become known.
         */
        void perform(Transaction tr, List<MicroOp> steps, Duration opTimeout) throws Exception;
    }

    /** Thrown (unwrapped) when a database call did not answer within the operation timeout. */
    static final class OperationTimeoutException extends Exception {
        OperationTimeoutException(Duration timeout) {
            super("no answer within " + timeout.toMillis() + " ms");
        }
    }

    static <T> T await(CompletableFuture<T> future, Duration timeout) throws Exception {
        try {
            return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new OperationTimeoutException(timeout);
        } catch (ExecutionException | CompletionException e) {
            throw asException(unwrap(e));
        }
    }

    static Throwable unwrap(Throwable t) {
        return dev.txkv.spi.Causes.unwrap(t);
    }

    private static Exception asException(Throwable t) {
        if (t instanceof Exception) {
            return (Exception) t;
        }
        if (t instanceof Error) {
            throw (Error) t;
        }
        return new RuntimeException(t);
    }

    /** The recorded outcome of an attempt whose commit call failed with {@code error}. */
    static OpType commitFailureType(Throwable error) {
        if (error instanceof TxkvException) {
            TxkvException e = (TxkvException) error;
            if (e.isRetryableNotCommitted() || NOT_COMMITTED_CODES.contains(e.getError())) {
                return OpType.FAIL;
            }
        }
        return OpType.INFO;
    }

    static String describe(Throwable error) {
        if (error instanceof TxkvException) {
            TxkvException e = (TxkvException) error;
            return e.getError().errorName() + " (" + e.getCode() + ")";
        }
        return error.getClass().getSimpleName() + ": " + error.getMessage();
    }

    /**
     * Makes a transaction fit for the next attempt: {@code onError} (which backs off and
     * resets) for retryable errors, otherwise a fresh transaction.
     */
    static Transaction recover(Database db, Transaction tr, Throwable error, Duration opTimeout) {
        if (error instanceof TxkvException && ((TxkvException) error).isRetryable()) {
            try {
                return await(tr.onError(error), opTimeout);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                // Fall through to a fresh transaction.
            }
        }
        tr.close();
        return db.createTransaction();
    }

    /**
     * Runs up to {@code attemptsMax} attempts from {@code planner} as process {@code process},
     * recording each, and stops early at {@code deadlineNanos} or on interruption.
     */
    static void work(Database db, HistoryRecorder recorder, int process, int attemptsMax, long deadlineNanos,
                     Duration opTimeout, Supplier<Attempt> planner) {
        Transaction tr = db.createTransaction();
        try {
            for (int i = 0; i < attemptsMax && System.nanoTime() < deadlineNanos; i++) {
                if (Thread.currentThread().isInterrupted()) {
                    return;
                }
                tr = attempt(db, tr, recorder, process, opTimeout, planner.get()).transaction();
            }
        } finally {
            tr.close();
        }
    }

    /** The outcome of one attempt and the transaction to use for the next one. */
    record Outcome(Operation operation, Transaction transaction) {
    }

    static Outcome attempt(Database db, Transaction tr, HistoryRecorder recorder, int process, Duration opTimeout,
                           Attempt attempt) {
        List<MicroOp> steps = new ArrayList<>(attempt.planned());
        long id = recorder.invoke(process, attempt.planned());
        boolean committing = false;
        try {
            attempt.perform(tr, steps, opTimeout);
            committing = true;
            await(tr.commit(), opTimeout);
            Operation op = recorder.complete(id, OpType.OK, steps, null);
            // A fresh transaction rather than reset(): no reliance on resetting a committed one.
            tr.close();
            return new Outcome(op, db.createTransaction());
        } catch (Throwable t) {
            Throwable error = unwrap(t);
            if (error instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            OpType type = committing ? commitFailureType(error) : OpType.FAIL;
            Operation op = recorder.complete(id, type, steps, describe(error));
            if (error instanceof Error && !(error instanceof AssertionError)) {
                throw (Error) error;
            }
            return new Outcome(op, recover(db, tr, error, opTimeout));
        }
    }

    /**
     * Runs {@code body} in its own bounded retry loop, unrecorded (setup such as clearing the
     * workload's keys). {@code body} must be idempotent: a retry may follow an unknown result.
     */
    static void runUnrecorded(Database db, Duration opTimeout, Consumer<Transaction> body) {
        Throwable last = null;
        Transaction tr = db.createTransaction();
        try {
            for (int i = 0; i < SUPPORT_ATTEMPTS_MAX; i++) {
                try {
                    body.accept(tr);
                    await(tr.commit(), opTimeout);
                    return;
                } catch (Throwable t) {
                    last = unwrap(t);
                    if (last instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                    tr = recover(db, tr, last, opTimeout);
                }
            }
        } finally {
            tr.close();
        }
        throw new IllegalStateException("Workload setup failed after " + SUPPORT_ATTEMPTS_MAX + " attempts", last);
    }

    /**
     * Runs {@code worker} on {@code threads} daemon threads (argument: the process number) and
     * waits for them until {@code deadlineNanos} plus {@code graceNanos}; threads still running
     * then are interrupted and left behind, and their attempts in flight read as INFO.
     */
    static void runThreads(int threads, long deadlineNanos, long graceNanos, String name, IntConsumer worker) {
        List<Thread> started = new ArrayList<>();
        for (int p = 0; p < threads; p++) {
            int process = p;
            Thread t = new Thread(() -> worker.accept(process), name + "-" + p);
            t.setDaemon(true);
            t.start();
            started.add(t);
        }
        long joinUntil = deadlineNanos + graceNanos;
        for (Thread t : started) {
            try {
                long leftMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(joinUntil - System.nanoTime()));
                t.join(leftMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        started.stream().filter(Thread::isAlive).forEach(Thread::interrupt);
    }

    static void requirePositive(long value, String name) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
