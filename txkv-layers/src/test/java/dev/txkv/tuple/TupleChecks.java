package dev.txkv.tuple;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.layers.testing.Hex;
import java.util.Arrays;

/** Checks shared by the jqwik properties and the seeded random test. */
final class TupleChecks {
    private TupleChecks() {
    }

    /** Packing and unpacking is the identity, on the tuple and on its bytes. */
    static void roundTrips(Tuple t) {
        byte[] packed = t.pack();
        Tuple back = Tuple.fromBytes(packed);
        assertThat((Object) back).as("round trip of %s", t).isEqualTo(t);
        assertThat(back.hashCode()).isEqualTo(t.hashCode());
        assertThat(back.pack()).isEqualTo(packed);
        assertThat(back.toString()).isEqualTo(t.toString());
        assertThat(back.compareTo(t)).isZero();
    }

    /** Unsigned byte order of the packed tuples is the tuples' own order; equality agrees too. */
    static void orderAgrees(Tuple a, Tuple b) {
        byte[] pa = a.pack();
        byte[] pb = b.pack();
        int bytesOrder = Integer.signum(Arrays.compareUnsigned(pa, pb));
        int tupleOrder = Integer.signum(a.compareTo(b));
        assertThat(tupleOrder).as("compare %s [%s] with %s [%s]", a, Hex.of(pa), b, Hex.of(pb)).isEqualTo(bytesOrder);
        assertThat(Integer.signum(b.compareTo(a))).isEqualTo(-bytesOrder);
        assertThat(a.equals(b)).isEqualTo(bytesOrder == 0);
        if (bytesOrder == 0) {
            assertThat(a.hashCode()).isEqualTo(b.hashCode());
        }
    }

    /** Arbitrary bytes either decode to a tuple that packs back to them, or fail with a clear message. */
    static void decodesCanonicallyOrRejects(byte[] bytes) {
        Tuple t;
        try {
            t = Tuple.fromBytes(bytes);
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).as("message for [%s]", Hex.of(bytes)).startsWith("Malformed tuple");
            return;
        }
        if (!t.hasIncompleteVersionstamp()) {
            assertThat(Hex.of(t.pack())).as("re-pack of %s", t).isEqualTo(Hex.of(bytes));
        }
    }
}
