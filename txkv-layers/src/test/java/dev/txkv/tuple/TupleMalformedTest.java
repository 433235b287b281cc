package dev.txkv.tuple;

import static dev.txkv.layers.testing.Hex.bytes;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Bad input is refused with {@link IllegalArgumentException}, never decoded to a wrong value. */
class TupleMalformedTest {
    @ParameterizedTest(name = "unknown or reserved type code [{0}]")
    @ValueSource(strings = {"03", "04", "0a", "1e", "22", "23", "25", "31", "32", "34", "40", "f0", "ff", "00 ff", "15 01 ff"})
    void rejectsUnknownTypeCodes(String hex) {
        assertMalformed(hex, "unknown type code");
    }

    @ParameterizedTest(name = "truncated [{0}]")
    @ValueSource(strings = {"15", "16 01", "1c 01 02 03 04 05 06 07", "13", "0c 00", "20", "20 00 00 00", "21 00 00 00 00",
        "30 00 01 02", "33 00 00 00 00 00 00 00 00 00 00 00", "1d", "1d 09 01 00", "0b", "0b f6 fe ff"})
    void rejectsTruncatedValues(String hex) {
        assertMalformed(hex, "truncated");
    }

    @ParameterizedTest(name = "unterminated [{0}]")
    @ValueSource(strings = {"01", "01 61", "01 61 00 ff", "02 61 62", "02 00 ff"})
    void rejectsUnterminatedStrings(String hex) {
        assertMalformed(hex, "without its 0x00 terminator");
    }

    @ParameterizedTest(name = "unterminated nested [{0}]")
    @ValueSource(strings = {"05", "05 15 01", "05 00 ff", "05 05 00", "05 02 61 00"})
    void rejectsUnterminatedNestedTuples(String hex) {
        assertMalformed(hex, "nested tuple without its 0x00 terminator");
    }

    @ParameterizedTest(name = "invalid UTF-8 [{0}]")
    @ValueSource(strings = {"02 ff 00", "02 c3 00", "02 c0 80 00", "02 ed a0 80 00", "02 f4 90 80 80 00", "02 80 00",
        "02 e4 b8 00"})
    void rejectsInvalidUtf8(String hex) {
        assertMalformed(hex, "not valid UTF-8");
    }

    @ParameterizedTest(name = "non-canonical integer [{0}]")
    @ValueSource(strings = {"15 00", "16 00 01", "1c 00 ff ff ff ff ff ff ff", "13 ff", "12 ff 00",
        "1d 09 00 01 00 00 00 00 00 00 00", "0b f6 ff 00 00 00 00 00 00 00 00"})
    void rejectsIntegersWithRedundantBytes(String hex) {
        assertMalformed(hex, "redundant leading byte");
    }

    @ParameterizedTest(name = "big-integer code for a small integer [{0}]")
    @ValueSource(strings = {"1d 08 01 00 00 00 00 00 00 00", "1d 00", "0b f7 fe ff ff ff ff ff ff ff", "0b ff"})
    void rejectsBigIntegerCodesForCompactIntegers(String hex) {
        assertMalformed(hex, "big-integer code");
    }

    @Test
    void rejectsNestingBeyondTheLimit() {
        int depth = TypeCodes.NESTING_DEPTH_MAX + 1;
        byte[] b = new byte[2 * depth];
        Arrays.fill(b, 0, depth, (byte) TypeCodes.NESTED);
        assertThatThrownBy(() -> Tuple.fromBytes(b)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nesting deeper than");
        Tuple deep = Tuple.from();
        for (int i = 0; i < TypeCodes.NESTING_DEPTH_MAX; i++) {
            deep = Tuple.from(deep);
        }
        Tuple deepest = deep;
        assertThatThrownBy(() -> Tuple.from(deepest)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nest at most");
    }

    @Test
    void rejectsOffsetsOutsideTheArray() {
        byte[] b = bytes("15 01 02 61 00");
        assertThatThrownBy(() -> Tuple.fromBytes(b, 0, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tuple.fromBytes(b, -1, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tuple.fromBytes(b, b.length + 1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tuple.fromBytes(b, 1, b.length)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tuple.fromBytes(b, 0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tuple.fromBytes(b, Integer.MAX_VALUE, Integer.MAX_VALUE))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void refusesElementsTheEncodingCannotCarry() {
        assertThatThrownBy(() -> Tuple.from(new Object())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tuple.from(BigDecimal.ONE)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tuple.from('c')).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tuple.from("\ud800")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("surrogate");
        assertThatThrownBy(() -> Tuple.from("a\udc00b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Tuple().add("\ud800x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tuple.from(BigInteger.ONE.shiftLeft(8 * 255))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Tuple().add((BigInteger) null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void refusesMisusedVersionstamps() {
        Tuple incomplete = Tuple.from("k", Versionstamp.incomplete(1));
        assertThatThrownBy(incomplete::pack).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Incomplete versionstamp");
        assertThatThrownBy(incomplete::range).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tuple.from(1L).packWithVersionstamp()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("No incomplete versionstamp");
        Tuple two = Tuple.from(Versionstamp.incomplete(1), List.of(Versionstamp.incomplete(2)));
        assertThatThrownBy(two::packWithVersionstamp).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("More than one");
        assertThatThrownBy(() -> Versionstamp.complete(bytes("ff ff ff ff ff ff ff ff ff ff")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Versionstamp.complete(new byte[9])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Versionstamp.incomplete(0x10000)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Versionstamp.incomplete(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Versionstamp.fromBytes(new byte[11])).isInstanceOf(IllegalArgumentException.class);
    }

    private static void assertMalformed(String hex, String reason) {
        assertThatThrownBy(() -> Tuple.fromBytes(bytes(hex)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("Malformed tuple")
                .hasMessageContaining(reason);
    }
}
