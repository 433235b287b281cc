package dev.txkv.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CrashPointsTest {
    @Test
    void anArmedPointCrashesOnceWhenReachedAndOthersNever() {
        List<CrashPoints.Point> crashed = new ArrayList<>();
        CrashPoints points = new CrashPoints(crashed::add);
        points.reach(CrashPoints.Point.COORDINATOR_BEFORE_DECISION);
        assertThat(crashed).isEmpty();

        points.arm(CrashPoints.Point.PARTICIPANT_AFTER_VOTE);
        assertThat(points.armed()).containsExactly(CrashPoints.Point.PARTICIPANT_AFTER_VOTE);
        points.reach(CrashPoints.Point.COORDINATOR_BEFORE_DECISION);
        assertThat(crashed).isEmpty();
        points.reach(CrashPoints.Point.PARTICIPANT_AFTER_VOTE);
        points.reach(CrashPoints.Point.PARTICIPANT_AFTER_VOTE);
        assertThat(crashed).containsExactly(CrashPoints.Point.PARTICIPANT_AFTER_VOTE);
        assertThat(points.armed()).isEmpty();

        points.arm(CrashPoints.Point.COORDINATOR_AFTER_DECISION);
        assertThat(points.disarm(CrashPoints.Point.COORDINATOR_AFTER_DECISION)).isTrue();
        assertThat(points.disarm(CrashPoints.Point.COORDINATOR_AFTER_DECISION)).isFalse();
        points.reach(CrashPoints.Point.COORDINATOR_AFTER_DECISION);
        assertThat(crashed).hasSize(1);
    }

    @Test
    void tokensNameThePointsAndTheDefaultCannotBeArmed() {
        for (CrashPoints.Point p : CrashPoints.Point.values()) {
            assertThat(CrashPoints.Point.ofToken(p.token())).isEqualTo(p);
        }
        assertThat(CrashPoints.Point.COORDINATOR_BEFORE_DECISION.token()).isEqualTo("coordinator-before-decision");
        assertThatThrownBy(() -> CrashPoints.Point.ofToken("anywhere"))
                .hasMessageContaining("unknown crash point 'anywhere'").hasMessageContaining("participant-after-vote");
        assertThatThrownBy(() -> CrashPoints.NONE.arm(CrashPoints.Point.PARTICIPANT_AFTER_VOTE))
                .isInstanceOf(IllegalStateException.class);
        CrashPoints.NONE.reach(CrashPoints.Point.PARTICIPANT_AFTER_VOTE);
    }
}
