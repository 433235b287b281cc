package dev.txkv;

import java.util.Objects;

/**
 * Names a key by its position relative to another key, as in FoundationDB: start from the
 * last key that is less than (or, with {@code orEqual}, less than or equal to) {@link #getKey()},
 * then move {@link #getOffset()} keys forward. Offset 1 is the next key.
 */
public final class KeySelector {
    private final byte[] key;
    private final boolean orEqual;
    private final int offset;

    public KeySelector(byte[] key, boolean orEqual, int offset) {
        this.key = Objects.requireNonNull(key, "key").clone();
        this.orEqual = orEqual;
        this.offset = offset;
    }

    /** The last key less than {@code key}. */
    public static KeySelector lastLessThan(byte[] key) {
        return new KeySelector(key, false, 0);
    }

    /** The last key less than or equal to {@code key}. */
    public static KeySelector lastLessOrEqual(byte[] key) {
        return new KeySelector(key, true, 0);
    }

    /** The first key greater than {@code key}. */
    public static KeySelector firstGreaterThan(byte[] key) {
        return new KeySelector(key, true, 1);
    }

    /** The first key greater than or equal to {@code key}. */
    public static KeySelector firstGreaterOrEqual(byte[] key) {
        return new KeySelector(key, false, 1);
    }

    /** This selector moved {@code delta} more keys forward (negative: backward). */
    public KeySelector add(int delta) {
        return new KeySelector(key, orEqual, Math.addExact(offset, delta));
    }

    /** The reference key. The array is shared: do not modify it. */
    public byte[] getKey() {
        return key;
    }

    /** Whether the reference key itself counts as "before" the starting position. */
    public boolean orEqual() {
        return orEqual;
    }

    /** How many keys to move from the starting position. */
    public int getOffset() {
        return offset;
    }

    @Override
    public String toString() {
        return "KeySelector(" + ByteArrays.printable(key) + ", " + orEqual + ", " + offset + ")";
    }
}
