package dev.txkv;

import java.util.Arrays;
import java.util.Objects;

/** A key range {@code [begin, end)}: begin included, end excluded. Immutable. */
public final class Range {
    /** The begin key (inclusive). */
    public final byte[] begin;
    /** The end key (exclusive). */
    public final byte[] end;

    public Range(byte[] begin, byte[] end) {
        this.begin = Objects.requireNonNull(begin, "begin").clone();
        this.end = Objects.requireNonNull(end, "end").clone();
    }

    /** All keys that begin with {@code prefix}. */
    public static Range startsWith(byte[] prefix) {
        return new Range(prefix, ByteArrays.strinc(prefix));
    }

    /** True when {@code key} lies in {@code [begin, end)}. */
    public boolean contains(byte[] key) {
        return ByteArrays.compareUnsigned(begin, key) <= 0 && ByteArrays.compareUnsigned(key, end) < 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Range && Arrays.equals(begin, ((Range) o).begin) && Arrays.equals(end, ((Range) o).end);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(begin) * 31 + Arrays.hashCode(end);
    }

    @Override
    public String toString() {
        return "Range(" + ByteArrays.printable(begin) + ", " + ByteArrays.printable(end) + ")";
    }
}
