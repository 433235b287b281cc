package dev.txkv.server.auth;

import dev.txkv.ByteArrays;
import dev.txkv.ErrorCode;
import dev.txkv.MutationType;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.server.tls.Audit;
import dev.txkv.spi.AtomicOps;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.Mutation;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * What one caller may do: the keys it may read and write, and its cluster rights. Every check
 * throws permission_denied (6000) naming the operation and the first key refused, and writes a
 * line to the audit log; a commit is checked whole before anything of it reaches the engine,
 * so a refused commit applies nothing.
 *
 * <p>Three kinds: {@link #OPEN} while authorization is off (everything allowed, as before
 * authorization existed), a member of the cluster (a peer certificate: everything), and a
 * user, whose roles' grants are compiled into two {@link KeyRanges}.
 */
public final class Access {
    /** A cluster right beyond keys. */
    public enum Right {
        /** Status (gRPC, {@code /status}) and {@code /metrics}. */
        STATUS,
        /** Membership, splits, users and roles. */
        ADMIN
    }

    /** Authorization is off: everything is allowed. */
    public static final Access OPEN = new Access("", null, null, true, true, true, false);

    private final String principal;
    private final KeyRanges readable;
    private final KeyRanges writable;
    private final boolean status;
    private final boolean admin;
    private final boolean everything;
    private final boolean member;

    private Access(String principal, KeyRanges readable, KeyRanges writable, boolean status, boolean admin,
            boolean everything, boolean member) {
        this.principal = principal;
        this.readable = readable;
        this.writable = writable;
        this.status = status;
        this.admin = admin;
        this.everything = everything;
        this.member = member;
    }

    /** A member of the cluster, known by its peer certificate. */
    static Access member(String name) {
        return new Access(name, null, null, true, true, true, true);
    }

    /** A user with the given grants. */
    static Access user(String name, KeyRanges readable, KeyRanges writable, boolean status, boolean admin) {
        return new Access(name, readable, writable, status || admin, admin, false, false);
    }

    /** The user or member name; empty while authorization is off. */
    public String principal() {
        return principal;
    }

    /** Whether this is a member of the cluster (the calls between servers need one). */
    public boolean isMember() {
        return member;
    }

    /** Whether this is {@link #OPEN}: authorization is off. */
    public boolean isOpen() {
        return this == OPEN;
    }

    public void checkRight(Right right, String operation) {
        boolean ok = right == Right.STATUS ? status : admin;
        if (!ok) {
            throw denied(operation, "the " + right.name().toLowerCase(java.util.Locale.ROOT) + " right", null);
        }
    }

    /** A call between servers: only members may make it once authorization is on. */
    public void checkMember(String operation) {
        if (!member && this != OPEN) {
            throw denied(operation, "a member's certificate", null);
        }
    }

    public void checkReadKey(byte[] key, String operation) {
        if (!everything && !readable.contains(key)) {
            throw denied(operation, "read", key);
        }
    }

    public void checkRead(byte[] begin, byte[] end, String operation) {
        if (!everything) {
            require(readable, begin, end, operation, "read");
        }
    }

    /** Refuses unless {@code allowed} holds every key of {@code [begin, end)}, naming the first it lacks. */
    private void require(KeyRanges allowed, byte[] begin, byte[] end, String operation, String needs) {
        if (!allowed.covers(begin, end)) {
            throw denied(operation, needs, allowed.firstOutside(begin));
        }
    }

    private void checkWriteKey(byte[] key, String operation) {
        if (!everything && !writable.contains(key)) {
            throw denied(operation, "write", key);
        }
    }

    /**
     * Checks everything a commit touches: each mutation's key or range (for a versionstamped
     * key, every key the stamp can produce), each read conflict range (read) and each write
     * conflict range (write).
     */
    public void checkCommit(CommitRequest commit, String operation) {
        if (everything) {
            return;
        }
        for (Mutation m : commit.mutations()) {
            if (m.type() == Mutation.CLEAR_RANGE) {
                require(writable, m.key(), m.param(), operation, "write");
            } else if (m.type() == MutationType.SET_VERSIONSTAMPED_KEY.code()) {
                byte[][] span = stampedKeys(m.key());
                require(writable, span[0], ByteArrays.keyAfter(span[1]), operation, "write");
            } else {
                checkWriteKey(m.key(), operation);
            }
        }
        for (Range r : commit.readConflicts()) {
            require(readable, r.begin, r.end, operation, "read (a read conflict range)");
        }
        for (Range r : commit.writeConflicts()) {
            require(writable, r.begin, r.end, operation, "write (a write conflict range)");
        }
    }

    /**
     * The idempotency id as stored: while authorization is on, SHA-256 of the principal and the
     * id, so that one service can neither read another's outcome nor shadow its id.
     */
    public byte[] idempotencyId(byte[] id) {
        if (id == null || this == OPEN) {
            return id;
        }
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(principal.getBytes(StandardCharsets.UTF_8));
            d.update((byte) 0);
            d.update(id);
            return d.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** The lowest and the highest key a versionstamped key (with its offset suffix) can become. */
    static byte[][] stampedKeys(byte[] keyWithOffset) {
        int offset = AtomicOps.versionstampOffset(keyWithOffset);
        byte[] low = Arrays.copyOf(keyWithOffset, keyWithOffset.length - AtomicOps.OFFSET_BYTES);
        byte[] high = low.clone();
        Arrays.fill(low, offset, offset + AtomicOps.VERSIONSTAMP_BYTES, (byte) 0);
        Arrays.fill(high, offset, offset + AtomicOps.VERSIONSTAMP_BYTES, (byte) 0xFF);
        return new byte[][] {low, high};
    }

    private TxkvException denied(String operation, String needs, byte[] key) {
        String hex = key == null ? "" : HexFormat.of().formatHex(key, 0, Math.min(32, key.length))
                + (key.length > 32 ? "..." : "");
        Audit.event("permission_denied", "principal", principal, "operation", operation, "needs", needs,
                "key", hex);
        return new TxkvException(ErrorCode.PERMISSION_DENIED, operation + " needs " + needs
                + (key == null ? "" : " on key " + ByteArrays.printable(Arrays.copyOf(key, Math.min(32, key.length)))
                        + " (hex " + hex + ")")
                + ", which user '" + principal + "' has not been granted");
    }

    @Override
    public String toString() {
        return this == OPEN ? "Access(open)" : "Access(" + principal + ", read " + readable + ", write " + writable
                + (status ? ", status" : "") + (admin ? ", admin" : "") + ")";
    }
}
