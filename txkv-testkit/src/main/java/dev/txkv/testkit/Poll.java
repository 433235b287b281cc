package dev.txkv.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Waits in tests for something that happens in the background: polls a condition until it
 * holds or a deadline passes, then fails with an {@link AssertionError} naming what was
 * awaited and for how long. Every wait is bounded.
 */
public final class Poll {
    /** Pause between two looks at a condition. */
    private static final long INTERVAL_MS = 20;
    /** Pause between two runs of a check, which is often a request to a server. */
    private static final long CHECK_INTERVAL_MS = 100;

    private Poll() {
    }

    /** Waits until {@code condition} holds; fails after {@code timeout} naming {@code what}. */
    public static void until(String what, Duration timeout, BooleanSupplier condition) {
        until(what, timeout, condition::getAsBoolean, ok -> ok);
    }

    /**
     * Waits until {@code probe} returns a value {@code accepted} accepts and returns it; fails
     * after {@code timeout}, naming {@code what} and the last value seen. Exceptions from the
     * probe count as "not yet" and the last one is attached to the failure.
     */
    public static <T> T until(String what, Duration timeout, Supplier<T> probe, Predicate<? super T> accepted) {
        long deadline = System.nanoTime() + timeout.toNanos();
        T last = null;
        RuntimeException lastError = null;
        while (true) {
            try {
                last = probe.get();
                lastError = null;
                if (accepted.test(last)) {
                    return last;
                }
            } catch (RuntimeException e) {
                lastError = e;
            }
            if (System.nanoTime() - deadline >= 0) {
                AssertionError failure = new AssertionError("Timed out after " + timeout.toMillis()
                        + " ms waiting for " + what + (lastError == null ? "; last value: " + last
                        : "; last attempt failed: " + lastError));
                if (lastError != null) {
                    failure.initCause(lastError);
                }
                throw failure;
            }
            sleep(INTERVAL_MS);
        }
    }

    /** A check that fails by throwing, usually an {@link AssertionError}. */
    @FunctionalInterface
    public interface Check {
        void run() throws Exception;
    }

    /**
     * Runs {@code check} until it passes (returns without throwing); after {@code timeout},
     * fails naming {@code what}, with the check's last failure as the cause.
     */
    public static void untilPasses(String what, Duration timeout, Check check) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                check.run();
                return;
            } catch (Exception | AssertionError e) {
                if (System.nanoTime() - deadline >= 0) {
                    throw new AssertionError("Timed out after " + timeout.toMillis() + " ms waiting for " + what
                            + "; last failure: " + e.getMessage(), e);
                }
            }
            sleep(CHECK_INTERVAL_MS);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("Interrupted while waiting", e);
        }
    }
}
