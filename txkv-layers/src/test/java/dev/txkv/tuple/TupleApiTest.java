package dev.txkv.tuple;

import static dev.txkv.layers.testing.Hex.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The accessors, builders and order of {@link Tuple} and {@link Versionstamp}. */
class TupleApiTest {
    private static final UUID ID = UUID.fromString("01234567-89ab-cdef-0123-456789abcdef");

    @Test
    void typedAddersBuildTheSameTupleAsFrom() {
        Versionstamp stamp = Versionstamp.complete(bytes("00 00 00 00 00 00 00 01 00 02"), 3);
        Tuple built = new Tuple().add("s").add(7L).add(new byte[] {1}).add(true).add(ID).add(BigInteger.TEN)
                .add(1.5f).add(2.5d).add(stamp).add(Tuple.from(1L)).add(List.of(2L)).add((Object) null)
                .addObject(9).add(new byte[] {5, 6, 7}, 1, 2);
        Tuple expected = Tuple.from("s", 7, new byte[] {1}, true, ID, 10L, 1.5f, 2.5d, stamp, Tuple.from(1L),
                Tuple.from(2L), null, 9L, new byte[] {6, 7});
        assertThat((Object) built).isEqualTo(expected);
        assertThat(built.size()).isEqualTo(14);
        assertThat(built.pack()).isEqualTo(expected.pack());
    }

    @Test
    void gettersReturnTypedValues() {
        Versionstamp stamp = Versionstamp.complete(bytes("00 00 00 00 00 00 00 01 00 02"), 3);
        Tuple t = Tuple.fromBytes(Tuple.from("s", 7L, new byte[] {1}, true, ID, BigInteger.ONE.shiftLeft(70), 1.5f,
                2.5d, stamp, Tuple.from(1L, "x"), null).pack());
        assertThat(t.getString(0)).isEqualTo("s");
        assertThat(t.getLong(1)).isEqualTo(7L);
        assertThat(t.getBigInteger(1)).isEqualTo(BigInteger.valueOf(7));
        assertThat(t.getBytes(2)).containsExactly(1);
        assertThat(t.getBoolean(3)).isTrue();
        assertThat(t.getUUID(4)).isEqualTo(ID);
        assertThat(t.getBigInteger(5)).isEqualTo(BigInteger.ONE.shiftLeft(70));
        assertThat(t.getFloat(6)).isEqualTo(1.5f);
        assertThat(t.getDouble(7)).isEqualTo(2.5d);
        assertThat(t.getVersionstamp(8)).isEqualTo(stamp);
        assertThat((Object) t.getNestedTuple(9)).isEqualTo(Tuple.from(1L, "x"));
        assertThat(t.getNestedList(9)).containsExactly(1L, "x");
        assertThat(t.get(9)).isInstanceOf(Tuple.class);
        assertThat(t.get(10)).isNull();
        assertThat(t.getString(10)).isNull();
        assertThat(t.getBytes(10)).isNull();
        assertThat((Object) t.getNestedTuple(10)).isNull();
        assertThatThrownBy(() -> t.getLong(10)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> t.getBoolean(10)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> t.getLong(5)).isInstanceOf(ArithmeticException.class);
        assertThatThrownBy(() -> t.getString(1)).isInstanceOf(ClassCastException.class).hasMessageContaining("Element 1");
        assertThatThrownBy(() -> t.getLong(0)).isInstanceOf(ClassCastException.class);
        assertThatThrownBy(() -> t.get(11)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void integersOfEveryWidthAreOneType() {
        assertThat((Object) Tuple.from(1)).isEqualTo(Tuple.from(1L));
        assertThat((Object) Tuple.from((short) 1)).isEqualTo(Tuple.from(BigInteger.ONE));
        assertThat(Tuple.from(BigInteger.valueOf(-5)).get(0)).isEqualTo(-5L);
        assertThat(Tuple.from(1).get(0)).isEqualTo(1L);
        assertThat((Object) Tuple.from(1.0f)).isNotEqualTo(Tuple.from(1.0d));
        assertThat(Tuple.from(1.0f).compareTo(Tuple.from(1.0d))).isNegative();
    }

    @Test
    void byteArraysAreCopiedInAndOut() {
        byte[] b = {1, 2};
        Tuple t = Tuple.from(b, List.of(b));
        b[0] = 9;
        assertThat(t.getBytes(0)).containsExactly(1, 2);
        t.getBytes(0)[1] = 9;
        ((byte[]) t.get(0))[1] = 9;
        ((byte[]) t.getItems().get(0))[1] = 9;
        assertThat(t.getBytes(0)).containsExactly(1, 2);
        assertThat(t.getNestedTuple(1).getBytes(0)).containsExactly(1, 2);
    }

    @Test
    void orderMatchesTheSpecification() {
        List<Tuple> ascending = List.of(
                Tuple.from(),
                Tuple.from((Object) null),
                Tuple.from(null, null),
                Tuple.from((Object) new byte[0]),
                Tuple.from((Object) new byte[] {0}),
                Tuple.from((Object) new byte[] {0, 0}),
                Tuple.from((Object) new byte[] {1}),
                Tuple.from(""),
                Tuple.from("\u0000"),
                Tuple.from("a"),
                Tuple.from("\uffff"),
                // U+1F600 sorts after U+FFFF by code point, although "\ud83d" < "\uffff" as UTF-16.
                Tuple.from("\ud83d\ude00"),
                Tuple.from(Tuple.from()),
                Tuple.from(Tuple.from((Object) null)),
                Tuple.from(Tuple.from(null, 1L)),
                Tuple.from(Tuple.from(1L)),
                Tuple.from(BigInteger.ONE.shiftLeft(64).negate()),
                Tuple.from(Long.MIN_VALUE),
                Tuple.from(-1L),
                Tuple.from(0L),
                Tuple.from(1L),
                Tuple.from(Long.MAX_VALUE),
                Tuple.from(BigInteger.ONE.shiftLeft(64)),
                Tuple.from(Float.intBitsToFloat(0xffc00000)),
                Tuple.from(Float.NEGATIVE_INFINITY),
                Tuple.from(-1f),
                Tuple.from(-0f),
                Tuple.from(0f),
                Tuple.from(Float.POSITIVE_INFINITY),
                Tuple.from(Float.NaN),
                Tuple.from(Double.NEGATIVE_INFINITY),
                Tuple.from(-0d),
                Tuple.from(0d),
                Tuple.from(Double.NaN),
                Tuple.from(false),
                Tuple.from(true),
                Tuple.from(new UUID(0, 0)),
                Tuple.from(new UUID(-1, -1)),
                Tuple.from(Versionstamp.complete(new byte[10], 0)),
                Tuple.from(Versionstamp.complete(new byte[10], 1)),
                Tuple.from(Versionstamp.incomplete(0)));
        for (int i = 0; i + 1 < ascending.size(); i++) {
            Tuple a = ascending.get(i);
            Tuple b = ascending.get(i + 1);
            assertThat(a.compareTo(b)).as("%s < %s", a, b).isNegative();
            if (!b.hasIncompleteVersionstamp()) {
                assertThat(Arrays.compareUnsigned(a.pack(), b.pack())).as("bytes of %s < %s", a, b).isNegative();
            }
        }
    }

    @Test
    void popAndCollectionViews() {
        Tuple t = Tuple.from(1L, "a", 2L);
        assertThat((Object) t.popFront()).isEqualTo(Tuple.from("a", 2L));
        assertThat((Object) t.popBack()).isEqualTo(Tuple.from(1L, "a"));
        assertThatThrownBy(() -> new Tuple().popFront()).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new Tuple().popBack()).isInstanceOf(IllegalStateException.class);
        assertThat(new Tuple().isEmpty()).isTrue();
        List<Object> seen = new ArrayList<>();
        t.forEach(seen::add);
        assertThat(seen).containsExactly(1L, "a", 2L);
        assertThat(t.stream().count()).isEqualTo(3);
        assertThat((Object) Tuple.fromItems(seen)).isEqualTo(t);
        assertThat((Object) Tuple.fromStream(Stream.of(1, "a", 2))).isEqualTo(t);
        assertThat((Object) Tuple.from(1L).addAll(List.of("a", 2L))).isEqualTo(t);
        assertThat(t.getItems()).isInstanceOf(ArrayList.class);
    }

    @Test
    void toStringUsesFoundationDbNotation() {
        assertThat(Tuple.from("a", new byte[] {0, 'b'}, 3L, Tuple.from(null, true)).toString())
                .isEqualTo("(\"a\", b\"\\x00b\", 3, (null, true))");
    }

    @Test
    void versionstampAccessors() {
        Versionstamp v = Versionstamp.complete(bytes("01 02 03 04 05 06 07 08 09 0a"), 0x1234);
        assertThat(v.isComplete()).isTrue();
        assertThat(v.getTransactionVersion()).isEqualTo(bytes("01 02 03 04 05 06 07 08 09 0a"));
        assertThat(v.getUserVersion()).isEqualTo(0x1234);
        assertThat(v.getBytes()).isEqualTo(bytes("01 02 03 04 05 06 07 08 09 0a 12 34"));
        assertThat(Versionstamp.fromBytes(v.getBytes())).isEqualTo(v);
        Versionstamp incomplete = Versionstamp.incomplete(7);
        assertThat(incomplete.isComplete()).isFalse();
        assertThat(incomplete.getUserVersion()).isEqualTo(7);
        assertThat(Versionstamp.fromBytes(incomplete.getBytes()).isComplete()).isFalse();
        assertThat(incomplete.toString()).isEqualTo("Versionstamp(<incomplete> 7)");
        assertThat(v.compareTo(incomplete)).isNegative();
        assertThat(Versionstamp.complete(new byte[10]).getUserVersion()).isZero();
        assertThat(Versionstamp.incomplete()).isEqualTo(Versionstamp.incomplete(0));
    }
}
