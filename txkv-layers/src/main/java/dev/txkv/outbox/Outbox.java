package dev.txkv.outbox;

import dev.txkv.KeyValue;
import dev.txkv.MutationType;
import dev.txkv.Range;
import dev.txkv.ReadTransaction;
import dev.txkv.Transaction;
import dev.txkv.subspace.Subspace;
import dev.txkv.tuple.Tuple;
import dev.txkv.tuple.Versionstamp;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;

/**
 * The transactional outbox: events written in the same transaction as the state change they
 * describe, so an event exists exactly when its change committed. Read them with a
 * {@link ChangeFeed}. Thread-safe.
 *
 * <h2>Implementation notes</h2>
 *
 * Key layout under the outbox subspace {@code O}:
 *
 * <pre>
 * O + (0, vs)          → (key, type, payload, createdAtMs)   events, vs = 12-byte versionstamp
 * O + (1,)             → vs (12 bytes, written by SET_VERSIONSTAMPED_VALUE)  newest event: the watch key
 * O + (2, consumer)    → vs (12 raw bytes)                    each consumer's cursor
 *
 * event key bytes:  O | 15 00 | 33 | commit version (8, big-endian) | batch order (2) | user version (2)
 * </pre>
 *
 * <ul>
 *   <li><b>Commit order.</b> The event key is the commit's versionstamp, filled in by the
 *       database at commit ({@code SET_VERSIONSTAMPED_KEY}), so keys sort in commit order and
 *       concurrent publishers never write the same key or conflict. Per-key order equals commit
 *       order because the whole feed is in commit order.</li>
 *   <li><b>No skipped events.</b> A reader at read version {@code rv} sees every commit at or
 *       below {@code rv}; any later commit gets a version above {@code rv} and so a key above
 *       every key the reader saw. A cursor moved to the last event read can therefore never
 *       pass an event that commits later. (Timestamp- or sequence-keyed outboxes lack this.)</li>
 *   <li><b>Exactly one event per committed change</b> falls out of the transaction: the event is
 *       one more write of it. Aborted or retried attempts leave nothing.</li>
 *   <li><b>Wake-ups.</b> Each publish also writes the "last event" key with
 *       {@code SET_VERSIONSTAMPED_VALUE}: a blind write, so publishers do not conflict, and a
 *       changed value, so watches on it fire. Watches only wake consumers; delivery relies on
 *       reading the events range (consumers also poll with a timeout).</li>
 *   <li><b>Trimming</b> clears the events at or before the smallest cursor, which every
 *       registered consumer has passed.</li>
 * </ul>
 */
public final class Outbox {
    /** Position before every event: a new consumer starting here sees the whole retained feed. */
    public static final Versionstamp START = Versionstamp.complete(new byte[Versionstamp.TRANSACTION_VERSION_LENGTH], 0);
    /** Largest event payload, in bytes. */
    public static final int PAYLOAD_BYTES_MAX = 64 * 1024;
    /** Longest event key or type, in UTF-8 bytes. */
    public static final int NAME_BYTES_MAX = 1_024;
    /** Most events one transaction may publish to one outbox (the versionstamp's 2-byte order). */
    public static final int EVENTS_PER_TRANSACTION_MAX = 0x10000;
    /** Most events one read returns. */
    public static final int READ_BATCH_MAX = 10_000;

    private static final long EVENTS = 0;
    private static final long LAST = 1;
    private static final long CURSORS = 2;

    private final Subspace events;
    private final byte[] lastEventKey;
    private final Subspace cursors;
    private final Clock clock;
    private final Map<Transaction, int[]> userVersions = Collections.synchronizedMap(new WeakHashMap<>());

    /** An outbox stored under {@code root}; {@code clock} only stamps {@link Event#createdAtMs()}. */
    public Outbox(Subspace root, Clock clock) {
        Objects.requireNonNull(root, "root");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.events = root.get(EVENTS);
        this.lastEventKey = root.pack(Tuple.from(LAST));
        this.cursors = root.get(CURSORS);
    }

    /**
     * Publishes an event in the caller's transaction. It becomes visible to consumers when that
     * transaction commits, at a position after every event committed before it. The writes are
     * blind, so a retry after {@code commit_unknown_result} would publish twice: give such
     * transactions {@code tr.options().setAutomaticIdempotency()}.
     */
    public void publish(Transaction tr, String key, String type, byte[] payload) {
        checkName(key, "key");
        checkName(type, "type");
        Objects.requireNonNull(payload, "payload");
        if (payload.length > PAYLOAD_BYTES_MAX) {
            throw new IllegalArgumentException("payload of " + payload.length + " bytes exceeds " + PAYLOAD_BYTES_MAX);
        }
        int userVersion = nextUserVersion(tr);
        Tuple eventKey = Tuple.from(Versionstamp.incomplete(userVersion));
        tr.mutate(MutationType.SET_VERSIONSTAMPED_KEY, events.packWithVersionstamp(eventKey),
                Tuple.from(key, type, payload, clock.millis()).pack());
        tr.mutate(MutationType.SET_VERSIONSTAMPED_VALUE, lastEventKey, lastEventValue(userVersion));
    }

    /** Up to {@code limit} events after {@code after}, in commit order. Adds no conflict ranges. */
    public CompletableFuture<List<Event>> read(ReadTransaction tr, Versionstamp after, int limit) {
        if (limit < 1 || limit > READ_BATCH_MAX) {
            throw new IllegalArgumentException("limit must be in [1, " + READ_BATCH_MAX + "], got " + limit);
        }
        byte[] begin = keyAfter(events.pack(Tuple.from(after)));
        return tr.snapshot().getRange(begin, events.range().end, limit).asList().thenApply(rows -> {
            List<Event> out = new ArrayList<>(rows.size());
            for (KeyValue kv : rows) {
                out.add(decode(kv));
            }
            return out;
        });
    }

    /** The newest event's position, or {@link #START} if nothing was ever published. */
    public CompletableFuture<Versionstamp> lastPosition(ReadTransaction tr) {
        return tr.get(lastEventKey).thenApply(v -> v == null ? START : Versionstamp.fromBytes(v));
    }

    /** The key whose value changes with every publish; watch it to wake up. */
    byte[] lastEventKey() {
        return lastEventKey;
    }

    byte[] cursorKey(String consumer) {
        checkName(consumer, "consumer");
        return cursors.pack(Tuple.from(consumer));
    }

    Range cursorRange() {
        return cursors.range();
    }

    String consumerOf(byte[] cursorKey) {
        return cursors.unpack(cursorKey).getString(0);
    }

    /** The key of the event at {@code position}. */
    byte[] eventKey(Versionstamp position) {
        return events.pack(Tuple.from(position));
    }

    Range eventRange() {
        return events.range();
    }

    private Event decode(KeyValue kv) {
        Versionstamp position = events.unpack(kv.getKey()).getVersionstamp(0);
        Tuple v = Tuple.fromBytes(kv.getValue());
        return new Event(position, v.getString(0), v.getString(1), v.getBytes(2), v.getLong(3));
    }

    /** 10 placeholder bytes for the commit's stamp, the 2-byte user version, then offset 0 (4 bytes LE). */
    private static byte[] lastEventValue(int userVersion) {
        byte[] v = new byte[Versionstamp.LENGTH + 4];
        v[10] = (byte) (userVersion >>> 8);
        v[11] = (byte) userVersion;
        return v;
    }

    private int nextUserVersion(Transaction tr) {
        int[] counter = userVersions.computeIfAbsent(tr, t -> new int[1]);
        synchronized (counter) {
            return counter[0]++ & (EVENTS_PER_TRANSACTION_MAX - 1);
        }
    }

    static byte[] keyAfter(byte[] key) {
        return Arrays.copyOf(key, key.length + 1);
    }

    static void checkName(String name, String what) {
        Objects.requireNonNull(name, what);
        if (name.getBytes(StandardCharsets.UTF_8).length > NAME_BYTES_MAX) {
            throw new IllegalArgumentException(what + " exceeds " + NAME_BYTES_MAX + " bytes");
        }
    }
}
