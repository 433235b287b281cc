package dev.txkv.lease;

import dev.txkv.Database;
import dev.txkv.ReadTransaction;
import dev.txkv.Transaction;
import dev.txkv.subspace.Subspace;
import dev.txkv.tuple.Tuple;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Named leases (locks with an expiry) with fencing tokens. Thread-safe.
 *
 * <h2>Implementation notes</h2>
 *
 * Key layout under subspace {@code L}:
 *
 * <pre>
 * L + (name) → (fencingToken, holder|null, expiresAtMs)
 * </pre>
 *
 * <ul>
 *   <li><b>Acquire</b> reads the record with a conflict range and, if it is free (no holder,
 *       released, or expired), writes {@code token + 1}. Two concurrent acquirers both read the
 *       record, so only the first to commit succeeds; the other retries and finds it taken.
 *       The record is never deleted, so tokens only grow.</li>
 *   <li><b>Fencing.</b> {@link #checkFence} reads the record with a conflict range in the
 *       caller's side-effecting transaction and refuses a token that is not the current,
 *       unexpired one. If another holder acquires after that read but before the commit, the
 *       acquisition wrote the record, so the caller's commit fails with {@code not_committed};
 *       its retry reads the new token and throws {@link FencingException}. A holder paused for
 *       any length of time (GC, a stalled VM) therefore cannot write after losing the lease:
 *       the check and the write are one atomic commit, unlike a check before a write to a
 *       separate system.</li>
 *   <li><b>Time.</b> Expiry is judged by the caller's clock; clients' clocks must be roughly in
 *       sync. Skew only changes <i>when</i> a lease may be taken over; fencing keeps a former
 *       holder from writing either way, since a takeover always bumps the token.</li>
 * </ul>
 */
public final class LeaseManager {
    /** Longest lease. */
    public static final Duration TTL_MAX = Duration.ofDays(1);
    /** Longest lease name or holder id, in UTF-8 bytes. */
    public static final int NAME_BYTES_MAX = 512;

    private final Subspace root;
    private final Clock clock;

    /** Leases stored under {@code root}, timed by {@code clock}. */
    public LeaseManager(Subspace root, Clock clock) {
        this.root = Objects.requireNonNull(root, "root");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Acquires {@code name} for {@code holder} for {@code ttl} in the caller's transaction if it
     * is free (never held, released or expired); empty if someone else holds it. A holder
     * acquiring its own unexpired lease again gets a new token (the old one stops working).
     */
    public Optional<Lease> tryAcquire(Transaction tr, String name, String holder, Duration ttl) {
        checkName(name);
        checkName(holder);
        long ttlMs = checkTtl(ttl);
        long now = clock.millis();
        byte[] key = root.pack(Tuple.from(name));
        Record current = Record.decode(tr.get(key).join());
        if (current.isHeldAt(now) && !holder.equals(current.holder)) {
            return Optional.empty();
        }
        Lease lease = new Lease(name, holder, current.token + 1, now + ttlMs);
        tr.set(key, Tuple.from(lease.fencingToken(), holder, lease.expiresAtMs()).pack());
        return Optional.of(lease);
    }

    /** As {@link #tryAcquire(Transaction, String, String, Duration)} in a retry loop of its own. */
    public Optional<Lease> tryAcquire(Database db, String name, String holder, Duration ttl) {
        return db.run(tr -> tryAcquire(tr, name, holder, ttl));
    }

    /**
     * Extends a lease that is still current and unexpired to {@code ttl} from now, keeping its
     * token; throws {@link FencingException} if it was lost.
     */
    public Lease renew(Database db, Lease lease, Duration ttl) {
        long ttlMs = checkTtl(ttl);
        return db.run(tr -> {
            checkFence(tr, lease.name(), lease.fencingToken());
            Lease renewed = new Lease(lease.name(), lease.holder(), lease.fencingToken(), clock.millis() + ttlMs);
            tr.set(root.pack(Tuple.from(lease.name())),
                    Tuple.from(renewed.fencingToken(), renewed.holder(), renewed.expiresAtMs()).pack());
            return renewed;
        });
    }

    /** Releases a lease if it is still current; returns false if it had already been lost. Keeps the token. */
    public boolean release(Database db, Lease lease) {
        return db.run(tr -> {
            byte[] key = root.pack(Tuple.from(lease.name()));
            Record current = Record.decode(tr.get(key).join());
            if (current.token != lease.fencingToken() || current.holder == null) {
                return false;
            }
            tr.set(key, Tuple.from(current.token, null, 0L).pack());
            return true;
        });
    }

    /**
     * Fails the caller's transaction with {@link FencingException} unless {@code token} is the
     * current, unexpired token of {@code name}; adds a read conflict on the lease record so a
     * takeover committed before this transaction makes it retry and fail here. Call it in every
     * transaction whose writes only the lease holder may make.
     */
    public void checkFence(Transaction tr, String name, long token) {
        checkName(name);
        Record current = Record.decode(tr.get(root.pack(Tuple.from(name))).join());
        long now = clock.millis();
        if (current.token != token) {
            throw new FencingException("Fencing token " + token + " of lease " + name + " is stale; current is " + current.token);
        }
        if (current.holder == null) {
            throw new FencingException("Lease " + name + " with token " + token + " was released");
        }
        if (!current.isHeldAt(now)) {
            throw new FencingException("Lease " + name + " with token " + token + " expired at " + current.expiresAtMs
                    + " (now " + now + ")");
        }
    }

    /** As {@link #checkFence(Transaction, String, long)} for {@code lease}. */
    public void checkFence(Transaction tr, Lease lease) {
        checkFence(tr, lease.name(), lease.fencingToken());
    }

    /** The current holder's lease on {@code name}, if held and unexpired. */
    public Optional<Lease> current(ReadTransaction tr, String name) {
        checkName(name);
        Record record = Record.decode(tr.get(root.pack(Tuple.from(name))).join());
        if (!record.isHeldAt(clock.millis())) {
            return Optional.empty();
        }
        return Optional.of(new Lease(name, record.holder, record.token, record.expiresAtMs));
    }

    /** The latest fencing token issued for {@code name}; 0 if it was never acquired. */
    public long latestToken(ReadTransaction tr, String name) {
        checkName(name);
        return Record.decode(tr.get(root.pack(Tuple.from(name))).join()).token;
    }

    private static long checkTtl(Duration ttl) {
        if (ttl.toMillis() < 1 || ttl.compareTo(TTL_MAX) > 0) {
            throw new IllegalArgumentException("ttl must be in [1 ms, " + TTL_MAX + "], got " + ttl);
        }
        return ttl.toMillis();
    }

    private static void checkName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.getBytes(StandardCharsets.UTF_8).length > NAME_BYTES_MAX) {
            throw new IllegalArgumentException("name exceeds " + NAME_BYTES_MAX + " bytes");
        }
    }

    /** The stored lease record; token 0 and no holder when absent. */
    private static final class Record {
        final long token;
        final String holder;
        final long expiresAtMs;

        Record(long token, String holder, long expiresAtMs) {
            this.token = token;
            this.holder = holder;
            this.expiresAtMs = expiresAtMs;
        }

        static Record decode(byte[] raw) {
            if (raw == null) {
                return new Record(0, null, 0);
            }
            Tuple t = Tuple.fromBytes(raw);
            return new Record(t.getLong(0), t.getString(1), t.getLong(2));
        }

        boolean isHeldAt(long nowMs) {
            return holder != null && nowMs < expiresAtMs;
        }
    }
}
