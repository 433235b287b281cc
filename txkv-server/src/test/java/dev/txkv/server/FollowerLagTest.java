package dev.txkv.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.engine.ReplicationState.FollowerProgress;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FollowerLagTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private static FollowerProgress follower(String id, long match) {
        return new FollowerProgress(id, 10, OptionalLong.of(match));
    }

    @Test
    void aFollowerBehindWhatTheLeaderCommittedFiveSecondsAgoLags() {
        FollowerLag lag = new FollowerLag();
        // The leader commits 100 entries a second; b keeps up, c stopped at 150.
        for (int s = 0; s <= 4; s++) {
            assertThat(lag.lagging(s * SECOND, 3, 100 + 100 * s, List.of(follower("b", 100 + 100 * s), follower("c", 150))))
                    .as("nobody lags before the leader has led for 5 s (second %d)", s).isEmpty();
        }
        // At 5 s the reference is what the leader had at 0 s (100): c holds 150, still fine.
        assertThat(lag.lagging(5 * SECOND, 3, 600, List.of(follower("b", 598), follower("c", 150)))).isEmpty();
        // At 6 s the reference is 200: c lags, b (a few entries behind now) does not.
        assertThat(lag.lagging(6 * SECOND, 3, 700, List.of(follower("b", 690), follower("c", 150))))
                .containsExactly(new FollowerLag.Lagging("c", 150, 200, 700));
        // c catches up to where the leader was 5 s before: no longer lagging.
        assertThat(lag.lagging(7 * SECOND, 3, 800, List.of(follower("b", 800), follower("c", 300)))).isEmpty();
    }

    @Test
    void aNewTermStartsAfreshAndUnknownMatchIndicesAreNotJudged() {
        FollowerLag lag = new FollowerLag();
        lag.lagging(0, 1, 100, List.of());
        assertThat(lag.lagging(6 * SECOND, 1, 200, List.of(follower("c", 50)))).hasSize(1);
        // A new term: nothing to compare with until it is 5 s old.
        assertThat(lag.lagging(7 * SECOND, 2, 300, List.of(follower("c", 50)))).isEmpty();
        assertThat(lag.lagging(11 * SECOND, 2, 400, List.of(follower("c", 50)))).isEmpty();
        assertThat(lag.lagging(12 * SECOND, 2, 400, List.of(follower("c", 50)))).hasSize(1);
        assertThat(lag.lagging(13 * SECOND, 2, 400, List.of(new FollowerProgress("c", 10, OptionalLong.empty()))))
                .isEmpty();
    }

    @Test
    void manyCallsASecondKeepFewSamplesAndStillJudge() {
        FollowerLag lag = new FollowerLag();
        long t = 0;
        for (int i = 0; i < 20_000; i++, t += TimeUnit.MILLISECONDS.toNanos(1)) {
            lag.lagging(t, 1, i, List.of(follower("b", i)));
        }
        // 20 s of calls every millisecond: c, stuck at 10,000 (15 s ago), lags.
        assertThat(lag.lagging(t, 1, 20_000, List.of(follower("c", 10_000)))).extracting(FollowerLag.Lagging::id)
                .containsExactly("c");
    }
}
