package dev.txkv.tuple;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Writes tuple elements in FoundationDB's encoding (layout in {@link TypeCodes}). Elements
 * arrive already normalised by {@link Tuple}: null, byte[], String, Long, BigInteger (outside
 * the long range), Float, Double, Boolean, UUID, Versionstamp or Tuple.
 */
final class TupleEncoder {
    /** What to do on meeting an incomplete versionstamp. */
    enum Mode {
        /** Refuse it: the bytes would be a key with a placeholder in it. */
        PLAIN,
        /** Require exactly one and append its offset as 4 bytes little-endian (API version 520+). */
        VERSIONSTAMP,
        /** Write it as is; only for hashing, where no offset is needed. */
        LENIENT
    }

    private static final BigInteger BYTE_MASK = BigInteger.valueOf(0xFF);

    private final Mode mode;
    private byte[] buffer;
    private int size;
    private int versionstampOffset = -1;

    private TupleEncoder(Mode mode, int capacity) {
        this.mode = mode;
        this.buffer = new byte[Math.max(16, capacity)];
    }

    static byte[] encode(List<Object> elements, byte[] prefix, Mode mode) {
        int prefixLength = prefix == null ? 0 : prefix.length;
        TupleEncoder encoder = new TupleEncoder(mode, prefixLength + 16 * elements.size() + 4);
        if (prefixLength > 0) {
            encoder.append(prefix, 0, prefixLength);
        }
        for (Object element : elements) {
            encoder.element(element, false);
        }
        if (mode == Mode.VERSIONSTAMP) {
            if (encoder.versionstampOffset < 0) {
                throw new IllegalArgumentException("No incomplete versionstamp in the tuple; use pack()");
            }
            encoder.appendIntLittleEndian(encoder.versionstampOffset);
        }
        return encoder.buffer.length == encoder.size ? encoder.buffer : Arrays.copyOf(encoder.buffer, encoder.size);
    }

    private void element(Object o, boolean nested) {
        if (o == null) {
            append(TypeCodes.NULL);
            if (nested) {
                append(TypeCodes.ESCAPE);
            }
        } else if (o instanceof byte[]) {
            append(TypeCodes.BYTES);
            appendEscaped((byte[]) o);
        } else if (o instanceof String) {
            append(TypeCodes.STRING);
            appendEscaped(((String) o).getBytes(StandardCharsets.UTF_8));
        } else if (o instanceof Long) {
            integer((Long) o);
        } else if (o instanceof BigInteger) {
            bigInteger((BigInteger) o);
        } else if (o instanceof Float) {
            append(TypeCodes.FLOAT);
            appendInt(FloatBits.encode((Float) o));
        } else if (o instanceof Double) {
            append(TypeCodes.DOUBLE);
            appendLong(FloatBits.encode((Double) o));
        } else if (o instanceof Boolean) {
            append((Boolean) o ? TypeCodes.TRUE : TypeCodes.FALSE);
        } else if (o instanceof UUID) {
            append(TypeCodes.UUID);
            appendLong(((UUID) o).getMostSignificantBits());
            appendLong(((UUID) o).getLeastSignificantBits());
        } else if (o instanceof Versionstamp) {
            versionstamp((Versionstamp) o);
        } else if (o instanceof Tuple) {
            append(TypeCodes.NESTED);
            for (Object inner : ((Tuple) o).elements()) {
                element(inner, true);
            }
            append(TypeCodes.NULL);
        } else {
            throw new IllegalArgumentException("Unsupported tuple element type " + o.getClass().getName());
        }
    }

    private void versionstamp(Versionstamp v) {
        append(TypeCodes.VERSIONSTAMP);
        if (!v.isComplete()) {
            if (mode == Mode.PLAIN) {
                throw new IllegalArgumentException("Incomplete versionstamp in a tuple packed with pack(); use packWithVersionstamp()");
            }
            if (mode == Mode.VERSIONSTAMP && versionstampOffset >= 0) {
                throw new IllegalArgumentException("More than one incomplete versionstamp in the tuple");
            }
            versionstampOffset = size;
        }
        ensure(Versionstamp.LENGTH);
        v.copyTo(buffer, size);
        size += Versionstamp.LENGTH;
    }

    private void integer(long v) {
        if (v == 0) {
            append(TypeCodes.INT_ZERO);
            return;
        }
        // For negatives the magnitude -v is read as unsigned, so Long.MIN_VALUE needs no special case.
        long magnitude = v > 0 ? v : -v;
        int n = (Long.SIZE - Long.numberOfLeadingZeros(magnitude) + 7) / 8;
        // One's complement of the magnitude in n bytes is the low n bytes of v - 1.
        long payload = v > 0 ? v : v - 1;
        append(TypeCodes.INT_ZERO + (v > 0 ? n : -n));
        for (int shift = 8 * (n - 1); shift >= 0; shift -= 8) {
            append((int) (payload >>> shift));
        }
    }

    private void bigInteger(BigInteger v) {
        int signum = v.signum();
        if (signum == 0) {
            append(TypeCodes.INT_ZERO);
            return;
        }
        BigInteger magnitude = v.abs();
        int n = (magnitude.bitLength() + 7) / 8;
        if (n > TypeCodes.INT_BIG_BYTES_MAX) {
            throw new IllegalArgumentException("Integer needs " + n + " bytes; the tuple layer stores at most "
                    + TypeCodes.INT_BIG_BYTES_MAX);
        }
        BigInteger payload = signum > 0 ? magnitude : BigInteger.ONE.shiftLeft(8 * n).subtract(BigInteger.ONE).subtract(magnitude);
        if (n <= TypeCodes.INT_COMPACT_BYTES_MAX) {
            append(TypeCodes.INT_ZERO + (signum > 0 ? n : -n));
        } else if (signum > 0) {
            append(TypeCodes.POS_INT_BIG);
            append(n);
        } else {
            append(TypeCodes.NEG_INT_BIG);
            append(n ^ 0xFF);
        }
        for (int i = n - 1; i >= 0; i--) {
            append(payload.shiftRight(8 * i).and(BYTE_MASK).intValue());
        }
    }

    private void appendEscaped(byte[] bytes) {
        ensure(bytes.length + 1);
        for (byte b : bytes) {
            append(b);
            if (b == 0) {
                append(TypeCodes.ESCAPE);
            }
        }
        append(TypeCodes.NULL);
    }

    private void appendInt(int v) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            append(v >>> shift);
        }
    }

    private void appendLong(long v) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            append((int) (v >>> shift));
        }
    }

    private void appendIntLittleEndian(int v) {
        for (int shift = 0; shift < 32; shift += 8) {
            append(v >>> shift);
        }
    }

    private void append(byte[] bytes, int offset, int length) {
        ensure(length);
        System.arraycopy(bytes, offset, buffer, size, length);
        size += length;
    }

    private void append(int b) {
        ensure(1);
        buffer[size++] = (byte) b;
    }

    private void ensure(int more) {
        if (buffer.length - size < more) {
            int needed = Math.addExact(size, more);
            buffer = Arrays.copyOf(buffer, Math.max(needed, buffer.length * 2));
        }
    }
}
