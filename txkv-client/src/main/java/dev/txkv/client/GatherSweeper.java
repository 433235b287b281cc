package dev.txkv.client;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Sends the gathered first reads of transactions that nobody waited for or chained onto (only
 * {@code CompletableFuture.allOf} and the like looked at them) once their time is up. One daemon
 * thread per JVM, which sweeps at most once a millisecond while transactions start and sleeps
 * when none have for a while: a timer per transaction would wake two threads for every
 * transaction, which on a small machine costs the very latency the gathering saves.
 */
final class GatherSweeper {
    /** Between sweeps while work comes in; the longest a gathered read waits is about this plus its delay. */
    private static final long SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** Empty sweeps before the thread parks until the next registration. */
    private static final int IDLE_SWEEPS = 100;

    private record Entry(long dueNanos, Runnable send) {
    }

    private static final ConcurrentLinkedQueue<Entry> QUEUE = new ConcurrentLinkedQueue<>();
    private static volatile boolean sleeping;
    private static volatile Thread thread;

    private GatherSweeper() {
    }

    /** Runs {@code send} about {@code delayNanos} from now (later under load); it must be idempotent. */
    static void register(Runnable send, long delayNanos) {
        QUEUE.offer(new Entry(System.nanoTime() + delayNanos, send));
        Thread t = thread;
        if (t == null) {
            t = start();
        }
        if (sleeping) {
            LockSupport.unpark(t);
        }
    }

    private static synchronized Thread start() {
        if (thread == null) {
            Thread t = new Thread(GatherSweeper::run, "txkv-gather");
            t.setDaemon(true);
            t.start();
            thread = t;
        }
        return thread;
    }

    private static void run() {
        int idle = 0;
        while (true) {
            long now = System.nanoTime();
            boolean any = false;
            Entry e;
            while ((e = QUEUE.peek()) != null && e.dueNanos() - now <= 0) {
                QUEUE.poll();
                any = true;
                try {
                    e.send().run();
                } catch (RuntimeException ex) {
                    // The send reports its own failures to the reads' futures.
                }
            }
            if (any || !QUEUE.isEmpty()) {
                idle = 0;
                LockSupport.parkNanos(SWEEP_NANOS);
                continue;
            }
            if (++idle < IDLE_SWEEPS) {
                LockSupport.parkNanos(SWEEP_NANOS);
                continue;
            }
            sleeping = true;
            if (QUEUE.isEmpty()) {
                LockSupport.park();
            }
            sleeping = false;
            idle = 0;
        }
    }
}
