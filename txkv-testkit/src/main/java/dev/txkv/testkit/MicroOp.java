package dev.txkv.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One step of a recorded transaction: an append to or a read of a list (the list-append
 * workload), or a write or read of a register (the bank workload). Keys and values are longs:
 * the workloads map them to byte keys and values themselves, and small numbers keep histories
 * readable.
 *
 * <p>A read carries the observed {@link #list()}, or null when the result is unknown (planned
 * but not performed, or recorded for an operation whose outcome is unknown). A register read
 * stores its result as a list of zero (key absent) or one element.
 *
 * @param kind what the step does
 * @param key the key it touches
 * @param value the appended or written value; 0 for reads
 * @param list the observed list for reads, null when unknown; always null for writes
 */
public record MicroOp(Kind kind, long key, long value, List<Long> list) {
    /** The kinds of step. */
    public enum Kind {
        /** Append {@code value} to the list at {@code key}. */
        APPEND("append"),
        /** Read the whole list at {@code key}. */
        READ_LIST("r"),
        /** Set the register at {@code key} to {@code value}. */
        WRITE("w"),
        /** Read the register at {@code key}. */
        READ("g");

        private final String token;

        Kind(String token) {
            this.token = token;
        }

        /** The short name used in the history file format. */
        public String token() {
            return token;
        }

        /** The inverse of {@link #token()}. */
        public static Kind ofToken(String token) {
            for (Kind k : values()) {
                if (k.token.equals(token)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("Unknown micro-operation: " + token);
        }
    }

    public MicroOp {
        Objects.requireNonNull(kind, "kind");
        if (isWrite(kind) && list != null) {
            throw new IllegalArgumentException(kind + " carries no list");
        }
        if (!isWrite(kind) && value != 0) {
            throw new IllegalArgumentException(kind + " carries no value");
        }
        if (kind == Kind.READ && list != null && list.size() > 1) {
            throw new IllegalArgumentException("A register read holds at most one value: " + list);
        }
        list = list == null ? null : List.copyOf(list);
    }

    /** Appends {@code value} to the list at {@code key}. */
    public static MicroOp append(long key, long value) {
        return new MicroOp(Kind.APPEND, key, value, null);
    }

    /** A read of the list at {@code key} that observed {@code list} (empty when the key was absent). */
    public static MicroOp readList(long key, List<Long> list) {
        return new MicroOp(Kind.READ_LIST, key, 0, Objects.requireNonNull(list, "list"));
    }

    /** A read of the list at {@code key} whose result is unknown. */
    public static MicroOp readListUnknown(long key) {
        return new MicroOp(Kind.READ_LIST, key, 0, null);
    }

    /** Sets the register at {@code key} to {@code value}. */
    public static MicroOp write(long key, long value) {
        return new MicroOp(Kind.WRITE, key, value, null);
    }

    /** A read of the register at {@code key} that observed {@code valueOrNull} (null: absent). */
    public static MicroOp readRegister(long key, Long valueOrNull) {
        return new MicroOp(Kind.READ, key, 0, valueOrNull == null ? List.of() : List.of(valueOrNull));
    }

    /** A read of the register at {@code key} whose result is unknown. */
    public static MicroOp readRegisterUnknown(long key) {
        return new MicroOp(Kind.READ, key, 0, null);
    }

    /** True for {@link Kind#APPEND} and {@link Kind#WRITE}. */
    public boolean isWrite() {
        return isWrite(kind);
    }

    /** True for {@link Kind#READ_LIST} and {@link Kind#READ}. */
    public boolean isRead() {
        return !isWrite(kind);
    }

    /** For a read: whether its result is known. */
    public boolean known() {
        return list != null;
    }

    /** For a known register read: the value, or null when the key was absent. */
    public Long registerValue() {
        if (kind != Kind.READ || list == null) {
            throw new IllegalStateException("Not a known register read: " + this);
        }
        return list.isEmpty() ? null : list.get(0);
    }

    /** This read with result {@code observed} (for register reads: zero or one element). */
    public MicroOp withList(List<Long> observed) {
        if (!isRead()) {
            throw new IllegalStateException("Not a read: " + this);
        }
        return new MicroOp(kind, key, 0, observed);
    }

    private static boolean isWrite(Kind kind) {
        return kind == Kind.APPEND || kind == Kind.WRITE;
    }

    /** The history-format token, e.g. {@code append:3:17}, {@code r:3:1,2}, {@code g:2:nil}, {@code r:3:?}. */
    public String token() {
        StringBuilder sb = new StringBuilder().append(kind.token()).append(':').append(key).append(':');
        if (isWrite()) {
            return sb.append(value).toString();
        }
        if (list == null) {
            return sb.append('?').toString();
        }
        if (kind == Kind.READ) {
            return sb.append(list.isEmpty() ? "nil" : String.valueOf(list.get(0))).toString();
        }
        for (int i = 0; i < list.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(list.get(i));
        }
        return sb.toString();
    }

    /** The inverse of {@link #token()}. */
    public static MicroOp ofToken(String token) {
        String[] parts = token.split(":", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("Malformed micro-operation: " + token);
        }
        Kind kind = Kind.ofToken(parts[0]);
        long key = Long.parseLong(parts[1]);
        String body = parts[2];
        if (isWrite(kind)) {
            return new MicroOp(kind, key, Long.parseLong(body), null);
        }
        if (body.equals("?")) {
            return new MicroOp(kind, key, 0, null);
        }
        if (kind == Kind.READ) {
            return readRegister(key, body.equals("nil") ? null : Long.valueOf(body));
        }
        List<Long> values = new ArrayList<>();
        if (!body.isEmpty()) {
            for (String v : body.split(",", -1)) {
                values.add(Long.parseLong(v));
            }
        }
        return readList(key, values);
    }

    @Override
    public String toString() {
        return token();
    }
}
