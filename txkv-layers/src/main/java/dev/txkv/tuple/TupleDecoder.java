package dev.txkv.tuple;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Reads FoundationDB's tuple encoding (layout in {@link TypeCodes}).
 *
 * <p>Implementation notes: the decoder is strict. Every length is checked before it is
 * read, so malformed input fails with {@link IllegalArgumentException} rather than an index
 * error; and only the canonical form of each value is accepted (no leading zero bytes in
 * integers, big-integer codes only beyond 8 bytes, well-formed UTF-8), so decoding is the
 * exact inverse of encoding: {@code Tuple.fromBytes(b).pack()} equals {@code b} whenever it
 * does not throw. Every FoundationDB binding writes canonical bytes, so strictness rejects no
 * data they produce.
 */
final class TupleDecoder {
    private final byte[] bytes;
    private final int end;
    private int pos;

    private TupleDecoder(byte[] bytes, int offset, int length) {
        this.bytes = bytes;
        this.pos = offset;
        this.end = offset + length;
    }

    static List<Object> decode(byte[] bytes, int offset, int length) {
        TupleDecoder decoder = new TupleDecoder(bytes, offset, length);
        List<Object> elements = new ArrayList<>();
        try {
            while (decoder.pos < decoder.end) {
                elements.add(decoder.element(0));
            }
        } catch (IndexOutOfBoundsException e) {
            // Every read is bounds-checked first; this only guards against a decoder bug.
            throw new IllegalArgumentException("Malformed tuple: truncated", e);
        }
        return elements;
    }

    private Object element(int depth) {
        int at = pos;
        int code = bytes[pos++] & 0xFF;
        switch (code) {
            case TypeCodes.NULL:
                return null;
            case TypeCodes.BYTES:
                return unescape(at);
            case TypeCodes.STRING:
                return utf8(unescape(at), at);
            case TypeCodes.NESTED:
                return nested(at, depth + 1);
            case TypeCodes.NEG_INT_BIG:
            case TypeCodes.POS_INT_BIG:
                return bigInteger(code, at);
            case TypeCodes.FLOAT:
                require(4, "float", at);
                return FloatBits.decodeFloat((int) readUnsigned(4));
            case TypeCodes.DOUBLE:
                require(8, "double", at);
                return FloatBits.decodeDouble(readUnsigned(8));
            case TypeCodes.FALSE:
                return Boolean.FALSE;
            case TypeCodes.TRUE:
                return Boolean.TRUE;
            case TypeCodes.UUID:
                require(16, "UUID", at);
                return new UUID(readUnsigned(8), readUnsigned(8));
            case TypeCodes.VERSIONSTAMP:
                require(Versionstamp.LENGTH, "versionstamp", at);
                pos += Versionstamp.LENGTH;
                return Versionstamp.fromBytes(Arrays.copyOfRange(bytes, pos - Versionstamp.LENGTH, pos));
            default:
                if (code > TypeCodes.NEG_INT_BIG && code < TypeCodes.POS_INT_BIG) {
                    return integer(code, at);
                }
                throw malformed(String.format("unknown type code 0x%02x", code), at);
        }
    }

    private Tuple nested(int at, int depth) {
        if (depth > TypeCodes.NESTING_DEPTH_MAX) {
            throw malformed("nesting deeper than " + TypeCodes.NESTING_DEPTH_MAX, at);
        }
        List<Object> elements = new ArrayList<>();
        while (true) {
            if (pos >= end) {
                throw malformed("nested tuple without its 0x00 terminator", at);
            }
            if (bytes[pos] == 0) {
                if (pos + 1 < end && bytes[pos + 1] == (byte) TypeCodes.ESCAPE) {
                    elements.add(null);
                    pos += 2;
                    continue;
                }
                pos++;
                return Tuple.ofNormalized(elements);
            }
            elements.add(element(depth));
        }
    }

    /** The payload of a byte string or string starting after the code at {@code at}, unescaped. */
    private byte[] unescape(int at) {
        int escapes = 0;
        int i = pos;
        while (true) {
            if (i >= end) {
                throw malformed("byte string without its 0x00 terminator", at);
            }
            if (bytes[i] == 0) {
                if (i + 1 < end && bytes[i + 1] == (byte) TypeCodes.ESCAPE) {
                    escapes++;
                    i += 2;
                    continue;
                }
                break;
            }
            i++;
        }
        byte[] out = new byte[i - pos - escapes];
        int o = 0;
        for (int j = pos; j < i; j++) {
            out[o++] = bytes[j];
            if (bytes[j] == 0) {
                j++;
            }
        }
        pos = i + 1;
        return out;
    }

    private static String utf8(byte[] raw, int at) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(raw))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("Malformed tuple: string is not valid UTF-8 at offset " + at, e);
        }
    }

    private Object integer(int code, int at) {
        boolean positive = code > TypeCodes.INT_ZERO;
        int n = Math.abs(code - TypeCodes.INT_ZERO);
        if (n == 0) {
            return 0L;
        }
        require(n, "integer", at);
        byte first = bytes[pos];
        if (positive ? first == 0 : first == (byte) 0xFF) {
            throw malformed("integer with a redundant leading byte", at);
        }
        long raw = readUnsigned(n);
        if (positive) {
            return raw >= 0 ? (Object) raw : new BigInteger(Long.toUnsignedString(raw));
        }
        long magnitude = n == 8 ? ~raw : ~raw & ((1L << (8 * n)) - 1);
        if (magnitude >= 0 || magnitude == Long.MIN_VALUE) {
            return -magnitude;
        }
        return new BigInteger(Long.toUnsignedString(magnitude)).negate();
    }

    private BigInteger bigInteger(int code, int at) {
        boolean positive = code == TypeCodes.POS_INT_BIG;
        require(1, "integer length", at);
        int n = bytes[pos++] & 0xFF;
        if (!positive) {
            n ^= 0xFF;
        }
        if (n <= TypeCodes.INT_COMPACT_BYTES_MAX) {
            throw malformed("big-integer code for a " + n + "-byte integer", at);
        }
        require(n, "integer", at);
        byte first = bytes[pos];
        if (positive ? first == 0 : first == (byte) 0xFF) {
            throw malformed("integer with a redundant leading byte", at);
        }
        BigInteger raw = new BigInteger(1, Arrays.copyOfRange(bytes, pos, pos + n));
        pos += n;
        if (positive) {
            return raw;
        }
        return BigInteger.ONE.shiftLeft(8 * n).subtract(BigInteger.ONE).subtract(raw).negate();
    }

    private long readUnsigned(int n) {
        long v = 0;
        for (int i = 0; i < n; i++) {
            v = (v << 8) | (bytes[pos++] & 0xFF);
        }
        return v;
    }

    private void require(int n, String what, int at) {
        if (end - pos < n) {
            throw malformed(what + " truncated (needs " + n + " bytes, " + (end - pos) + " left)", at);
        }
    }

    private static IllegalArgumentException malformed(String what, int at) {
        return new IllegalArgumentException("Malformed tuple: " + what + " at offset " + at);
    }
}
