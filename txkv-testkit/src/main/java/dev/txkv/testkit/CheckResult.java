package dev.txkv.testkit;

import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a checker found: the anomalies, warnings about what it could not check (e.g. a search
 * budget ran out), and counts for the report.
 *
 * @param anomalies the anomalies; empty when the history is valid
 * @param warnings limits of the check that do not make the history invalid
 * @param counts named counts (operations by type, edges, keys...) in insertion order
 */
public record CheckResult(List<Anomaly> anomalies, List<String> warnings, Map<String, Long> counts) {
    public CheckResult {
        anomalies = List.copyOf(anomalies);
        warnings = List.copyOf(warnings);
        counts = Collections.unmodifiableMap(new LinkedHashMap<>(counts));
    }

    /** True when no anomaly was found. */
    public boolean valid() {
        return anomalies.isEmpty();
    }

    /** The distinct anomaly types found. */
    public Set<AnomalyType> anomalyTypes() {
        Set<AnomalyType> types = EnumSet.noneOf(AnomalyType.class);
        anomalies.forEach(a -> types.add(a.type()));
        return types;
    }

    /** The anomalies of one type. */
    public List<Anomaly> anomaliesOf(AnomalyType type) {
        return anomalies.stream().filter(a -> a.type() == type).toList();
    }

    /** A multi-line report: verdict, counts, warnings and (up to {@code maxAnomalies}) anomalies. */
    public String report(int maxAnomalies) {
        StringBuilder sb = new StringBuilder(valid() ? "VALID" : "INVALID: " + anomalyTypes());
        sb.append(' ').append(counts).append('\n');
        warnings.forEach(w -> sb.append("warning: ").append(w).append('\n'));
        anomalies.stream().limit(maxAnomalies).forEach(a -> sb.append(a).append('\n'));
        if (anomalies.size() > maxAnomalies) {
            sb.append("... and ").append(anomalies.size() - maxAnomalies).append(" more anomalies\n");
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return report(20);
    }
}
