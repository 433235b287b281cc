package dev.txkv.remote;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Adaptive batching of one kind of call to one server: while fewer than
 * {@code inFlightMax} batch calls are outstanding, a request goes out at once (a lone request
 * waits for nothing); otherwise it waits in a queue, and when a call returns, everything queued
 * goes out as the next batch (split at {@code elementsMax} elements or {@code bytesMax} bytes).
 * Under load the batches grow by themselves to what arrived during one round trip, so the
 * per-call cost is shared without a timer or a tuning knob for latency.
 *
 * @param <Q> one element's request
 * @param <R> one element's answer
 */
final class Coalescer<Q, R> {
    /** One queued request and the future its caller holds. */
    static final class Element<Q, R> {
        final Q request;
        final int bytes;
        final CompletableFuture<R> future = new CompletableFuture<>();

        Element(Q request, int bytes) {
            this.request = request;
            this.bytes = bytes;
        }
    }

    /** Sends one batch as one call. */
    interface Sender<Q, R> {
        /**
         * Sends {@code batch}; completes every element's future, then runs {@code done} exactly
         * once when the call has ended (with an answer or not). May run {@code done} before
         * returning.
         */
        void send(List<Element<Q, R>> batch, Runnable done);
    }

    private final int inFlightMax;
    private final int elementsMax;
    private final long bytesMax;
    private final Sender<Q, R> sender;
    private final ArrayDeque<Element<Q, R>> queue = new ArrayDeque<>();
    private int inFlight;
    private long batches;
    private long elements;

    Coalescer(int inFlightMax, int elementsMax, long bytesMax, Sender<Q, R> sender) {
        this.inFlightMax = inFlightMax;
        this.elementsMax = elementsMax;
        this.bytesMax = bytesMax;
        this.sender = sender;
    }

    /** Queues or sends {@code request}, which is about {@code bytes} bytes on the wire. */
    CompletableFuture<R> submit(Q request, int bytes) {
        Element<Q, R> e = new Element<>(request, bytes);
        List<List<Element<Q, R>>> toSend;
        synchronized (this) {
            queue.add(e);
            if (inFlight >= inFlightMax) {
                return e.future;
            }
            toSend = drainLocked();
        }
        sendAll(toSend);
        return e.future;
    }

    /** Batch calls sent so far and the elements they carried (for tests and diagnostics). */
    synchronized long[] sent() {
        return new long[] {batches, elements};
    }

    private void finished() {
        List<List<Element<Q, R>>> toSend;
        synchronized (this) {
            inFlight--;
            if (queue.isEmpty()) {
                return;
            }
            toSend = drainLocked();
        }
        sendAll(toSend);
    }

    private List<List<Element<Q, R>>> drainLocked() {
        List<List<Element<Q, R>>> out = new ArrayList<>(1);
        List<Element<Q, R>> batch = new ArrayList<>(Math.min(queue.size(), elementsMax));
        long bytes = 0;
        for (Element<Q, R> e; (e = queue.poll()) != null; ) {
            if (!batch.isEmpty() && (batch.size() >= elementsMax || bytes + e.bytes > bytesMax)) {
                out.add(batch);
                batch = new ArrayList<>(Math.min(queue.size() + 1, elementsMax));
                bytes = 0;
            }
            batch.add(e);
            bytes += e.bytes;
        }
        out.add(batch);
        inFlight += out.size();
        batches += out.size();
        for (List<Element<Q, R>> b : out) {
            elements += b.size();
        }
        return out;
    }

    private void sendAll(List<List<Element<Q, R>>> toSend) {
        for (List<Element<Q, R>> batch : toSend) {
            Runnable done = new Runnable() {
                private boolean ran;

                @Override
                public void run() {
                    // Exactly once, even if a sender both fails and reports the end.
                    synchronized (this) {
                        if (ran) {
                            return;
                        }
                        ran = true;
                    }
                    finished();
                }
            };
            try {
                sender.send(batch, done);
            } catch (RuntimeException | Error t) {
                for (Element<Q, R> e : batch) {
                    e.future.completeExceptionally(t);
                }
                done.run();
            }
        }
    }
}
