package dev.txkv.tuple;

/**
 * Type codes of FoundationDB's tuple layer (design/tuple.md in apple/foundationdb), the
 * first byte of each encoded element. Every element sorts first by this byte, so the codes
 * also fix the order between types.
 *
 * <pre>
 * code        type                 payload after the code
 * 0x00        null                 none (inside a nested tuple: 0x00 0xFF)
 * 0x01        byte string          bytes, each 0x00 as 0x00 0xFF, then 0x00
 * 0x02        unicode string       UTF-8, each 0x00 as 0x00 0xFF, then 0x00
 * 0x05        nested tuple         encoded elements (null as 0x00 0xFF), then 0x00
 * 0x0B        negative big integer 1 byte (n XOR 0xFF), n bytes one's complement, 9 &lt;= n &lt;= 255
 * 0x0C..0x13  negative integer     0x14 - n, then n bytes one's complement of |v|, big-endian
 * 0x14        zero                 none
 * 0x15..0x1C  positive integer     0x14 + n, then n bytes of v, big-endian, no leading 0x00
 * 0x1D        positive big integer 1 byte n, then n bytes big-endian, 9 &lt;= n &lt;= 255
 * 0x20        float                4 bytes IEEE big-endian; sign bit set: all bits flipped, else sign bit flipped
 * 0x21        double               8 bytes, same transform
 * 0x26/0x27   false/true           none
 * 0x30        UUID                 16 bytes, RFC 4122 network order
 * 0x33        versionstamp         10 bytes transaction version, 2 bytes user version
 * </pre>
 */
final class TypeCodes {
    private TypeCodes() {
    }

    static final int NULL = 0x00;
    static final int BYTES = 0x01;
    static final int STRING = 0x02;
    static final int NESTED = 0x05;
    static final int NEG_INT_BIG = 0x0B;
    static final int INT_ZERO = 0x14;
    static final int POS_INT_BIG = 0x1D;
    static final int FLOAT = 0x20;
    static final int DOUBLE = 0x21;
    static final int FALSE = 0x26;
    static final int TRUE = 0x27;
    static final int UUID = 0x30;
    static final int VERSIONSTAMP = 0x33;

    /** The escape byte that follows 0x00 inside byte strings, strings and nested tuples. */
    static final int ESCAPE = 0xFF;
    /** Integers of up to this many magnitude bytes use the compact codes 0x0C..0x1C. */
    static final int INT_COMPACT_BYTES_MAX = 8;
    /** The arbitrary-precision codes store the byte count in one byte. */
    static final int INT_BIG_BYTES_MAX = 255;
    /** Nesting deeper than this is refused, so that decoding and encoding cannot exhaust the stack. */
    static final int NESTING_DEPTH_MAX = 256;
}
