package dev.txkv.outbox;

import dev.txkv.MutationType;
import dev.txkv.Transaction;
import dev.txkv.tuple.Versionstamp;
import java.time.Duration;
import java.util.List;

/**
 * A named reader of a {@link ChangeFeed} with a durable cursor. Two ways to process:
 *
 * <ul>
 *   <li>{@link #processInTransaction}: the handler's writes to txkv and the cursor advance
 *       commit in one transaction, so each event's effect in txkv happens exactly once.</li>
 *   <li>{@link #handle}: for effects outside txkv (a message broker, an e-mail). The handler
 *       runs outside any transaction and the cursor advances only after it succeeded, so an
 *       event is delivered at least once: a crash between the handler and the advance repeats
 *       it. Make the handler idempotent, e.g. keyed by {@link Event#position()}.</li>
 * </ul>
 *
 * Thread-safe, but one consumer name should have one active processor: two would each see
 * the same events ({@code handle}) or take turns through conflicts ({@code processInTransaction}).
 */
public final class Consumer {
    /** Most events handled per call. */
    public static final int BATCH_MAX = 1_000;

    /** A handler of events whose effects are writes in the given transaction. */
    @FunctionalInterface
    public interface TransactionalHandler {
        /** Applies {@code event}'s effects in {@code tr}; may run again if the transaction retries. */
        void handle(Transaction tr, Event event);
    }

    /** A handler of events whose effects lie outside txkv. */
    @FunctionalInterface
    public interface EventHandler {
        /** Handles {@code event}; throwing stops the batch before it, to be handed out again. */
        void handle(Event event) throws Exception;
    }

    private final ChangeFeed feed;
    private final String name;
    private final byte[] cursorKey;

    Consumer(ChangeFeed feed, String name, byte[] cursorKey) {
        this.feed = feed;
        this.name = name;
        this.cursorKey = cursorKey;
    }

    /** The consumer's name. */
    public String name() {
        return name;
    }

    /** The consumer's cursor as stored now. */
    public Cursor cursor() {
        return new Cursor(name, feed.database().read(tr -> position(tr.get(cursorKey).join())));
    }

    /**
     * Handles up to {@code maxEvents} events with {@code handler} and advances the cursor past
     * them, all in one transaction; returns how many were handled. The cursor read carries a
     * conflict range, so two processors of one consumer cannot both apply the same event.
     */
    public int processInTransaction(int maxEvents, TransactionalHandler handler) {
        checkBatch(maxEvents);
        return feed.database().run(tr -> {
            byte[] raw = tr.get(cursorKey).join();
            if (raw == null) {
                throw new IllegalStateException("consumer " + name + " was removed");
            }
            List<Event> events = feed.outbox().read(tr, position(raw), maxEvents).join();
            for (Event event : events) {
                handler.handle(tr, event);
            }
            if (!events.isEmpty()) {
                tr.set(cursorKey, events.get(events.size() - 1).position().getBytes());
            }
            return events.size();
        });
    }

    /** Up to {@code maxEvents} events after the cursor, without moving it. */
    public List<Event> poll(int maxEvents) {
        checkBatch(maxEvents);
        return feed.database().read(tr -> feed.outbox().read(tr, position(tr.get(cursorKey).join()), maxEvents).join());
    }

    /**
     * Polls up to {@code maxEvents} events, hands each to {@code handler}, then advances the
     * cursor past the ones handled; returns how many. If the handler throws, the cursor stops
     * before the failing event and the exception propagates. At-least-once delivery.
     */
    public int handle(int maxEvents, EventHandler handler) throws Exception {
        List<Event> events = poll(maxEvents);
        int done = 0;
        try {
            for (Event event : events) {
                handler.handle(event);
                done++;
            }
        } finally {
            if (done > 0) {
                commit(events.get(done - 1).position());
            }
        }
        return done;
    }

    /**
     * As {@link #handle}, but if nothing is pending waits up to {@code timeout} for a new event
     * (woken early by a watch) and tries once more.
     */
    public int handleOrWait(int maxEvents, Duration timeout, EventHandler handler) throws Exception {
        int done = handle(maxEvents, handler);
        if (done > 0) {
            return done;
        }
        if (feed.awaitEventsAfter(cursor().position(), timeout)) {
            return handle(maxEvents, handler);
        }
        return 0;
    }

    /**
     * Records that every event up to {@code position} is processed. Never moves the cursor
     * backwards: the byte-wise maximum is kept ({@code BYTE_MAX}, which also adds no conflict).
     * Committing for a removed consumer registers it again.
     */
    public void commit(Versionstamp position) {
        feed.database().run(tr -> {
            tr.mutate(MutationType.BYTE_MAX, cursorKey, position.getBytes());
            return null;
        });
    }

    private Versionstamp position(byte[] raw) {
        if (raw == null) {
            throw new IllegalStateException("consumer " + name + " was removed");
        }
        return Versionstamp.fromBytes(raw);
    }

    private static void checkBatch(int maxEvents) {
        if (maxEvents < 1 || maxEvents > BATCH_MAX) {
            throw new IllegalArgumentException("maxEvents must be in [1, " + BATCH_MAX + "], got " + maxEvents);
        }
    }
}
