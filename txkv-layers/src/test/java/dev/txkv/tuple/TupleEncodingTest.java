package dev.txkv.tuple;

import static dev.txkv.layers.testing.Hex.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.layers.testing.Hex;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Exact encodings from FoundationDB's tuple specification (design/tuple.md) and the values its
 * bindings agree on. Each vector is checked both ways: packing gives the bytes, and the bytes
 * decode to an equal tuple that packs back to the same bytes.
 */
class TupleEncodingTest {
    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

    static Stream<Arguments> vectors() {
        return Stream.of(
                // The test cases written in design/tuple.md.
                v(Tuple.from((Object) "foo\u0000bar".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)),
                        "01 66 6f 6f 00 ff 62 61 72 00"),
                v(Tuple.from("F\u00d4O\u0000bar"), "02 46 c3 94 4f 00 ff 62 61 72 00"),
                v(Tuple.from(Tuple.from(new byte[] {'f', 'o', 'o', 0, 'b', 'a', 'r'}, null, Tuple.from())),
                        "05 01 66 6f 6f 00 ff 62 61 72 00 00 ff 05 00 00"),
                v(Tuple.from(-5551212L), "11 ab 4b 93"),
                v(Tuple.from(-42f), "20 3d d7 ff ff"),
                // Null, booleans, empty tuple.
                v(Tuple.from(), ""),
                v(Tuple.from((Object) null), "00"),
                v(Tuple.from(false), "26"),
                v(Tuple.from(true), "27"),
                v(Tuple.from(null, null), "00 00"),
                // Integers, compact codes 0x0C..0x1C.
                v(Tuple.from(0L), "14"),
                v(Tuple.from(BigInteger.ZERO), "14"),
                v(Tuple.from(1L), "15 01"),
                v(Tuple.from(-1L), "13 fe"),
                v(Tuple.from(255L), "15 ff"),
                v(Tuple.from(-255L), "13 00"),
                v(Tuple.from(256L), "16 01 00"),
                v(Tuple.from(-256L), "12 fe ff"),
                v(Tuple.from(65536), "17 01 00 00"),
                v(Tuple.from(-65536), "11 fe ff ff"),
                v(Tuple.from((short) 0x3019), "16 30 19"),
                v(Tuple.from((byte) 3), "15 03"),
                v(Tuple.from(-((1L << 32) - 1)), "10 00 00 00 00"),
                v(Tuple.from(Long.MAX_VALUE), "1c 7f ff ff ff ff ff ff ff"),
                v(Tuple.from(Long.MIN_VALUE), "0c 7f ff ff ff ff ff ff ff"),
                v(Tuple.from(Long.MIN_VALUE + 1), "0c 80 00 00 00 00 00 00 00"),
                v(Tuple.from(Long.MIN_VALUE + 2), "0c 80 00 00 00 00 00 00 01"),
                v(Tuple.from(BigInteger.valueOf(Long.MAX_VALUE).add(BigInteger.ONE)), "1c 80 00 00 00 00 00 00 00"),
                v(Tuple.from(TWO_64.subtract(BigInteger.ONE)), "1c ff ff ff ff ff ff ff ff"),
                v(Tuple.from(BigInteger.valueOf(Long.MIN_VALUE).subtract(BigInteger.ONE)), "0c 7f ff ff ff ff ff ff fe"),
                v(Tuple.from(TWO_64.subtract(BigInteger.ONE).negate()), "0c 00 00 00 00 00 00 00 00"),
                // Arbitrary precision: 0x1D length, 0x0B inverted length and one's complement.
                v(Tuple.from(TWO_64), "1d 09 01 00 00 00 00 00 00 00 00"),
                v(Tuple.from(TWO_64.negate()), "0b f6 fe ff ff ff ff ff ff ff ff"),
                v(Tuple.from(TWO_64.add(BigInteger.ONE).negate()), "0b f6 fe ff ff ff ff ff ff ff fe"),
                // Floats and doubles, including signed zeros, infinities and NaN bit patterns.
                v(Tuple.from(3.14f), "20 c0 48 f5 c3"),
                v(Tuple.from(-3.14f), "20 3f b7 0a 3c"),
                v(Tuple.from(3.14), "21 c0 09 1e b8 51 eb 85 1f"),
                v(Tuple.from(-3.14), "21 3f f6 e1 47 ae 14 7a e0"),
                v(Tuple.from(0.0f), "20 80 00 00 00"),
                v(Tuple.from(-0.0f), "20 7f ff ff ff"),
                v(Tuple.from(0.0), "21 80 00 00 00 00 00 00 00"),
                v(Tuple.from(-0.0), "21 7f ff ff ff ff ff ff ff"),
                v(Tuple.from(Float.POSITIVE_INFINITY), "20 ff 80 00 00"),
                v(Tuple.from(Float.NEGATIVE_INFINITY), "20 00 7f ff ff"),
                v(Tuple.from(Double.POSITIVE_INFINITY), "21 ff f0 00 00 00 00 00 00"),
                v(Tuple.from(Double.NEGATIVE_INFINITY), "21 00 0f ff ff ff ff ff ff"),
                v(Tuple.from(Double.NaN), "21 ff f8 00 00 00 00 00 00"),
                v(Tuple.from(Float.NaN), "20 ff c0 00 00"),
                v(Tuple.from(Float.intBitsToFloat(Integer.MAX_VALUE)), "20 ff ff ff ff"),
                v(Tuple.from(Double.longBitsToDouble(Long.MAX_VALUE)), "21 ff ff ff ff ff ff ff ff"),
                v(Tuple.from(Float.intBitsToFloat(~0)), "20 00 00 00 00"),
                v(Tuple.from(Double.longBitsToDouble(~0L)), "21 00 00 00 00 00 00 00 00"),
                // Byte strings and strings.
                v(Tuple.from((Object) new byte[0]), "01 00"),
                v(Tuple.from((Object) new byte[] {1, 2, 3}), "01 01 02 03 00"),
                v(Tuple.from((Object) new byte[] {0, 0, 0, 4}), "01 00 ff 00 ff 00 ff 04 00"),
                v(Tuple.from((Object) new byte[] {(byte) 0xff, 0}), "01 ff 00 ff 00"),
                v(Tuple.from(""), "02 00"),
                v(Tuple.from("hello"), "02 68 65 6c 6c 6f 00"),
                v(Tuple.from("\u4e2d\u6587"), "02 e4 b8 ad e6 96 87 00"),
                v(Tuple.from("\u03bc\u03ac"), "02 ce bc ce ac 00"),
                v(Tuple.from("\ud83d\udd25"), "02 f0 9f 94 a5 00"),
                v(Tuple.from(new String(new int[] {0x10FFFF}, 0, 1)), "02 f4 8f bf bf 00"),
                // Nested tuples: null inside is 0x00 0xFF, the end is a bare 0x00.
                v(Tuple.from(Tuple.from()), "05 00"),
                v(Tuple.from(Tuple.from((Object) null)), "05 00 ff 00"),
                v(Tuple.from(Tuple.from(null, "hello")), "05 00 ff 02 68 65 6c 6c 6f 00 00"),
                v(Tuple.from(Arrays.asList(null, "hell\0")), "05 00 ff 02 68 65 6c 6c 00 ff 00 00"),
                v(Tuple.from(Tuple.from((Object) null), "hello"), "05 00 ff 00 02 68 65 6c 6c 6f 00"),
                v(Tuple.from(Tuple.from(Tuple.from((Object) null))), "05 05 00 ff 00 00"),
                v(Tuple.from(Tuple.from((Object) null), "hello", new byte[] {1, 0}, new byte[0]),
                        "05 00 ff 00 02 68 65 6c 6c 6f 00 01 01 00 ff 00 01 00"),
                // UUID and versionstamp.
                v(Tuple.from(new UUID(0xba5eba11L, 0x5ca1ab1eL)),
                        "30 00 00 00 00 ba 5e ba 11 00 00 00 00 5c a1 ab 1e"),
                v(Tuple.from(UUID.fromString("01234567-89ab-cdef-0123-456789abcdef")),
                        "30 01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef"),
                v(Tuple.from(Versionstamp.complete(bytes("aa bb cc dd ee ff 00 01 02 03"))),
                        "33 aa bb cc dd ee ff 00 01 02 03 00 00"),
                v(Tuple.from(Versionstamp.complete(bytes("01 02 03 04 05 06 07 08 09 0a"), 657)),
                        "33 01 02 03 04 05 06 07 08 09 0a 02 91"),
                // Mixed.
                v(Tuple.from("a", 1L, null, true, Tuple.from(2L)), "02 61 00 15 01 00 27 05 15 02 00"));
    }

    private static Arguments v(Tuple tuple, String hex) {
        return Arguments.of(tuple, hex);
    }

    @ParameterizedTest(name = "{0} packs to [{1}]")
    @MethodSource("vectors")
    void packsToTheSpecifiedBytes(Tuple tuple, String hex) {
        assertThat(Hex.of(tuple.pack())).isEqualTo(Hex.of(bytes(hex)));
    }

    @ParameterizedTest(name = "[{1}] decodes to {0}")
    @MethodSource("vectors")
    void decodesTheSpecifiedBytes(Tuple tuple, String hex) {
        Tuple decoded = Tuple.fromBytes(bytes(hex));
        assertThat((Object) decoded).isEqualTo(tuple);
        assertThat(decoded.hashCode()).isEqualTo(tuple.hashCode());
        assertThat(decoded.pack()).isEqualTo(bytes(hex));
    }

    @Test
    void decodedNumbersHaveCanonicalTypes() {
        Tuple t = Tuple.fromBytes(bytes("15 01 1c 80 00 00 00 00 00 00 00 1d 09 01 00 00 00 00 00 00 00 00 20 80 00 00 00"));
        assertThat(t.get(0)).isEqualTo(1L);
        assertThat(t.get(1)).isEqualTo(BigInteger.ONE.shiftLeft(63));
        assertThat(t.get(2)).isEqualTo(TWO_64);
        assertThat(t.get(3)).isEqualTo(0.0f);
    }

    @Test
    void nanPayloadsSurviveARoundTrip() {
        double payloadNaN = Double.longBitsToDouble(0x7ff0_0000_0000_0123L);
        Tuple decoded = Tuple.fromBytes(Tuple.from(payloadNaN).pack());
        assertThat(Double.doubleToRawLongBits(decoded.getDouble(0))).isEqualTo(0x7ff0_0000_0000_0123L);
    }

    @Test
    void packWithPrefixPrependsThePrefix() {
        assertThat(Tuple.from("a").pack(bytes("fe 01"))).isEqualTo(bytes("fe 01 02 61 00"));
        assertThat(Tuple.from().pack(bytes("fe"))).isEqualTo(bytes("fe"));
    }

    @Test
    void packWithVersionstampAppendsTheLittleEndianOffset() {
        Tuple t = Tuple.from("a", Versionstamp.incomplete(5));
        assertThat(t.hasIncompleteVersionstamp()).isTrue();
        assertThat(Hex.of(t.packWithVersionstamp()))
                .isEqualTo(Hex.of(bytes("02 61 00 33 ff ff ff ff ff ff ff ff ff ff 00 05 04 00 00 00")));
        assertThat(Hex.of(t.packWithVersionstamp(bytes("99 98"))))
                .isEqualTo(Hex.of(bytes("99 98 02 61 00 33 ff ff ff ff ff ff ff ff ff ff 00 05 06 00 00 00")));
    }

    @Test
    void packWithVersionstampFindsANestedStamp() {
        Tuple t = Tuple.from(1L, List.of("x", Versionstamp.incomplete()));
        assertThat(t.hasIncompleteVersionstamp()).isTrue();
        // 15 01 | 05 02 78 00 | 33 <- the stamp starts at offset 7
        assertThat(Hex.of(t.packWithVersionstamp()))
                .isEqualTo(Hex.of(bytes("15 01 05 02 78 00 33 ff ff ff ff ff ff ff ff ff ff 00 00 00 07 00 00 00")));
    }

    @Test
    void rangeCoversExtensionsButNotTheTupleItself() {
        var range = Tuple.from("a").range();
        assertThat(range.begin).isEqualTo(bytes("02 61 00 00"));
        assertThat(range.end).isEqualTo(bytes("02 61 00 ff"));
        assertThat(range.contains(Tuple.from("a").pack())).isFalse();
        assertThat(range.contains(Tuple.from("a", null).pack())).isTrue();
        assertThat(range.contains(Tuple.from("a", Tuple.from(1L)).pack())).isTrue();
        assertThat(Tuple.from("a").range(bytes("fe")).begin).isEqualTo(bytes("fe 02 61 00 00"));
    }
}
