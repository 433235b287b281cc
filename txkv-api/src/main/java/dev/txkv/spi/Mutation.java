package dev.txkv.spi;

import dev.txkv.ByteArrays;

/**
 * One buffered write as sent to the commit pipeline. {@code type} is {@link #SET},
 * {@link #CLEAR_RANGE} (key = begin, param = end) or an atomic {@link dev.txkv.MutationType}
 * code. A point clear is a clear range {@code [key, key + 0x00)}.
 */
public record Mutation(int type, byte[] key, byte[] param) {
    /** Sets key to param. FoundationDB's code for SetValue. */
    public static final int SET = 0;
    /** Clears [key, param). FoundationDB's code for ClearRange. */
    public static final int CLEAR_RANGE = 1;

    /** Bytes this mutation counts against the transaction size limit. */
    public long sizeBytes() {
        return key.length + (param == null ? 0 : param.length);
    }

    /** True for a clear range that covers exactly one key. */
    public boolean isPointClear() {
        return type == CLEAR_RANGE && param.length == key.length + 1 && param[key.length] == 0
                && ByteArrays.startsWith(param, key);
    }

    @Override
    public String toString() {
        return "Mutation(" + type + ", " + ByteArrays.printable(key) + ", " + ByteArrays.printable(param) + ")";
    }
}
