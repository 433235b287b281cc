package dev.txkv.testkit;

import static dev.txkv.testkit.Histories.a;
import static dev.txkv.testkit.Histories.r;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ListAppendCheckerTest {
    private static final long X = 1;
    private static final long Y = 2;

    private static CheckResult check(Histories h) {
        CheckResult result = ListAppendChecker.check(h.build());
        System.out.println(result.report(5));
        return result;
    }

    @Test
    void serialHistoryIsValid() {
        CheckResult result = check(new Histories()
                .ok(0, 1, a(X, 1))
                .ok(2, 3, r(X, 1), a(Y, 2))
                .ok(4, 5, r(X, 1), r(Y, 2), a(X, 3))
                .ok(6, 7, r(X, 1, 3), r(Y, 2)));
        assertThat(result.valid()).isTrue();
        assertThat(result.counts()).containsEntry("ok", 4L);
    }

    @Test
    void concurrentButSerializableHistoryIsValid() {
        CheckResult result = check(new Histories()
                .ok(0, 10, a(X, 1), r(Y))
                .ok(1, 11, r(X), a(Y, 2))
                .fail(2, 12, a(X, 99))
                .info(3, 13, a(Y, 98))
                .ok(20, 30, r(X, 1), r(Y, 2)));
        // The two first transactions overlap, so either order is allowed in real time, but they
        // read each other's keys as empty: T1 -rw-> T0 and T0 -rw-> T1 would be write skew. Keep
        // one of the reads non-empty instead: rebuild without the cycle.
        assertThat(result.anomalyTypes()).containsExactly(AnomalyType.G2);

        CheckResult fixed = check(new Histories()
                .ok(0, 10, a(X, 1), r(Y))
                .ok(1, 11, r(X, 1), a(Y, 2))
                .fail(2, 12, a(X, 99))
                .info(3, 13, a(Y, 98))
                .ok(20, 30, r(X, 1), r(Y, 2)));
        assertThat(fixed.valid()).isTrue();
    }

    @Test
    void readsAfterOwnAppendsAreExternalReadsPlusOwnSuffix() {
        CheckResult result = check(new Histories()
                .ok(0, 1, a(X, 1))
                .ok(2, 3, a(X, 2), r(X, 1, 2), a(X, 3), r(X, 1, 2, 3))
                .ok(4, 5, r(X, 1, 2, 3)));
        assertThat(result.valid()).isTrue();
    }

    @Test
    void writeCycleIsG0() {
        CheckResult result = check(new Histories()
                .ok(0, 10, a(X, 1), a(Y, 1))
                .ok(0, 10, a(X, 2), a(Y, 2))
                .ok(20, 30, r(X, 1, 2), r(Y, 2, 1)));
        assertThat(result.anomalyTypes()).containsExactly(AnomalyType.G0);
        assertThat(result.anomalies().get(0).operationIds()).containsExactlyInAnyOrder(0L, 1L);
        assertThat(result.anomalies().get(0).explanation()).contains("-ww->");
    }

    @Test
    void circularInformationFlowIsG1c() {
        CheckResult result = check(new Histories()
                .ok(0, 10, a(X, 1), r(Y, 2))
                .ok(0, 10, a(Y, 2), r(X, 1)));
        assertThat(result.anomalyTypes()).containsExactly(AnomalyType.G1C);
        assertThat(result.anomalies().get(0).explanation()).contains("-wr->").doesNotContain("-rw->");
    }

    @Test
    void readSkewIsGSingle() {
        CheckResult result = check(new Histories()
                .ok(0, 10, a(X, 1), a(Y, 1))
                .ok(1, 11, r(X), r(Y, 1))
                .ok(20, 30, r(X, 1), r(Y, 1)));
        assertThat(result.anomalyTypes()).containsExactly(AnomalyType.G_SINGLE);
        assertThat(result.anomalies().get(0).explanation()).contains("-rw->", "-wr->");
    }

    @Test
    void lostUpdateIsGSingleWithOneRwAndOneWwEdge() {
        // Both read the empty list and appended: whichever came second should have seen the first.
        CheckResult result = check(new Histories()
                .ok(0, 10, r(X), a(X, 1))
                .ok(0, 10, r(X), a(X, 2))
                .ok(20, 30, r(X, 1, 2)));
        assertThat(result.anomalyTypes()).containsExactly(AnomalyType.G_SINGLE);
        assertThat(result.anomalies().get(0).explanation()).contains("-ww->", "-rw->");
    }

    @Test
    void writeSkewIsG2() {
        CheckResult result = check(new Histories()
                .ok(0, 10, r(X), r(Y), a(X, 1))
                .ok(0, 10, r(X), r(Y), a(Y, 2))
                .ok(20, 30, r(X, 1), r(Y, 2)));
        assertThat(result.anomalyTypes()).containsExactly(AnomalyType.G2);
    }

    @Test
    void readOfFailedAppendIsG1a() {
        CheckResult result = check(new Histories()
                .fail(0, 10, a(X, 1))
                .ok(20, 30, r(X, 1)));
        assertThat(result.anomalyTypes()).containsExactly(AnomalyType.G1A);
        assertThat(result.anomalies().get(0).operationIds()).containsExactly(1L, 0L);
    }

    @Test
    void readOfIntermediateStateIsG1b() {
        CheckResult result = check(new Histories()
                .ok(0, 10, a(X, 1), a(X, 2))
                .ok(5, 15, r(X, 1))
                .ok(20, 30, r(X, 1, 2)));
        // The same read also closes a cycle T0 -wr-> T1 -rw-> T0 (T1 saw 1 but not 2, both by T0).
        assertThat(result.anomalyTypes()).containsExactlyInAnyOrder(AnomalyType.G1B, AnomalyType.G_SINGLE);
        assertThat(result.anomaliesOf(AnomalyType.G1B).get(0).operationIds()).containsExactly(1L, 0L);
    }

    @Test
    void staleReadByLaterTransactionIsARealtimeCycle() {
        CheckResult result = check(new Histories()
                .ok(0, 1, a(X, 1))
                .ok(2, 3, r(X, 1))
                .ok(4, 5, r(X)));
        assertThat(result.anomalyTypes()).containsExactly(AnomalyType.G_SINGLE_REALTIME);
        assertThat(result.anomalies().get(0).explanation()).contains("-rt->", "-rw->");
    }

    @Test
    void sameStaleReadIsFineWhenTheReaderOverlapsTheWriter() {
        CheckResult result = check(new Histories()
                .ok(0, 10, a(X, 1))
                .ok(11, 12, r(X, 1))
                .ok(5, 13, r(X)));
        assertThat(result.valid()).isTrue();
    }

    @Test
    void acknowledgedAppendThatALaterReadLacksIsLost() {
        CheckResult result = check(new Histories()
                .ok(0, 1, a(X, 1))
                .ok(2, 3, a(X, 2))
                .ok(4, 5, r(X, 2)));
        assertThat(result.anomalyTypes()).contains(AnomalyType.LOST_WRITE);
        assertThat(result.anomaliesOf(AnomalyType.LOST_WRITE)).hasSize(1);
        assertThat(result.anomaliesOf(AnomalyType.LOST_WRITE).get(0).operationIds()).containsExactly(0L, 2L);
    }

    @Test
    void unreadAppendIsNotLostWhenNoReadBeganAfterIt() {
        CheckResult result = check(new Histories()
                .ok(0, 10, a(X, 1))
                .ok(5, 15, r(X)));
        assertThat(result.valid()).isTrue();
    }

    @Test
    void readsThatAreNotPrefixesOfEachOtherAreAnIncompatibleOrder() {
        CheckResult result = check(new Histories()
                .ok(0, 10, a(X, 1))
                .ok(0, 10, a(X, 2))
                .ok(20, 30, r(X, 1, 2))
                .ok(20, 30, r(X, 2, 1)));
        assertThat(result.anomalyTypes()).containsExactly(AnomalyType.INCOMPATIBLE_ORDER);
    }

    @Test
    void duplicateGarbageAndInternalAnomaliesAreFound() {
        CheckResult result = check(new Histories()
                .ok(0, 1, a(X, 1))
                .ok(2, 3, r(X, 1, 1))
                .ok(4, 5, r(Y, 77))
                .ok(6, 7, r(X, 1), a(X, 5), r(X, 1)));
        assertThat(result.anomalyTypes()).contains(
                AnomalyType.DUPLICATE_ELEMENTS, AnomalyType.GARBAGE_READ, AnomalyType.INTERNAL);
    }

    @Test
    void observedIndeterminateTransactionTakesPartInCycles() {
        // T0's outcome is unknown, but T1 saw its append, so it committed; T0 also read Y as
        // empty although T1's append to Y completed before... T0 is INFO, so T0 has no reads:
        // its cycle must come from its writes. Plant a G0 through it.
        CheckResult result = check(new Histories()
                .info(0, 10, a(X, 1), a(Y, 1))
                .ok(0, 10, a(X, 2), a(Y, 2))
                .ok(20, 30, r(X, 1, 2), r(Y, 2, 1)));
        assertThat(result.anomalyTypes()).containsExactly(AnomalyType.G0);
    }

    @Test
    void unobservedIndeterminateTransactionIsIgnored() {
        CheckResult result = check(new Histories()
                .info(0, 1, a(X, 1))
                .ok(2, 3, r(X)));
        assertThat(result.valid()).isTrue();
    }
}
