package dev.txkv.tuple;

import dev.txkv.testkit.Seeds;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The tuple properties driven by one seed: printed on every run and taken from
 * {@code -Dtxkv.seed=N} to replay a failure exactly.
 */
class TupleSeededRandomTest {
    private static final int CASES = 3000;

    @Test
    void roundTripOrderAndNoiseFromOneSeed() {
        long seed = Seeds.seed();
        Random random = new Random(seed);
        try {
            for (int i = 0; i < CASES; i++) {
                Tuple a = RandomTuples.tuple(random);
                Tuple b = random.nextBoolean() ? RandomTuples.tuple(random) : a.addAll(RandomTuples.tuple(random));
                TupleChecks.roundTrips(a);
                TupleChecks.orderAgrees(a, b);
                byte[] noise = new byte[random.nextInt(16)];
                random.nextBytes(noise);
                TupleChecks.decodesCanonicallyOrRejects(noise);
            }
        } catch (AssertionError e) {
            throw new AssertionError("Failed with seed " + seed + " (-Dtxkv.seed=" + seed + ")", e);
        }
    }
}
