package dev.txkv.tuple;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * The semantic order of tuples, defined to equal the unsigned byte order of their
 * encodings: elements compare first by type code (all integers share one rank), then by
 * value; a tuple that is a prefix of another sorts first. Strings compare by code point,
 * which is UTF-8 byte order (Java's {@code String.compareTo} compares UTF-16 units and
 * differs for characters above U+FFFF).
 */
final class TupleOrder {
    private TupleOrder() {
    }

    static int compare(List<Object> a, List<Object> b) {
        int n = Math.min(a.size(), b.size());
        for (int i = 0; i < n; i++) {
            int c = compareElements(a.get(i), b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    static int compareElements(Object a, Object b) {
        if (a == b) {
            return 0;
        }
        int rankA = rank(a);
        int rankB = rank(b);
        if (rankA != rankB) {
            return Integer.compare(rankA, rankB);
        }
        switch (rankA) {
            case TypeCodes.NULL:
                return 0;
            case TypeCodes.BYTES:
                return Arrays.compareUnsigned((byte[]) a, (byte[]) b);
            case TypeCodes.STRING:
                return compareCodePoints((String) a, (String) b);
            case TypeCodes.NESTED:
                return compare(((Tuple) a).elements(), ((Tuple) b).elements());
            case TypeCodes.INT_ZERO:
                return compareIntegers(a, b);
            case TypeCodes.FLOAT:
                return Integer.compareUnsigned(FloatBits.encode((Float) a), FloatBits.encode((Float) b));
            case TypeCodes.DOUBLE:
                return Long.compareUnsigned(FloatBits.encode((Double) a), FloatBits.encode((Double) b));
            case TypeCodes.FALSE:
                return Boolean.compare((Boolean) a, (Boolean) b);
            case TypeCodes.UUID:
                return compareUuids((UUID) a, (UUID) b);
            case TypeCodes.VERSIONSTAMP:
                return ((Versionstamp) a).compareTo((Versionstamp) b);
            default:
                throw new IllegalStateException("No order for rank " + rankA);
        }
    }

    /** The type code that decides order between types; integers of every size share one. */
    static int rank(Object o) {
        if (o == null) {
            return TypeCodes.NULL;
        } else if (o instanceof byte[]) {
            return TypeCodes.BYTES;
        } else if (o instanceof String) {
            return TypeCodes.STRING;
        } else if (o instanceof Tuple) {
            return TypeCodes.NESTED;
        } else if (o instanceof Long || o instanceof BigInteger) {
            return TypeCodes.INT_ZERO;
        } else if (o instanceof Float) {
            return TypeCodes.FLOAT;
        } else if (o instanceof Double) {
            return TypeCodes.DOUBLE;
        } else if (o instanceof Boolean) {
            return TypeCodes.FALSE;
        } else if (o instanceof UUID) {
            return TypeCodes.UUID;
        } else if (o instanceof Versionstamp) {
            return TypeCodes.VERSIONSTAMP;
        }
        throw new IllegalArgumentException("Unsupported tuple element type " + o.getClass().getName());
    }

    private static int compareIntegers(Object a, Object b) {
        if (a instanceof Long && b instanceof Long) {
            return Long.compare((Long) a, (Long) b);
        }
        return toBigInteger(a).compareTo(toBigInteger(b));
    }

    private static BigInteger toBigInteger(Object o) {
        return o instanceof BigInteger ? (BigInteger) o : BigInteger.valueOf((Long) o);
    }

    private static int compareUuids(UUID a, UUID b) {
        int c = Long.compareUnsigned(a.getMostSignificantBits(), b.getMostSignificantBits());
        return c != 0 ? c : Long.compareUnsigned(a.getLeastSignificantBits(), b.getLeastSignificantBits());
    }

    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }
}
