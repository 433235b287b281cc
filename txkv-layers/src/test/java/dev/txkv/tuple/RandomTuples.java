package dev.txkv.tuple;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * Random tuples of every element type, from one {@link Random} so that a seed replays them.
 * Values are drawn half the time from small pools of edge cases (empty, 0x00, 0xFF, signed
 * zeros, long boundaries, surrogate pairs) so that two random tuples often share a prefix
 * and the order is tested past the first element.
 */
final class RandomTuples {
    private static final int ELEMENTS_MAX = 5;
    private static final int NESTING_MAX = 3;

    private static final String[] STRINGS = {"", "a", "a\u0000", "a\u0000b", "ab", "\u00ff", "\uffff", "\ud83d\ude00",
        "\ud800\udc00", "\uE000", "\u0000"};
    private static final byte[][] BYTES = {{}, {0}, {0, 0}, {0, (byte) 0xff}, {(byte) 0xff}, {1}, {1, 0}, {(byte) 0xfe}};
    private static final long[] LONGS = {0, 1, -1, 255, 256, -255, -256, 65535, -65536, Integer.MAX_VALUE,
        Integer.MIN_VALUE, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - 1, Long.MIN_VALUE + 1};
    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);
    private static final BigInteger[] BIGS = {TWO_64, TWO_64.negate(), TWO_64.subtract(BigInteger.ONE),
        TWO_64.subtract(BigInteger.ONE).negate(), TWO_64.add(BigInteger.ONE), BigInteger.ONE.shiftLeft(63),
        BigInteger.ONE.shiftLeft(63).negate().subtract(BigInteger.ONE), BigInteger.ONE.shiftLeft(8 * 255).subtract(BigInteger.ONE),
        BigInteger.ONE.shiftLeft(8 * 255).subtract(BigInteger.ONE).negate()};
    private static final float[] FLOATS = {0f, -0f, 1f, -1f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.intBitsToFloat(0xffc00000)};
    private static final double[] DOUBLES = {0d, -0d, 1d, -1d, Double.MIN_VALUE, -Double.MAX_VALUE,
        Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN, Double.longBitsToDouble(0xfff8000000000000L)};

    private RandomTuples() {
    }

    static Tuple tuple(Random r) {
        return tuple(r, 0);
    }

    static Tuple tuple(Random r, int depth) {
        int size = r.nextInt(ELEMENTS_MAX + 1);
        List<Object> elements = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            elements.add(element(r, depth));
        }
        return Tuple.fromList(elements);
    }

    static Object element(Random r, int depth) {
        boolean edge = r.nextBoolean();
        switch (r.nextInt(depth < NESTING_MAX ? 12 : 11)) {
            case 0:
                return null;
            case 1:
                return edge ? BYTES[r.nextInt(BYTES.length)].clone() : randomBytes(r);
            case 2:
                return edge ? STRINGS[r.nextInt(STRINGS.length)] : randomString(r);
            case 3:
                return edge ? LONGS[r.nextInt(LONGS.length)] : randomLong(r);
            case 4:
                return edge ? BIGS[r.nextInt(BIGS.length)] : randomBigInteger(r);
            case 5:
                return edge ? FLOATS[r.nextInt(FLOATS.length)] : randomFloat(r);
            case 6:
                return edge ? DOUBLES[r.nextInt(DOUBLES.length)] : randomDouble(r);
            case 7:
                return r.nextBoolean();
            case 8:
                return edge ? new UUID(r.nextInt(3) - 1, r.nextInt(3) - 1) : new UUID(r.nextLong(), r.nextLong());
            case 9:
                return randomVersionstamp(r, edge);
            case 10:
                // Plain small integers collide often with each other, exercising later elements.
                return (long) r.nextInt(4);
            default:
                return r.nextBoolean() ? tuple(r, depth + 1) : tuple(r, depth + 1).getItems();
        }
    }

    private static byte[] randomBytes(Random r) {
        byte[] b = new byte[r.nextInt(8)];
        for (int i = 0; i < b.length; i++) {
            int choice = r.nextInt(4);
            b[i] = choice == 0 ? 0 : choice == 1 ? (byte) 0xff : (byte) r.nextInt(256);
        }
        return b;
    }

    private static String randomString(Random r) {
        StringBuilder sb = new StringBuilder();
        int n = r.nextInt(6);
        for (int i = 0; i < n; i++) {
            int kind = r.nextInt(5);
            int cp;
            if (kind == 0) {
                cp = r.nextInt(0x80);
            } else if (kind == 1) {
                cp = 0x80 + r.nextInt(0x800 - 0x80);
            } else if (kind == 2) {
                cp = 0x800 + r.nextInt(0xD800 - 0x800);
            } else if (kind == 3) {
                cp = 0xE000 + r.nextInt(0x10000 - 0xE000);
            } else {
                cp = 0x10000 + r.nextInt(0x110000 - 0x10000);
            }
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }

    private static long randomLong(Random r) {
        // A random bit length spreads values over every compact integer code.
        int bits = r.nextInt(65);
        long v = bits == 0 ? 0 : r.nextLong() >>> (64 - bits);
        return r.nextBoolean() ? v : -v;
    }

    private static BigInteger randomBigInteger(Random r) {
        BigInteger v = new BigInteger(1 + r.nextInt(8 * 24), r);
        return r.nextBoolean() ? v : v.negate();
    }

    private static float randomFloat(Random r) {
        int bits = r.nextInt();
        float f = Float.intBitsToFloat(bits);
        // A platform may quiet a signalling NaN; use a NaN whose bits are known to survive.
        return Float.floatToRawIntBits(f) == bits ? f : Float.NaN;
    }

    private static double randomDouble(Random r) {
        long bits = r.nextLong();
        double d = Double.longBitsToDouble(bits);
        return Double.doubleToRawLongBits(d) == bits ? d : Double.NaN;
    }

    private static Versionstamp randomVersionstamp(Random r, boolean edge) {
        byte[] version = new byte[Versionstamp.TRANSACTION_VERSION_LENGTH];
        if (edge) {
            version[version.length - 1] = (byte) r.nextInt(2);
        } else {
            r.nextBytes(version);
            version[0] &= 0x7f;
        }
        return Versionstamp.complete(version, edge ? r.nextInt(2) : r.nextInt(0x10000));
    }
}
