package dev.txkv.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PrincipalLimitsTest {
    private static void assertRefused(Runnable r, ErrorCode code) {
        assertThatThrownBy(r::run).isInstanceOfSatisfying(TxkvException.class, e -> assertThat(e.getError()).isEqualTo(code));
    }

    @Test
    void callsWatchesAndAnswerBytesAreLimitedPerUserAndGivenBackWhenCallsEnd() {
        PrincipalLimits limits = new PrincipalLimits();
        List<PrincipalLimits.Call> calls = new ArrayList<>();
        for (int i = 0; i < PrincipalLimits.CALLS_MAX; i++) {
            calls.add(limits.admit("a", false));
        }
        assertRefused(() -> limits.admit("a", false), ErrorCode.TAG_THROTTLED);
        // Another user, and watches, count apart.
        limits.admit("b", false).end();
        List<PrincipalLimits.Call> watches = new ArrayList<>();
        for (int i = 0; i < PrincipalLimits.WATCHES_MAX; i++) {
            watches.add(limits.admit("a", true));
        }
        assertRefused(() -> limits.admit("a", true), ErrorCode.TOO_MANY_WATCHES);
        calls.get(0).end();
        calls.get(0).end(); // ending twice gives back once
        PrincipalLimits.Call again = limits.admit("a", false);
        assertRefused(() -> limits.admit("a", false), ErrorCode.TAG_THROTTLED);

        // Answer bytes: up to the limit across the user's open calls; one answer alone always fits.
        again.charge(PrincipalLimits.ANSWER_BYTES_MAX - 10);
        calls.get(1).charge(10);
        assertRefused(() -> calls.get(2).charge(1), ErrorCode.TAG_THROTTLED);
        again.end();
        calls.get(2).charge(PrincipalLimits.ANSWER_BYTES_MAX - 10);
        calls.get(3).end();
        PrincipalLimits.Call big = limits.admit("a", false);
        calls.get(2).end();
        calls.get(1).end();
        big.charge(PrincipalLimits.ANSWER_BYTES_MAX * 2);
        PrincipalLimits.Call.NONE.charge(Long.MAX_VALUE);
    }
}
