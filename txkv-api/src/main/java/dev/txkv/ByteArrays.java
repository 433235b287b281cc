package dev.txkv;

import java.util.Arrays;

/**
 * Byte-string helpers shared by the API and layers: unsigned order, key successors and
 * printable escapes in the style of FoundationDB's {@code printable}.
 */
public final class ByteArrays {
    private ByteArrays() {
    }

    /** The empty byte string. */
    public static final byte[] EMPTY = new byte[0];

    /** Compares as unsigned bytes, shorter prefix first: txkv's key order. */
    public static int compareUnsigned(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b);
    }

    /** The first key after {@code key}: {@code key + 0x00}. */
    public static byte[] keyAfter(byte[] key) {
        byte[] r = Arrays.copyOf(key, key.length + 1);
        return r;
    }

    /**
     * The first key that does not start with {@code prefix}: strip trailing 0xFF bytes and
     * increment the last byte. Throws for a prefix of only 0xFF bytes (no such key).
     */
    public static byte[] strinc(byte[] prefix) {
        int n = prefix.length;
        while (n > 0 && prefix[n - 1] == (byte) 0xFF) {
            n--;
        }
        if (n == 0) {
            throw new IllegalArgumentException("No key follows a prefix of only 0xFF bytes");
        }
        byte[] r = Arrays.copyOf(prefix, n);
        r[n - 1]++;
        return r;
    }

    /** {@code a} followed by {@code b}. */
    public static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** True when {@code key} begins with {@code prefix}. */
    public static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    /** Printable form: ASCII letters, digits and punctuation as is, other bytes as {@code \xNN}. */
    public static String printable(byte[] bytes) {
        if (bytes == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder(bytes.length + 8);
        for (byte b : bytes) {
            int v = b & 0xFF;
            if (v >= 32 && v < 127 && v != '\\') {
                sb.append((char) v);
            } else if (v == '\\') {
                sb.append("\\\\");
            } else {
                sb.append(String.format("\\x%02x", v));
            }
        }
        return sb.toString();
    }
}
