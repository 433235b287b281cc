package dev.txkv.check;

import dev.txkv.testkit.Anomaly;
import dev.txkv.testkit.AnomalyType;
import dev.txkv.testkit.CheckResult;
import java.util.Set;

/**
 * One workload's outcome: operation counts, its checker's result, and whether its final read
 * (the lost-write check after healing) committed at all.
 *
 * @param name the workload, e.g. "list-append"
 * @param ok committed attempts
 * @param fail attempts that certainly did not commit
 * @param info attempts with unknown outcome
 * @param check what the checker found
 * @param finalReadOk whether the final read of every key succeeded; without it lost writes
 *     cannot be ruled out and the run is not valid
 */
record WorkloadResult(String name, long ok, long fail, long info, CheckResult check, boolean finalReadOk) {
    /** Anomalies that are acknowledged writes missing from the final state. */
    private static final Set<AnomalyType> LOST = Set.of(AnomalyType.LOST_WRITE, AnomalyType.BANK_FINAL_STATE);

    long lostWrites() {
        return check.anomalies().stream().map(Anomaly::type).filter(LOST::contains).count();
    }

    /** Every other anomaly: cycles (G0, G1c, G-single, G2 and their real-time forms), G1a, G1b... */
    long anomalies() {
        return check.anomalies().size() - lostWrites();
    }

    boolean valid() {
        return check.valid() && finalReadOk;
    }
}
