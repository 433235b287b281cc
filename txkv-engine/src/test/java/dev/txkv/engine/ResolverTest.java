package dev.txkv.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.testkit.Seeds;
import dev.txkv.Range;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The resolver against the plainest model: a list of every write range with its version. */
class ResolverTest {
    private record Write(byte[] begin, byte[] end, long version) {
    }

    private static byte[] randomKey(Random r) {
        byte[] k = new byte[r.nextInt(3)];
        for (int i = 0; i < k.length; i++) {
            k[i] = (byte) (r.nextInt(4) * 60);
        }
        return k;
    }

    private static byte[][] randomRange(Random r) {
        byte[] a = randomKey(r);
        byte[] b = r.nextInt(3) == 0 ? dev.txkv.ByteArrays.keyAfter(a) : randomKey(r);
        return Arrays.compareUnsigned(a, b) <= 0 ? new byte[][] {a, b} : new byte[][] {b, a};
    }

    private static boolean modelConflict(List<Write> writes, byte[] begin, byte[] end, long readVersion) {
        for (Write w : writes) {
            if (w.version > readVersion && Arrays.compareUnsigned(w.begin, end) < 0
                    && Arrays.compareUnsigned(begin, w.end) < 0 && Arrays.compareUnsigned(w.begin, w.end) < 0
                    && Arrays.compareUnsigned(begin, end) < 0) {
                return true;
            }
        }
        return false;
    }

    @Test
    void agreesWithTheModelOnRandomHistories() {
        long seed = Seeds.seed();
        Random r = new Random(seed);
        for (int run = 0; run < 200; run++) {
            Resolver resolver = new Resolver(0);
            List<Write> writes = new ArrayList<>();
            long version = 0;
            for (int op = 0; op < 200; op++) {
                int kind = r.nextInt(10);
                if (kind < 5) {
                    byte[][] w = randomRange(r);
                    version += 1 + r.nextInt(3);
                    resolver.addWrite(w[0], w[1], version);
                    writes.add(new Write(w[0], w[1], version));
                } else if (kind < 9) {
                    byte[][] q = randomRange(r);
                    long rv = resolver.horizon() + (version == resolver.horizon() ? 0
                            : (long) r.nextInt((int) (version - resolver.horizon() + 1)));
                    boolean expected = modelConflict(writes, q[0], q[1], rv);
                    boolean actual = resolver.conflicts(List.of(new Range(q[0], q[1])), rv, false) != null;
                    assertThat(actual).as("seed %d run %d op %d: read [%s, %s) at %d", seed, run, op,
                            Arrays.toString(q[0]), Arrays.toString(q[1]), rv).isEqualTo(expected);
                } else if (version > 0) {
                    resolver.forgetUpTo(resolver.horizon() + r.nextInt((int) (version - resolver.horizon()) + 1));
                }
            }
        }
    }

    @Test
    void forgettingMergesBoundariesSoMemoryFollowsTheWindow() {
        Resolver resolver = new Resolver(0);
        Random r = new Random(1);
        for (int v = 1; v <= 10_000; v++) {
            byte[] k = {(byte) r.nextInt(256), (byte) r.nextInt(256)};
            resolver.addWrite(k, dev.txkv.ByteArrays.keyAfter(k), v);
        }
        assertThat(resolver.size()).isGreaterThan(1000);
        resolver.forgetUpTo(10_000);
        assertThat(resolver.size()).isEqualTo(1);
    }

    @Test
    void brokenResolverReportsNothing() {
        Resolver broken = new PlantedBugs.SkippingResolver(0);
        broken.addWrite(new byte[] {1}, new byte[] {2}, 5);
        assertThat(broken.conflicts(List.of(new Range(new byte[] {1}, new byte[] {2})), 1, false)).isNull();
    }
}
