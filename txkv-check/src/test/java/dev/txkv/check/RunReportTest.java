package dev.txkv.check;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.txkv.testkit.Anomaly;
import dev.txkv.testkit.AnomalyType;
import dev.txkv.testkit.CheckResult;
import dev.txkv.testkit.History;
import dev.txkv.testkit.MicroOp;
import dev.txkv.testkit.OpType;
import dev.txkv.testkit.Operation;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RunReportTest {
    private static final long MS = 1_000_000;
    private static final CheckResult CLEAN = new CheckResult(List.of(), List.of(), Map.of("ok", 3L));

    private static FaultEvent killLeader(int n, long startMs, long failoverMs) {
        return new FaultEvent(n, FaultKind.KILL_LEADER, "n1", "n1", startMs * MS, (startMs + 1000) * MS,
                (startMs + 3000) * MS, failoverMs, "");
    }

    private static RunReport report(List<FaultEvent> faults, List<WorkloadResult> workloads) {
        return new RunReport(42, Instant.parse("2026-01-01T00:00:00Z"), 0, Map.of("nodes", "3"), "loopback",
                List.of("partition faults skipped: test"), faults, workloads, List.of(900L, -1L));
    }

    @Test
    void aTransactionLeftInDoubtMakesTheRunInvalidAndAnUnreachedCrashPointIsNoFault() {
        List<FaultEvent> faults = List.of(new FaultEvent(1, FaultKind.CRASH_COORDINATOR, "n2", "n1", 0, MS, MS, -1,
                        "halted at coordinator-before-decision 40 ms after it was armed (exit status 99)"),
                new FaultEvent(2, FaultKind.CRASH_VOTED_PARTICIPANT, "n3", "n1", 2 * MS, 2 * MS, 2 * MS, -1,
                        FaultEvent.NOT_REACHED + " within 10000 ms; disarmed"));
        List<WorkloadResult> clean = List.of(new WorkloadResult("bank", 10, 0, 0, CLEAN, true));
        RunReport stuck = new RunReport(42, Instant.parse("2026-01-01T00:00:00Z"), 0, Map.of(), "loopback", List.of(),
                faults, clean, List.of(), 2);
        assertThat(stuck.faultsInjected()).isEqualTo(1);
        assertThat(stuck.valid()).isFalse();
        assertThat(stuck.text()).contains("verdict: INVALID", "in doubt 2", "crash-coordinator", "1 skipped");
        assertThat(JsonParser.parseString(stuck.json()).getAsJsonObject().get("inDoubt").getAsLong()).isEqualTo(2);
        RunReport settled = new RunReport(42, Instant.parse("2026-01-01T00:00:00Z"), 0, Map.of(), "loopback",
                List.of(), faults, clean, List.of(), 0);
        assertThat(settled.valid()).isTrue();
        assertThat(settled.text()).contains("verdict: VALID", "in doubt 0");
    }

    @Test
    void withAuthorizationOnTheRunIsValidOnlyWhenTheUsersWereRefusedOutsideTheirKeys() {
        List<WorkloadResult> clean = List.of(new WorkloadResult("bank", 10, 0, 0, CLEAN, true));
        RunReport refused = new RunReport(42, Instant.parse("2026-01-01T00:00:00Z"), 0, Map.of(), "loopback", List.of(),
                List.of(), clean, List.of(), 0, new AuthProbe(true, "check-bank writing x: refused with 6000"));
        assertThat(refused.valid()).isTrue();
        assertThat(refused.text()).contains("authorization: in force", "refused outside their keys yes");
        JsonObject auth = JsonParser.parseString(refused.json()).getAsJsonObject().getAsJsonObject("authorization");
        assertThat(auth.get("refusedOutsideGrants").getAsBoolean()).isTrue();
        RunReport allowed = new RunReport(42, Instant.parse("2026-01-01T00:00:00Z"), 0, Map.of(), "loopback", List.of(),
                List.of(), clean, List.of(), 0, new AuthProbe(false, "check-bank writing x: ALLOWED"));
        assertThat(allowed.valid()).isFalse();
        assertThat(allowed.text()).contains("verdict: INVALID", "refused outside their keys NO");
        RunReport off = new RunReport(42, Instant.parse("2026-01-01T00:00:00Z"), 0, Map.of(), "loopback", List.of(),
                List.of(), clean, List.of(), 0);
        assertThat(off.text()).doesNotContain("authorization", "refused outside");
        assertThat(JsonParser.parseString(off.json()).getAsJsonObject().has("authorization")).isFalse();
    }

    @Test
    void percentilesAreNearestRank() {
        List<Long> values = List.of(300L, 100L, 200L, 400L);
        assertThat(RunReport.percentile(values, 50)).isEqualTo(200);
        assertThat(RunReport.percentile(values, 100)).isEqualTo(400);
        assertThat(RunReport.percentile(List.of(7L), 50)).isEqualTo(7);
        assertThat(RunReport.percentile(List.of(), 50)).isEqualTo(-1);
    }

    @Test
    void aCleanRunIsValidAndReportsFailoverFigures() {
        RunReport r = report(List.of(killLeader(1, 5_000, 1_200), killLeader(2, 20_000, 2_500),
                        new FaultEvent(3, FaultKind.PAUSE_FOLLOWER, null, null, 0, 0, 0, -1, "skipped: no follower")),
                List.of(new WorkloadResult("list-append", 10, 2, 1, CLEAN, true)));
        assertThat(r.valid()).isTrue();
        assertThat(r.faultsInjected()).isEqualTo(2);
        assertThat(r.probeFailoverMs()).containsExactly(1_200L, 2_500L);
        String text = r.text();
        assertThat(text).contains("seed 42", "kill-leader", "failover 1200 ms", "n=2 p50=1200 ms max=2500 ms",
                "(target met)", "verdict: VALID", "anomalies 0, lost writes 0, faults 2", "skipped: no follower",
                "partition faults skipped");
        JsonObject json = JsonParser.parseString(r.json()).getAsJsonObject();
        assertThat(json.get("valid").getAsBoolean()).isTrue();
        assertThat(json.get("faultsInjected").getAsLong()).isEqualTo(2);
        assertThat(json.getAsJsonObject("failover").get("probeMaxMs").getAsLong()).isEqualTo(2_500);
    }

    @Test
    void lostWritesAndAnomaliesAreCountedApartAndMakeTheRunInvalid() {
        CheckResult bad = new CheckResult(List.of(new Anomaly(AnomalyType.LOST_WRITE, "x", List.of(1L)),
                new Anomaly(AnomalyType.G_SINGLE, "y", List.of(1L, 2L)),
                new Anomaly(AnomalyType.G2, "z", List.of(3L, 4L))), List.of(), Map.of());
        RunReport r = report(List.of(killLeader(1, 5_000, 4_000)),
                List.of(new WorkloadResult("list-append", 10, 0, 0, bad, true)));
        assertThat(r.valid()).isFalse();
        assertThat(r.lostWrites()).isEqualTo(1);
        assertThat(r.anomalies()).isEqualTo(2);
        assertThat(r.text()).contains("verdict: INVALID", "(target MISSED)", "LOST_WRITE: x");
    }

    @Test
    void aStrangersAcceptedRequestMakesTheRunInvalid() {
        List<WorkloadResult> clean = List.of(new WorkloadResult("bank", 10, 0, 0, CLEAN, true));
        FaultEvent refused = new FaultEvent(1, FaultKind.STRANGER, "n1", "n1", 0, MS, MS, -1,
                "refused all 15 requests; the forged key is absent");
        FaultEvent breach = new FaultEvent(2, FaultKind.STRANGER, "n2", "n1", 2 * MS, 3 * MS, 3 * MS, -1,
                FaultEvent.BREACH + ": the forged key is readable");
        assertThat(report(List.of(refused), clean).valid()).isTrue();
        RunReport r = report(List.of(refused, breach), clean);
        assertThat(r.valid()).isFalse();
        assertThat(r.breaches()).isEqualTo(1);
        assertThat(r.text()).contains("verdict: INVALID", "Raft port breaches 1", "the forged key is readable");
        assertThat(JsonParser.parseString(r.json()).getAsJsonObject().get("raftPortBreaches").getAsLong()).isEqualTo(1);
    }

    @Test
    void aFailedFinalReadMakesTheRunInvalid() {
        RunReport r = report(List.of(), List.of(new WorkloadResult("bank", 10, 0, 0, CLEAN, false)));
        assertThat(r.valid()).isFalse();
        assertThat(r.text()).contains("final read FAILED");
        assertThat(report(List.of(), List.of()).valid()).as("no workload, no verdict").isFalse();
    }

    private static Operation op(long id, int process, OpType type, long invokeMs, long completeMs, MicroOp... ops) {
        return new Operation(id, process, type, invokeMs * MS, completeMs * MS, List.of(ops), null);
    }

    @Test
    void workloadFailoverIsTheFirstAcknowledgedWriteAfterTheKill() {
        History h = new History(List.of(
                op(0, 0, OpType.OK, 1_000, 1_100, MicroOp.append(1, 1)),
                op(1, 0, OpType.OK, 5_100, 5_200, MicroOp.readList(1, List.of(1L))),
                op(2, 1, OpType.INFO, 5_000, 6_000, MicroOp.append(1, 2)),
                op(3, 1, OpType.OK, 6_000, 7_500, MicroOp.append(1, 3))));
        assertThat(RobustnessRun.workloadFailoverMs(List.of(killLeader(1, 5_000, 100)), List.of(h)))
                .containsExactly(2_500L);
        assertThat(RobustnessRun.workloadFailoverMs(List.of(killLeader(1, 9_000, 100)), List.of(h)))
                .containsExactly(-1L);
    }

    @Test
    void finalReadsMustCoverEveryKeyThatMayHaveBeenWritten() {
        Operation write = op(0, 0, OpType.INFO, 1, 2, MicroOp.append(5, 1));
        Operation failed = op(1, 0, OpType.FAIL, 3, 4, MicroOp.append(6, 2));
        Operation finalRead = op(2, 4, OpType.OK, 10, 11, MicroOp.readList(5, List.of(1L)));
        assertThat(RobustnessRun.listAppendFinalReadOk(new History(List.of(write, failed, finalRead)), 4)).isTrue();
        Operation failedFinalRead = op(2, 4, OpType.FAIL, 10, 11, MicroOp.readListUnknown(5));
        assertThat(RobustnessRun.listAppendFinalReadOk(new History(List.of(write, failedFinalRead)), 4)).isFalse();
    }
}
