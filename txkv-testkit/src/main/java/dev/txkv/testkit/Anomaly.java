package dev.txkv.testkit;

import java.util.List;
import java.util.Objects;

/**
 * One anomaly found by a checker.
 *
 * @param type its classification
 * @param explanation a human-readable account: for cycles, every edge and why it exists
 * @param operationIds the operations involved, for cycles in cycle order
 */
public record Anomaly(AnomalyType type, String explanation, List<Long> operationIds) {
    public Anomaly {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(explanation, "explanation");
        operationIds = List.copyOf(operationIds);
    }

    @Override
    public String toString() {
        return type + ": " + explanation;
    }
}
