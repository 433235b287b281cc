package dev.txkv.check;

import com.google.gson.GsonBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The verdict and figures of one run: what was injected and when, what the workloads did, what
 * the checkers found, and how long failovers took. A run is valid when every checker found
 * nothing and every final read succeeded; failover times are reported against their target but
 * do not decide validity.
 *
 * @param seed replays the fault schedule and the workloads' choices
 * @param startedAt wall-clock start, for the reader
 * @param runStartNanos the harness clock at the start; event times are relative to it
 * @param settings the run's settings, as given
 * @param network where the nodes ran
 * @param notes what was skipped and why (e.g. partitions without network namespaces)
 * @param faults every fault, in order
 * @param workloads one result per workload
 * @param workloadFailoverMs per killed leader, from the kill to the first committed workload
 *     write; -1 when none
 * @param inDoubt cross-shard transactions' prepared slices still in doubt on some replica once
 *     the run settled (0 unsharded; -1 when a node did not say); anything but 0 makes the run
 *     invalid: a transaction was left stuck
 * @param authProbe with authorization on (secure runs): whether the workloads' users were
 *     refused outside their keys at the end, which must hold for a valid run; null when off
 */
record RunReport(long seed, Instant startedAt, long runStartNanos, Map<String, String> settings, String network,
                 List<String> notes, List<FaultEvent> faults, List<WorkloadResult> workloads,
                 List<Long> workloadFailoverMs, long inDoubt, AuthProbe authProbe) {
    /** What a leader's SIGKILL may cost before the first commit succeeds. */
    static final long FAILOVER_TARGET_MS = 3_000;
    /** Most anomalies listed per workload in the text report. */
    static final int ANOMALIES_SHOWN_MAX = 10;

    RunReport {
        settings = new LinkedHashMap<>(settings);
        notes = List.copyOf(notes);
        faults = List.copyOf(faults);
        workloads = List.copyOf(workloads);
        workloadFailoverMs = List.copyOf(workloadFailoverMs);
    }

    /** A report of a run without authorization. */
    RunReport(long seed, Instant startedAt, long runStartNanos, Map<String, String> settings, String network,
              List<String> notes, List<FaultEvent> faults, List<WorkloadResult> workloads, List<Long> workloadFailoverMs,
              long inDoubt) {
        this(seed, startedAt, runStartNanos, settings, network, notes, faults, workloads, workloadFailoverMs, inDoubt,
                null);
    }

    /** A report with nothing in doubt. */
    RunReport(long seed, Instant startedAt, long runStartNanos, Map<String, String> settings, String network,
              List<String> notes, List<FaultEvent> faults, List<WorkloadResult> workloads, List<Long> workloadFailoverMs) {
        this(seed, startedAt, runStartNanos, settings, network, notes, faults, workloads, workloadFailoverMs, 0);
    }

    boolean valid() {
        return !workloads.isEmpty() && workloads.stream().allMatch(WorkloadResult::valid) && breaches() == 0
                && inDoubt == 0 && (authProbe == null || authProbe.refused());
    }

    /** Stranger faults whose requests were accepted or whose forgery became readable. */
    long breaches() {
        return faults.stream().filter(FaultEvent::breach).count();
    }

    long anomalies() {
        return workloads.stream().mapToLong(WorkloadResult::anomalies).sum();
    }

    long lostWrites() {
        return workloads.stream().mapToLong(WorkloadResult::lostWrites).sum();
    }

    long faultsInjected() {
        return faults.stream().filter(FaultEvent::injected).count();
    }

    /** Failover times measured by the probe client, one per killed leader where it committed. */
    List<Long> probeFailoverMs() {
        return faults.stream().filter(f -> f.kind() == FaultKind.KILL_LEADER && f.injected() && f.failoverMs() >= 0)
                .map(FaultEvent::failoverMs).toList();
    }

    /** The nearest-rank percentile {@code p} (0 to 100) of {@code values}; -1 when empty. */
    static long percentile(List<Long> values, double p) {
        if (values.isEmpty()) {
            return -1;
        }
        if (p < 0 || p > 100) {
            throw new IllegalArgumentException("percentile out of 0..100: " + p);
        }
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }

    private String at(long nanos) {
        return String.format("+%7.1fs", (nanos - runStartNanos) / 1e9);
    }

    /** The report for people. */
    String text() {
        StringBuilder sb = new StringBuilder();
        sb.append("txkv check report\n");
        sb.append("  started ").append(startedAt).append(", seed ").append(seed).append('\n');
        settings.forEach((k, v) -> sb.append("  ").append(k).append(": ").append(v).append('\n'));
        sb.append("  network: ").append(network).append('\n');
        notes.forEach(n -> sb.append("  note: ").append(n).append('\n'));
        sb.append("\nfaults: ").append(faultsInjected()).append(" injected");
        long skipped = faults.size() - faultsInjected();
        if (skipped > 0) {
            sb.append(", ").append(skipped).append(" skipped");
        }
        sb.append('\n');
        for (FaultEvent f : faults) {
            sb.append(String.format("  %s  #%-3d %-25s %-4s leader %-4s held %5d ms  healed %s%s%s%n",
                    at(f.startNanos()), f.number(), f.kind().token(), f.node() == null ? "-" : f.node(),
                    f.leaderBefore() == null ? "?" : f.leaderBefore(),
                    TimeUnit.NANOSECONDS.toMillis(f.healNanos() - f.startNanos()), at(f.healedNanos()).trim(),
                    f.kind() == FaultKind.KILL_LEADER && f.injected()
                            ? "  failover " + (f.failoverMs() < 0 ? "none" : f.failoverMs() + " ms") : "",
                    f.note().isEmpty() ? "" : "  (" + f.note() + ")"));
        }
        sb.append("\noperations:\n");
        for (WorkloadResult w : workloads) {
            sb.append(String.format("  %-12s ok %7d  fail %7d  info %6d  anomalies %d  lost writes %d  final read %s%n",
                    w.name(), w.ok(), w.fail(), w.info(), w.anomalies(), w.lostWrites(),
                    w.finalReadOk() ? "ok" : "FAILED"));
        }
        sb.append("\nchecks:\n");
        for (WorkloadResult w : workloads) {
            sb.append("  ").append(w.name()).append(": ").append(w.check().report(ANOMALIES_SHOWN_MAX).strip()
                    .replace("\n", "\n    ")).append('\n');
        }
        if (authProbe != null) {
            sb.append("\nauthorization: ").append(authProbe.refused() ? "in force" : "NOT SHOWN IN FORCE")
                    .append(" (").append(authProbe.detail()).append(")\n");
        }
        List<Long> probe = probeFailoverMs();
        sb.append("\nfailover (leader SIGKILL -> first successful commit), target <= ").append(FAILOVER_TARGET_MS)
                .append(" ms:\n");
        sb.append(String.format("  probe client:   n=%d p50=%s max=%s%s%n", probe.size(), ms(percentile(probe, 50)),
                ms(percentile(probe, 100)), probe.isEmpty() ? "" : percentile(probe, 100) <= FAILOVER_TARGET_MS
                        ? "  (target met)" : "  (target MISSED)"));
        List<Long> traffic = workloadFailoverMs.stream().filter(v -> v >= 0).toList();
        sb.append(String.format("  workload write: n=%d p50=%s max=%s%n", traffic.size(), ms(percentile(traffic, 50)),
                ms(percentile(traffic, 100))));
        sb.append(String.format("%nverdict: %s  (anomalies %d, lost writes %d, faults %d, Raft port breaches %d,"
                + " in doubt %s%s)%n", valid() ? "VALID" : "INVALID", anomalies(), lostWrites(), faultsInjected(),
                breaches(), inDoubt < 0 ? "unknown (a node did not answer)" : Long.toString(inDoubt),
                authProbe == null ? "" : ", refused outside their keys " + (authProbe.refused() ? "yes" : "NO")));
        return sb.toString();
    }

    private static String ms(long value) {
        return value < 0 ? "-" : value + " ms";
    }

    /** The report as one JSON document, for tools. */
    String json() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("valid", valid());
        doc.put("seed", Long.toString(seed));
        doc.put("startedAt", startedAt.toString());
        doc.put("settings", settings);
        doc.put("network", network);
        doc.put("notes", notes);
        doc.put("faultsInjected", faultsInjected());
        doc.put("anomalies", anomalies());
        doc.put("raftPortBreaches", breaches());
        doc.put("lostWrites", lostWrites());
        doc.put("inDoubt", inDoubt);
        if (authProbe != null) {
            Map<String, Object> auth = new LinkedHashMap<>();
            auth.put("refusedOutsideGrants", authProbe.refused());
            auth.put("detail", authProbe.detail());
            doc.put("authorization", auth);
        }
        List<Map<String, Object>> faultDocs = new ArrayList<>();
        for (FaultEvent f : faults) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("number", f.number());
            m.put("kind", f.kind().token());
            m.put("node", f.node());
            m.put("leaderBefore", f.leaderBefore());
            m.put("startMs", TimeUnit.NANOSECONDS.toMillis(f.startNanos() - runStartNanos));
            m.put("healMs", TimeUnit.NANOSECONDS.toMillis(f.healNanos() - runStartNanos));
            m.put("healedMs", TimeUnit.NANOSECONDS.toMillis(f.healedNanos() - runStartNanos));
            m.put("failoverMs", f.failoverMs());
            m.put("note", f.note());
            faultDocs.add(m);
        }
        doc.put("faults", faultDocs);
        List<Map<String, Object>> workloadDocs = new ArrayList<>();
        for (WorkloadResult w : workloads) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", w.name());
            m.put("ok", w.ok());
            m.put("fail", w.fail());
            m.put("info", w.info());
            m.put("valid", w.valid());
            m.put("finalReadOk", w.finalReadOk());
            m.put("anomalies", w.anomalies());
            m.put("lostWrites", w.lostWrites());
            m.put("anomalyTypes", w.check().anomalyTypes().stream().map(Enum::name).toList());
            m.put("counts", w.check().counts());
            m.put("warnings", w.check().warnings());
            workloadDocs.add(m);
        }
        doc.put("workloads", workloadDocs);
        List<Long> probe = probeFailoverMs();
        Map<String, Object> failover = new LinkedHashMap<>();
        failover.put("targetMs", FAILOVER_TARGET_MS);
        failover.put("probeMs", probe);
        failover.put("probeP50Ms", percentile(probe, 50));
        failover.put("probeMaxMs", percentile(probe, 100));
        failover.put("workloadWriteMs", workloadFailoverMs);
        doc.put("failover", failover);
        return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(doc);
    }
}
