package dev.txkv.outbox;

import dev.txkv.Database;
import dev.txkv.KeyValue;
import dev.txkv.Range;
import dev.txkv.tuple.Versionstamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reading side of an {@link Outbox}: named consumers with durable cursors, wake-ups, and
 * trimming of events every consumer has passed. Thread-safe.
 *
 * <p>Cursors live in txkv next to the events, so they survive restarts and move in the same
 * transactions as the effects they account for (see {@link Consumer}).
 */
public final class ChangeFeed {
    /** Most consumers one feed tracks; trimming reads them all. */
    public static final int CONSUMERS_MAX = 1_000;
    /** Longest wait for new events in one call. */
    public static final Duration WAIT_MAX = Duration.ofMinutes(5);

    private final Database db;
    private final Outbox outbox;

    /** The feed of {@code outbox} in {@code db}. */
    public ChangeFeed(Database db, Outbox outbox) {
        this.db = Objects.requireNonNull(db, "db");
        this.outbox = Objects.requireNonNull(outbox, "outbox");
    }

    /** The outbox this feed reads. */
    public Outbox outbox() {
        return outbox;
    }

    /** The database this feed reads. */
    public Database database() {
        return db;
    }

    /**
     * The consumer {@code name}, registered with its cursor at {@link Outbox#START} if new (it
     * then sees every retained event). Registered consumers hold back {@link #trim()}.
     */
    public Consumer consumer(String name) {
        byte[] key = outbox.cursorKey(name);
        db.run(tr -> {
            if (tr.get(key).join() == null) {
                if (tr.getRange(outbox.cursorRange(), CONSUMERS_MAX).asList().join().size() >= CONSUMERS_MAX) {
                    throw new IllegalStateException("feed already has " + CONSUMERS_MAX + " consumers");
                }
                tr.set(key, Outbox.START.getBytes());
            }
            return null;
        });
        return new Consumer(this, name, key);
    }

    /** Unregisters consumer {@code name}; it no longer holds back trimming. */
    public void removeConsumer(String name) {
        byte[] key = outbox.cursorKey(name);
        db.run(tr -> {
            tr.clear(key);
            return null;
        });
    }

    /** Every registered consumer's cursor. */
    public List<Cursor> cursors() {
        return db.read(tr -> {
            List<Cursor> out = new ArrayList<>();
            for (KeyValue kv : tr.getRange(outbox.cursorRange(), CONSUMERS_MAX).asList().join()) {
                out.add(new Cursor(outbox.consumerOf(kv.getKey()), Versionstamp.fromBytes(kv.getValue())));
            }
            return out;
        });
    }

    /** Up to {@code limit} events after {@code after}, in commit order. */
    public List<Event> read(Versionstamp after, int limit) {
        return db.read(tr -> outbox.read(tr, after, limit).join());
    }

    /**
     * Waits until an event after {@code after} exists or {@code timeout} passes; true if one
     * exists. A watch on the outbox's "last event" key wakes it early. Callers read the events
     * afterwards either way: a wake-up is a hint, never the delivery.
     */
    public boolean awaitEventsAfter(Versionstamp after, Duration timeout) {
        if (timeout.isNegative() || timeout.compareTo(WAIT_MAX) > 0) {
            throw new IllegalArgumentException("timeout must be in [0, " + WAIT_MAX + "]");
        }
        byte[] lastKey = outbox.lastEventKey();
        // Reading the last position and registering the watch in one transaction closes the gap
        // in which an event could commit unseen: the watch fires on any change after that read.
        Optional<CompletableFuture<Void>> watch = db.run(tr -> {
            byte[] last = tr.get(lastKey).join();
            if (last != null && Versionstamp.fromBytes(last).compareTo(after) > 0) {
                return Optional.empty();
            }
            return Optional.of(tr.watch(lastKey));
        });
        if (watch.isEmpty()) {
            return true;
        }
        try {
            watch.get().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            // Fall through to the authoritative read below.
        } catch (ExecutionException e) {
            // A failed watch (e.g. too many watches) degrades to polling.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            watch.get().cancel(true);
        }
        return !read(after, 1).isEmpty();
    }

    /**
     * Clears every event that all registered consumers have processed; returns the position
     * trimmed through, or empty if nothing could be trimmed (no consumers, or all at the start).
     */
    public Optional<Versionstamp> trim() {
        return db.run(tr -> {
            List<KeyValue> all = tr.getRange(outbox.cursorRange(), CONSUMERS_MAX).asList().join();
            Versionstamp min = null;
            for (KeyValue kv : all) {
                Versionstamp position = Versionstamp.fromBytes(kv.getValue());
                if (min == null || position.compareTo(min) < 0) {
                    min = position;
                }
            }
            if (min == null || min.equals(Outbox.START)) {
                return Optional.empty();
            }
            Range events = outbox.eventRange();
            tr.clear(events.begin, Outbox.keyAfter(outbox.eventKey(min)));
            return Optional.of(min);
        });
    }
}
