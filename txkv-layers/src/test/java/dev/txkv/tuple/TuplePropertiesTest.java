package dev.txkv.tuple;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.ByteArrays;
import dev.txkv.subspace.Subspace;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Properties of the tuple encoding over random tuples of every element type. jqwik prints
 * the seed of every run and of a failing one; {@link TupleSeededRandomTest} runs the same
 * checks from a seed given with {@code -Dtxkv.seed}.
 */
class TuplePropertiesTest {
    @Provide
    Arbitrary<Tuple> tuples() {
        return Arbitraries.randomValue(RandomTuples::tuple);
    }

    @Provide
    Arbitrary<byte[]> noise() {
        return Arbitraries.randomValue(r -> {
            byte[] b = new byte[r.nextInt(24)];
            for (int i = 0; i < b.length; i++) {
                // Mostly valid type codes and the bytes that end or escape, so decoding gets far.
                int choice = r.nextInt(6);
                b[i] = (byte) (choice == 0 ? 0x00 : choice == 1 ? 0xff : choice == 2 ? 0x02 : choice == 3 ? 0x05
                        : r.nextInt(256));
            }
            return b;
        });
    }

    @Property(tries = 2000)
    void packThenUnpackGivesTheSameTuple(@ForAll("tuples") Tuple t) {
        TupleChecks.roundTrips(t);
    }

    @Property(tries = 5000)
    void byteOrderEqualsTupleOrder(@ForAll("tuples") Tuple a, @ForAll("tuples") Tuple b) {
        TupleChecks.orderAgrees(a, b);
    }

    @Property(tries = 2000)
    void orderHoldsAfterACommonPrefix(@ForAll("tuples") Tuple prefix, @ForAll("tuples") Tuple a, @ForAll("tuples") Tuple b) {
        TupleChecks.orderAgrees(prefix.addAll(a), prefix.addAll(b));
        TupleChecks.orderAgrees(Tuple.from(prefix.addAll(a)), Tuple.from(prefix.addAll(b)));
    }

    @Property(tries = 1000)
    void packingConcatenates(@ForAll("tuples") Tuple a, @ForAll("tuples") Tuple b) {
        assertThat(a.addAll(b).pack()).isEqualTo(ByteArrays.concat(a.pack(), b.pack()));
    }

    @Property(tries = 1000)
    void rangeHoldsEveryExtension(@ForAll("tuples") Tuple t, @ForAll("tuples") Tuple extension) {
        boolean inside = t.range().contains(t.addAll(extension).pack());
        assertThat(inside).isEqualTo(!extension.isEmpty());
    }

    @Property(tries = 1000)
    void subspaceUnpacksWhatItPacks(@ForAll("tuples") Tuple prefix, @ForAll("tuples") Tuple t) {
        Subspace s = new Subspace(prefix);
        assertThat((Object) s.unpack(s.pack(t))).isEqualTo(t);
        assertThat(s.contains(s.pack(t))).isTrue();
    }

    @Property(tries = 10000)
    void arbitraryBytesDecodeCanonicallyOrFailCleanly(@ForAll("noise") byte[] bytes) {
        TupleChecks.decodesCanonicallyOrRejects(bytes);
    }

    @Property(tries = 2000)
    void truncatedEncodingsAreRejected(@ForAll("tuples") Tuple t) {
        byte[] packed = t.pack();
        for (int cut = 1; cut < packed.length; cut++) {
            byte[] prefix = Arrays.copyOf(packed, cut);
            // A cut can fall between elements, and then the bytes are a shorter valid tuple.
            try {
                assertThat(Tuple.fromBytes(prefix).pack()).isEqualTo(prefix);
            } catch (IllegalArgumentException expected) {
                assertThat(expected).hasMessageStartingWith("Malformed tuple");
            }
        }
        if (packed.length > 0) {
            assertThatThrownBy(() -> Tuple.fromBytes(ByteArrays.concat(packed, new byte[] {(byte) 0xff})))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
