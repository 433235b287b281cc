package dev.txkv.tuple;

/**
 * The order-preserving transform of IEEE floats used by the tuple layer: when the sign bit
 * is set every bit is flipped, otherwise only the sign bit is. Unsigned comparison of the
 * results then gives IEEE total order: -NaN, -infinity, negatives, -0.0, 0.0, positives,
 * +infinity, +NaN. Raw bits are kept, so NaN payloads survive a round trip.
 */
final class FloatBits {
    private FloatBits() {
    }

    static int encode(float f) {
        int bits = Float.floatToRawIntBits(f);
        return bits < 0 ? ~bits : bits ^ Integer.MIN_VALUE;
    }

    static float decodeFloat(int encoded) {
        return Float.intBitsToFloat(encoded < 0 ? encoded ^ Integer.MIN_VALUE : ~encoded);
    }

    static long encode(double d) {
        long bits = Double.doubleToRawLongBits(d);
        return bits < 0 ? ~bits : bits ^ Long.MIN_VALUE;
    }

    static double decodeDouble(long encoded) {
        return Double.longBitsToDouble(encoded < 0 ? encoded ^ Long.MIN_VALUE : ~encoded);
    }
}
