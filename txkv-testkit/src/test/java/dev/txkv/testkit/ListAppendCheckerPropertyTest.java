package dev.txkv.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.Random;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

@AddLifecycleHook(TxkvSeed.class)
class ListAppendCheckerPropertyTest {
    @Property(tries = 300, shrinking = ShrinkingMode.OFF)
    void serialExecutionsAreValid(@ForAll long seed, @ForAll @IntRange(min = 1, max = 80) int transactions,
                                  @ForAll @IntRange(min = 1, max = 6) int keys) {
        History history = SerialListAppendSimulation.run(new Random(seed), transactions, keys, 4);
        CheckResult result = ListAppendChecker.check(history);
        assertThat(result.valid()).as("%s%n%s", result, history).isTrue();
    }

    @Property(tries = 300, maxDiscardRatio = 10, shrinking = ShrinkingMode.OFF)
    void oneStaleReadIsDetected(@ForAll long seed, @ForAll @IntRange(min = 10, max = 80) int transactions,
                                @ForAll @IntRange(min = 1, max = 4) int keys) {
        Random random = new Random(seed);
        History mutated = SerialListAppendSimulation.plantStaleRead(
                SerialListAppendSimulation.run(random, transactions, keys, 4), random);
        Assume.that(mutated != null);
        CheckResult result = ListAppendChecker.check(mutated);
        // Usually a real-time cycle or a lost write; when the reader also read newer states of
        // other keys the stale read closes a plain G-single or G2 cycle instead.
        assertThat(result.valid()).as("a planted stale read went unnoticed in%n%s", mutated).isFalse();
    }

    @Property(tries = 100, shrinking = ShrinkingMode.OFF)
    void historiesSurviveTheTextFormat(@ForAll long seed, @ForAll @IntRange(min = 0, max = 40) int transactions) {
        History history = SerialListAppendSimulation.run(new Random(seed), transactions, 3, 4);
        StringWriter out = new StringWriter();
        try {
            history.writeTo(out);
            assertThat(History.readFrom(new StringReader(out.toString()))).isEqualTo(history);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
