package dev.txkv.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A shard's load sample: the split key halves the sampled keys; a hot key is named. */
class KeyLoadTest {
    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    @Test
    void anEvenLoadSplitsNearItsMiddleKey() {
        KeyLoad load = new KeyLoad();
        for (int round = 0; round < 200; round++) {
            for (int k = 0; k < 100; k++) {
                load.note(b(String.format("k%03d", k)));
            }
        }
        ShardLoad taken = load.take(b(""), null);
        assertThat(taken.keysPerSecond()).isPositive();
        assertThat(taken.samples()).isGreaterThan(KeyLoad.SAMPLES / 2);
        assertThat(new String(taken.splitKey().orElseThrow(), UTF_8)).isBetween("k030", "k070");
        assertThat(taken.hottestShare()).isLessThan(0.2);
        // Taking clears the sample.
        assertThat(load.take(b(""), null).samples()).isZero();
    }

    @Test
    void aHotKeyIsNamedWithItsShare() {
        KeyLoad load = new KeyLoad();
        for (int i = 0; i < 20_000; i++) {
            load.note(i % 10 == 0 ? b("cold" + i % 7) : b("hot"));
        }
        ShardLoad taken = load.take(b(""), null);
        assertThat(taken.hottestKey()).isEqualTo(b("hot"));
        assertThat(taken.hottestShare()).isGreaterThan(0.8);
    }

    @Test
    void keysOutsideTheShardAreLeftOut() {
        KeyLoad load = new KeyLoad();
        for (int i = 0; i < 10_000; i++) {
            load.note(b("a" + i % 10));
            load.note(b("z" + i % 10));
        }
        ShardLoad taken = load.take(b("m"), null);
        assertThat(new String(taken.hottestKey(), UTF_8)).startsWith("z");
        assertThat(new String(taken.splitKey().orElseThrow(), UTF_8)).startsWith("z");
        ShardLoad none = new KeyLoad().take(b(""), b("m"));
        assertThat(none.splitKey()).isEmpty();
        assertThat(none.hottestKey()).isNull();
    }
}
