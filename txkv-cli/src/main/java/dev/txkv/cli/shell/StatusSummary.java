package dev.txkv.cli.shell;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.txkv.proto.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The human summary that {@code status} prints, and the JSON that {@code status json} prints,
 * of the typed status (message {@code Status} of txkv.proto). The summary shows only what the
 * status holds: a value the server did not report (a probe step a follower does not time, the
 * lag when the leader did not answer) is left out, never shown as a placeholder.
 */
public final class StatusSummary {
    private static final String LABEL_FORMAT = "  %-28s - %s%n";
    /** The same printing as the server's HTTP /status: txkv.proto's field names, defaults included. */
    private static final JsonFormat.Printer JSON = JsonFormat.printer().preservingProtoFieldNames()
            .alwaysPrintFieldsWithNoPresence();

    private final Status status;
    private final StringBuilder text = new StringBuilder();

    private StatusSummary(Status status) {
        this.status = status;
    }

    /** The summary of {@code status}, several lines ending in a newline. */
    public static String render(Status status) {
        return new StatusSummary(status).render();
    }

    /**
     * A sharded cluster's shards as a table: id, key range, replicas, leader, and the answering
     * member's replica's applied version, size and two-phase state, then a line naming the
     * excluded members when there are any; a line saying so when the cluster is not sharded.
     */
    public static String shards(Status status) {
        return shards(status, status.getAnsweredBy());
    }

    /**
     * As {@link #shards(Status)}, the header naming {@code on} as where the applied versions,
     * sizes and two-phase states are from: a member's id, or "a replica" when each row's values
     * come from a member that keeps that shard.
     */
    static String shards(Status status, String on) {
        if (!status.hasCluster() || status.getCluster().getShardsCount() == 0) {
            return "The cluster is not sharded: one Raft group holds the whole keyspace.\n";
        }
        StringBuilder text = new StringBuilder();
        text.append(String.format("%-5s %-24s %-22s %-10s %-18s %-10s %s%n", "id", "range", "replicas", "leader",
                "applied version", "size", "two-phase state (on " + on + ")"));
        for (Status.Shard shard : status.getCluster().getShardsList()) {
            String range = "[" + ShellSyntax.printable(shard.getBegin().toByteArray()) + ", "
                    + (shard.getEnd().isEmpty() ? "\\xff" : ShellSyntax.printable(shard.getEnd().toByteArray())) + ")";
            text.append(String.format("%-5d %-24s %-22s %-10s %-18s %-10s %s%n", shard.getId(), range,
                    String.join(",", shard.getReplicasList()), shard.getLeader().isEmpty() ? "-" : shard.getLeader(),
                    shard.hasAppliedVersion() ? Long.toString(shard.getAppliedVersion().getValue()) : "-",
                    shard.hasKvSizeBytesEstimate() ? formatBytes(shard.getKvSizeBytesEstimate().getValue()) : "-",
                    shard.getTwoPhase().isEmpty() ? "-" : shard.getTwoPhase()));
        }
        if (status.getCluster().getExcludedCount() > 0) {
            text.append("excluded: ").append(String.join(", ", status.getCluster().getExcludedList()))
                    .append(System.lineSeparator());
        }
        return text.toString();
    }

    /** {@code status} as JSON, as the server's HTTP {@code /status} prints it. */
    public static String json(Status status) {
        try {
            return JSON.print(status);
        } catch (InvalidProtocolBufferException e) {
            // Only Any fields of unknown types fail to print; Status has none.
            throw new IllegalStateException(e);
        }
    }

    private String render() {
        section("Cluster");
        if (status.hasCluster()) {
            Status.Cluster cluster = status.getCluster();
            line("Name", cluster.getName());
            line("Leader", cluster.getLeader().isEmpty() ? "none known" : cluster.getLeader());
            line("Raft term", Long.toString(cluster.getTerm()));
        } else {
            line("Replication", "none (a single server)");
        }
        line("Members", Integer.toString(status.getProcessesCount()));
        if (status.hasCluster() && status.getCluster().getShardsCount() > 0) {
            Status.Sequencer sequencer = status.getCluster().getSequencer();
            line("Shards", Integer.toString(status.getCluster().getShardsCount()));
            if (status.getCluster().getExcludedCount() > 0) {
                line("Excluded members", String.join(", ", status.getCluster().getExcludedList()));
            }
            line("Sequencer", (sequencer.getLeader().isEmpty() ? "no leader known" : "run by " + sequencer.getLeader())
                    + (sequencer.hasEpoch() ? ", epoch " + sequencer.getEpoch().getValue() : ""));
        }
        line("Answered by", status.getAnsweredBy());
        line("Database available", yesNo(status.getDatabase().getAvailable()));
        line("Database healthy", yesNo(status.getDatabase().getHealthy()));
        line("Protocol version", Integer.toString(status.getProtocolVersion()));

        Status.Process self = answering();
        section("Data (as " + status.getAnsweredBy() + " has it)");
        line("Latest version", Long.toString(status.getLatestVersion()));
        if (self != null && self.hasStorage()) {
            Status.Storage storage = self.getStorage();
            line("Storage engine", (storage.getEngine() + " " + storage.getEngineVersion()).trim());
            line("Sum of key-value sizes", formatBytes(storage.getKvSizeBytesEstimate()) + " (estimate)");
            line("Disk space used", formatBytes(storage.getDiskUsedBytes()) + " in " + storage.getDataDirectory());
            line("MVCC versions retained", Long.toString(storage.getMvccVersionsRetained()));
        }

        section("Workload (of " + status.getAnsweredBy() + ")");
        Status.Workload w = status.getWorkload();
        line("Transactions committed", rate(w.getCommitted()));
        line("Conflicts", rate(w.getConflicted()));
        line("Too old", rate(w.getTooOld()));
        line("Rejected, queue full", rate(w.getRejectedForQueueFull()));
        line("Reads", rate(w.getReads()));
        line("Commit batches", rate(w.getCommitBatches()));

        section("Latency probe (of " + status.getAnsweredBy() + ")");
        Status.LatencyProbe probe = status.getLatencyProbe();
        if (probe.hasReadVersionSeconds()) {
            line("Transaction start", milliseconds(probe.getReadVersionSeconds().getValue()));
        }
        if (probe.hasReadSeconds()) {
            line("Read", milliseconds(probe.getReadSeconds().getValue()));
        }
        if (probe.hasCommitSeconds()) {
            line("Commit", milliseconds(probe.getCommitSeconds().getValue()));
        }
        if (!probe.getError().isEmpty()) {
            line("Probe error", probe.getError());
        }

        section("Queues (of " + status.getAnsweredBy() + ")");
        Status.Queues q = status.getQueues();
        line("Commit queue", q.getCommitQueueDepth() + " of " + q.getCommitQueueLimit());
        line("Watches", q.getWatches() + " of " + q.getWatchesLimit());
        line("Watch streams", q.getWatchStreams() + " of " + q.getWatchStreamsLimit());

        section("Limits");
        Status.Limits l = status.getLimits();
        line("Key size", formatBytes(l.getKeySizeBytes()));
        line("Value size", formatBytes(l.getValueSizeBytes()));
        line("Transaction size", formatBytes(l.getTransactionSizeBytes()));
        line("MVCC window", formatNumber(l.getMvccWindowMs() / 1000.0) + " s");

        processes();
        messages();
        return text.toString();
    }

    private Status.Process answering() {
        for (Status.Process p : status.getProcessesList()) {
            if (p.getId().equals(status.getAnsweredBy())) {
                return p;
            }
        }
        return null;
    }

    /** Two lines per process: who and where, then what it reports (or why it could not be asked). */
    private void processes() {
        section("Processes");
        for (Status.Process p : status.getProcessesList()) {
            List<String> where = new ArrayList<>();
            where.add(p.getClientAddress().isEmpty() ? "client address not configured" : "client " + p.getClientAddress());
            if (!p.getRaftAddress().isEmpty()) {
                where.add("raft " + p.getRaftAddress());
            }
            text.append(String.format("  %s%s  %s, %s%n", p.getId(), p.getId().equals(status.getAnsweredBy()) ? " *" : "",
                    p.getRole() + (p.getAcceptingCommits().getValue() ? " (takes commits)" : ""), String.join(", ", where)));
            List<String> facts = new ArrayList<>();
            if (!p.getError().isEmpty()) {
                facts.add(p.getError());
            }
            if (p.hasHealth()) {
                facts.add(health(p.getHealth()));
            }
            if (p.hasAppliedVersion()) {
                facts.add("applied version " + p.getAppliedVersion().getValue());
            }
            if (p.hasLagVersions() || p.hasLagEntries()) {
                List<String> lag = new ArrayList<>();
                if (p.hasLagVersions()) {
                    lag.add(p.getLagVersions().getValue() + " versions");
                }
                if (p.hasLagEntries()) {
                    lag.add(p.getLagEntries().getValue() + " log entries");
                }
                facts.add("behind the leader by " + String.join(", ", lag));
            }
            if (p.hasLastContactMs()) {
                facts.add("last answered the leader " + p.getLastContactMs().getValue() + " ms ago");
            }
            if (p.hasStorage()) {
                facts.add("disk " + formatBytes(p.getStorage().getDiskUsedBytes()));
            }
            if (p.hasUptimeSeconds()) {
                facts.add("up " + p.getUptimeSeconds().getValue() + " s");
            }
            text.append("      ").append(String.join("; ", facts)).append(System.lineSeparator());
        }
        text.append("  (* answered this request)").append(System.lineSeparator());
    }

    private static String health(Status.Health h) {
        if (h.getHealthy()) {
            return "healthy";
        }
        String state = h.getAvailable() ? "available, not healthy" : "UNAVAILABLE";
        return h.getMessagesCount() == 0 ? state : state + " (" + h.getMessages(0).getName() + ")";
    }

    /** The answering member's messages, then each other process's reasons for not being healthy. */
    private void messages() {
        List<String> lines = new ArrayList<>();
        for (Status.Message m : status.getDatabase().getMessagesList()) {
            lines.add(m.getDescription());
        }
        for (Status.Process p : status.getProcessesList()) {
            if (p.getId().equals(status.getAnsweredBy()) || !p.hasHealth()) {
                continue;
            }
            for (Status.Message m : p.getHealth().getMessagesList()) {
                lines.add(p.getId() + ": " + m.getDescription());
            }
        }
        if (lines.isEmpty()) {
            return;
        }
        section("Messages");
        for (String line : lines) {
            text.append("  ").append(line).append(System.lineSeparator());
        }
    }

    // ---------------------------------------------------------------- one value

    private void section(String title) {
        text.append(System.lineSeparator()).append(title).append(':').append(System.lineSeparator());
    }

    private void line(String label, String value) {
        text.append(String.format(LABEL_FORMAT, label, value));
    }

    private static String yesNo(boolean b) {
        return b ? "yes" : "no";
    }

    private static String rate(Status.Rate r) {
        return formatNumber(r.getHz()) + " Hz (" + r.getCounter() + " since start)";
    }

    private static String milliseconds(double seconds) {
        return String.format(Locale.ROOT, "%.3f ms", seconds * 1000);
    }

    /** Whole numbers print without a fraction, others with two decimals. */
    static String formatNumber(double n) {
        if (n == Math.rint(n) && Math.abs(n) < 0x1p63) {
            return String.valueOf((long) n);
        }
        return String.format(Locale.ROOT, "%.2f", n);
    }

    static String formatBytes(double n) {
        String[] units = {"B", "KB", "MB", "GB", "TB", "PB"};
        double value = n;
        int unit = 0;
        while (Math.abs(value) >= 1000 && unit < units.length - 1) {
            value /= 1000;
            unit++;
        }
        return unit == 0 ? formatNumber(value) + " B" : String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }
}
