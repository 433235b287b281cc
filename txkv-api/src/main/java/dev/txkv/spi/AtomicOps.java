package dev.txkv.spi;

import dev.txkv.ErrorCode;
import dev.txkv.MutationType;
import dev.txkv.TxkvException;
import java.util.Arrays;

/**
 * FoundationDB's atomic operations, shared by the client's read-your-writes view and the
 * engine that applies them at commit, so both compute the same value.
 *
 * <p>Integer operations (ADD, MAX, MIN) and bitwise ones treat values as little-endian and
 * work at the parameter's length: the existing value is truncated or zero-extended to it.
 * An absent value behaves as FoundationDB 6.0+: the result is the parameter (for ADD, OR
 * and XOR this is the same as starting from zeros).
 */
public final class AtomicOps {
    private AtomicOps() {
    }

    /** Length of the little-endian offset that ends a versionstamped key or value. */
    public static final int OFFSET_BYTES = 4;
    /** Length of a versionstamp. */
    public static final int VERSIONSTAMP_BYTES = 10;

    /**
     * The value after applying {@code type} with {@code param} to {@code existing} (null when
     * absent); null means the key is cleared. Not for the versionstamp operations.
     */
    public static byte[] apply(MutationType type, byte[] existing, byte[] param, int valueSizeMax) {
        switch (type) {
            case ADD:
                return existing == null ? param : add(existing, param);
            case BIT_AND:
                return existing == null ? param : bitwise(existing, param, 0);
            case BIT_OR:
                return existing == null ? param : bitwise(existing, param, 1);
            case BIT_XOR:
                return existing == null ? param : bitwise(existing, param, 2);
            case APPEND_IF_FITS:
                if (existing == null) {
                    return param;
                }
                return existing.length + param.length > valueSizeMax ? existing : concat(existing, param);
            case MAX:
                return existing == null ? param : compareLittleEndian(existing, param) >= 0 ? fit(existing, param.length) : param;
            case MIN:
                return existing == null ? param : compareLittleEndian(existing, param) <= 0 ? fit(existing, param.length) : param;
            case BYTE_MIN:
                return existing == null || Arrays.compareUnsigned(param, existing) < 0 ? param : existing;
            case BYTE_MAX:
                return existing == null || Arrays.compareUnsigned(param, existing) > 0 ? param : existing;
            case COMPARE_AND_CLEAR:
                return existing != null && Arrays.equals(existing, param) ? null : existing;
            default:
                throw new TxkvException(ErrorCode.INVALID_MUTATION_TYPE, type + " has no plain value result");
        }
    }

    /**
     * Checks a versionstamped key or value: it must end with a 4-byte little-endian offset
     * at which 10 bytes of the rest fit. Returns the offset.
     */
    public static int versionstampOffset(byte[] withOffset) {
        if (withOffset.length < OFFSET_BYTES) {
            throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                    "A versionstamped key or value must end with a 4-byte little-endian offset");
        }
        int n = withOffset.length;
        int offset = (withOffset[n - 4] & 0xFF) | (withOffset[n - 3] & 0xFF) << 8
                | (withOffset[n - 2] & 0xFF) << 16 | (withOffset[n - 1] & 0xFF) << 24;
        if (offset < 0 || (long) offset + VERSIONSTAMP_BYTES > n - OFFSET_BYTES) {
            throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                    "Versionstamp offset " + offset + " does not leave room for 10 bytes in " + (n - OFFSET_BYTES));
        }
        return offset;
    }

    /** {@code withOffset} without its trailing offset, with {@code stamp} written at the offset. */
    public static byte[] placeVersionstamp(byte[] withOffset, byte[] stamp) {
        int offset = versionstampOffset(withOffset);
        byte[] r = Arrays.copyOf(withOffset, withOffset.length - OFFSET_BYTES);
        System.arraycopy(stamp, 0, r, offset, VERSIONSTAMP_BYTES);
        return r;
    }

    private static byte[] add(byte[] existing, byte[] param) {
        byte[] r = new byte[param.length];
        int carry = 0;
        for (int i = 0; i < param.length; i++) {
            int a = i < existing.length ? existing[i] & 0xFF : 0;
            int sum = a + (param[i] & 0xFF) + carry;
            r[i] = (byte) sum;
            carry = sum >>> 8;
        }
        return r;
    }

    private static byte[] bitwise(byte[] existing, byte[] param, int op) {
        byte[] r = new byte[param.length];
        for (int i = 0; i < param.length; i++) {
            int a = i < existing.length ? existing[i] : 0;
            int b = param[i];
            r[i] = (byte) (op == 0 ? a & b : op == 1 ? a | b : a ^ b);
        }
        return r;
    }

    /** Compares as little-endian unsigned integers at the parameter's length. */
    private static int compareLittleEndian(byte[] existing, byte[] param) {
        for (int i = param.length - 1; i >= 0; i--) {
            int a = i < existing.length ? existing[i] & 0xFF : 0;
            int b = param[i] & 0xFF;
            if (a != b) {
                return a < b ? -1 : 1;
            }
        }
        return 0;
    }

    private static byte[] fit(byte[] value, int length) {
        return value.length == length ? value : Arrays.copyOf(value, length);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
