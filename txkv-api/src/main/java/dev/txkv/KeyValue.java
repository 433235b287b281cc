package dev.txkv;

import java.util.Arrays;

/** One key and its value, as returned by range reads. */
public final class KeyValue {
    private final byte[] key;
    private final byte[] value;

    public KeyValue(byte[] key, byte[] value) {
        this.key = key;
        this.value = value;
    }

    /** The key. The array is shared: do not modify it. */
    public byte[] getKey() {
        return key;
    }

    /** The value. The array is shared: do not modify it. */
    public byte[] getValue() {
        return value;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyValue && Arrays.equals(key, ((KeyValue) o).key) && Arrays.equals(value, ((KeyValue) o).value);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(key) * 31 + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return ByteArrays.printable(key) + "=" + ByteArrays.printable(value);
    }
}
