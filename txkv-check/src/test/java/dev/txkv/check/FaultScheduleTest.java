package dev.txkv.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FaultScheduleTest {
    private static final Set<FaultKind> ALL = EnumSet.allOf(FaultKind.class);

    @Test
    void theSameSeedReplaysTheSameSchedule() {
        FaultSchedule a = FaultSchedule.plan(42, ALL, 600_000);
        FaultSchedule b = FaultSchedule.plan(42, ALL, 600_000);
        assertThat(a.faults()).isEqualTo(b.faults()).isNotEmpty();
        assertThat(FaultSchedule.plan(43, ALL, 600_000).faults()).isNotEqualTo(a.faults());
    }

    @Test
    void faultsFitTheWindowAndTheirLimits() {
        for (long seed = 0; seed < 200; seed++) {
            FaultSchedule s = FaultSchedule.plan(seed, ALL, 45_000);
            long total = 0;
            for (FaultSchedule.PlannedFault f : s.faults()) {
                assertThat(f.gapBeforeMs()).isBetween(FaultSchedule.GAP_MIN_MS, FaultSchedule.GAP_MAX_MS);
                assertThat(f.holdMs()).isBetween(FaultSchedule.holdMinMs(f.kind()), FaultSchedule.holdMaxMs(f.kind()));
                total += f.gapBeforeMs() + f.holdMs();
            }
            assertThat(total).as("seed %d", seed).isLessThanOrEqualTo(45_000);
        }
    }

    @Test
    void pausesLastOneToFiveSeconds() {
        assertThat(FaultSchedule.holdMinMs(FaultKind.PAUSE_LEADER)).isEqualTo(1_000);
        assertThat(FaultSchedule.holdMaxMs(FaultKind.PAUSE_FOLLOWER)).isEqualTo(5_000);
    }

    @Test
    void onlyTheRequestedKindsAreDrawnAndEveryOneAppearsInALongRun() {
        Set<FaultKind> kills = EnumSet.of(FaultKind.KILL_LEADER, FaultKind.KILL_FOLLOWER);
        FaultSchedule s = FaultSchedule.plan(7, kills, 3_600_000);
        assertThat(s.faults()).extracting(FaultSchedule.PlannedFault::kind).containsOnlyElementsOf(kills)
                .contains(FaultKind.KILL_LEADER, FaultKind.KILL_FOLLOWER);
        assertThat(FaultSchedule.plan(7, ALL, 3_600_000).faults())
                .extracting(FaultSchedule.PlannedFault::kind).containsAll(ALL);
    }

    @Test
    void noKindsOrNoTimeMeansNoFaults() {
        assertThat(FaultSchedule.plan(1, Set.of(), 600_000).faults()).isEmpty();
        assertThat(FaultSchedule.plan(1, ALL, 1_000).faults()).isEmpty();
        assertThatThrownBy(() -> FaultSchedule.plan(1, ALL, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theScheduleIsBoundedInCount() {
        FaultSchedule s = FaultSchedule.plan(3, ALL, Long.MAX_VALUE / 4);
        assertThat(s.faults()).hasSize(FaultSchedule.FAULTS_MAX);
    }
}
