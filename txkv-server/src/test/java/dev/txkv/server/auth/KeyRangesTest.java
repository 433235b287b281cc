package dev.txkv.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.ByteArrays;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * The authorizer's key sets against a model: with every bound drawn from the keys of up to 3
 * bytes over {0, 1, 2}, a range is covered exactly when every such key inside it lies in some
 * granted range (a gap between two grants always begins at a grant's end, itself such a key),
 * so checking that finite universe is exact.
 */
class KeyRangesTest {
    private static final List<byte[]> UNIVERSE = universe();

    private static List<byte[]> universe() {
        List<byte[]> keys = new ArrayList<>();
        keys.add(new byte[0]);
        for (int len = 1; len <= 3; len++) {
            int n = (int) Math.pow(3, len);
            for (int i = 0; i < n; i++) {
                byte[] k = new byte[len];
                int v = i;
                for (int j = len - 1; j >= 0; j--) {
                    k[j] = (byte) (v % 3);
                    v /= 3;
                }
                keys.add(k);
            }
        }
        return keys;
    }

    @Provide
    Arbitrary<byte[]> key() {
        return Arbitraries.of(UNIVERSE);
    }

    @Property(tries = 400)
    void coversAndContainsAgreeWithTheModel(@ForAll @Size(max = 6) List<@From("key") byte[]> bounds,
            @ForAll("key") byte[] a, @ForAll("key") byte[] b) {
        List<byte[][]> grants = new ArrayList<>();
        for (int i = 0; i + 1 < bounds.size(); i += 2) {
            grants.add(new byte[][] {bounds.get(i), bounds.get(i + 1)});
        }
        KeyRanges set = KeyRanges.of(grants);
        List<byte[]> sorted = new ArrayList<>(UNIVERSE);
        sorted.sort(ByteArrays::compareUnsigned);
        for (byte[] k : UNIVERSE) {
            assertThat(set.contains(k)).as(ByteArrays.printable(k) + " in " + set).isEqualTo(inModel(grants, k));
            // The first key at or after k outside the set: a bound, so a key of the universe.
            byte[] expected = null;
            for (byte[] x : sorted) {
                if (ByteArrays.compareUnsigned(x, k) >= 0 && !inModel(grants, x)) {
                    expected = x;
                    break;
                }
            }
            if (expected != null) {
                assertThat(set.firstOutside(k)).as("first outside from " + ByteArrays.printable(k) + " in " + set)
                        .isEqualTo(expected);
            }
        }
        boolean expected = true;
        for (byte[] k : UNIVERSE) {
            if (ByteArrays.compareUnsigned(k, a) >= 0 && ByteArrays.compareUnsigned(k, b) < 0 && !inModel(grants, k)) {
                expected = false;
            }
        }
        assertThat(set.covers(a, b)).as("[" + ByteArrays.printable(a) + ", " + ByteArrays.printable(b) + ") in " + set)
                .isEqualTo(expected);
    }

    private static boolean inModel(List<byte[][]> grants, byte[] k) {
        for (byte[][] g : grants) {
            if (ByteArrays.compareUnsigned(g[0], k) <= 0 && ByteArrays.compareUnsigned(k, g[1]) < 0) {
                return true;
            }
        }
        return false;
    }
}
