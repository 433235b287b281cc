package dev.txkv.cli.shell;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The human summary that {@code status} prints, computed from the server's status document.
 *
 * <p>The document's sections are modelled on FoundationDB's {@code status json} and are still
 * growing, so every value is looked up defensively: each line names the paths it tries in
 * order, and prints {@code unknown} when none is present or has the wrong type. Nothing in a
 * status document can make this class throw, except a document that is not JSON at all.
 */
public final class StatusSummary {
    private static final String UNKNOWN = "unknown";
    private static final String LABEL_FORMAT = "  %-28s - %s%n";

    private final Struct root;
    private final StringBuilder text = new StringBuilder();

    private StatusSummary(Struct root) {
        this.root = root;
    }

    /**
     * The summary of {@code json}, several lines ending in a newline.
     *
     * @throws ShellUsageException when {@code json} is not a JSON object
     */
    public static String render(String json) {
        return new StatusSummary(parse(json)).render();
    }

    /** Parses a status document with protobuf's JSON reader, which keeps unknown fields as they are. */
    static Struct parse(String json) {
        Struct.Builder builder = Struct.newBuilder();
        try {
            JsonFormat.parser().merge(json, builder);
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            throw new ShellUsageException("The server's status document is not a JSON object: " + e.getMessage());
        }
        return builder.build();
    }

    private String render() {
        section("Configuration");
        line("Redundancy mode", text("cluster.configuration.redundancy_mode", "cluster.configuration.redundancy.factor"));
        line("Storage engine", text("cluster.configuration.storage_engine"));
        line("Coordinators", count("cluster.configuration.coordinators_count", "cluster.coordinators"));
        line("Replicas", count("cluster.configuration.replicas", "cluster.replication.members", "cluster.raft.peers"));

        section("Cluster");
        line("Server processes", count("cluster.processes"));
        line("Leader", text("cluster.replication.leader", "cluster.raft.leader", "cluster.leader"));
        line("Raft term", number("cluster.replication.term", "cluster.raft.term"));
        if (lookup("cluster.replication.role").isPresent()) {
            line("This server", text("cluster.replication.id") + ", " + text("cluster.replication.role")
                    + ("true".equals(text("cluster.replication.accepting_commits")) ? ", takes commits" : ""));
            line("Applied version", number("cluster.replication.applied_version"));
        }
        line("Recovery state", text("cluster.recovery_state.name", "cluster.recovery_state"));
        line("Database available", text("client.database_status.available", "cluster.database_available"));
        line("Database healthy", text("client.database_status.healthy"));
        line("Protocol version", number("client.protocol_version"));

        section("Data");
        line("Latest version", number("cluster.latest_version", "cluster.versions.latest",
                "cluster.latest_committed_version"));
        line("Sum of key-value sizes", bytes("cluster.data.total_kv_size_bytes",
                "cluster.data.total_kv_size_bytes_estimate"));
        line("Disk space used", bytes("cluster.data.total_disk_used_bytes"));
        line("MVCC versions retained", number("cluster.data.mvcc_versions_retained"));

        section("Workload");
        line("Read rate", rate("cluster.workload.operations.reads.hz"));
        line("Write rate", rate("cluster.workload.operations.writes.hz"));
        line("Commit batch rate", rate("cluster.workload.operations.commit_batches.hz"));
        line("Transactions started", rate("cluster.workload.transactions.started.hz"));
        line("Transactions committed", rate("cluster.workload.transactions.committed.hz"));
        line("Conflict rate", rate("cluster.workload.transactions.conflicted.hz"));
        line("Too old rate", rate("cluster.workload.transactions.too_old.hz"));
        line("Rejected, queue full", rate("cluster.workload.transactions.rejected_for_queue_full.hz"));

        section("Latency probe");
        // The probe reports -1 for a step it could not time; that is "unknown", not a latency.
        line("Transaction start", seconds("cluster.latency_probe.read_version_seconds",
                "cluster.latency_probe.transaction_start_seconds"));
        line("Read", seconds("cluster.latency_probe.read_seconds"));
        line("Commit", seconds("cluster.latency_probe.commit_seconds"));
        first("cluster.latency_probe.error").map(StatusSummary::plain).filter(e -> !e.isEmpty())
                .ifPresent(error -> line("Probe error", error));

        section("Queues");
        line("Commit queue", ofLimit("cluster.qos.commit_queue_depth", "cluster.qos.commit_queue_limit"));
        line("Read version queue", number("cluster.qos.grv_queue_depth", "cluster.queues.grv"));
        line("Storage apply lag (versions)", number("cluster.qos.worst_version_lag_storage_server",
                "cluster.queues.apply_lag_versions"));
        line("Watches", ofLimit("cluster.qos.watches", "cluster.qos.watches_limit"));
        line("Watch streams", ofLimit("cluster.qos.watch_streams", "cluster.qos.watch_streams_limit"));

        section("Limits");
        line("Key size", bytes("cluster.limits.key_size_bytes"));
        line("Value size", bytes("cluster.limits.value_size_bytes"));
        line("Transaction size", bytes("cluster.limits.transaction_size_bytes"));
        line("MVCC window", firstNumber("cluster.limits.mvcc_window_seconds")
                .map(s -> formatNumber(s) + " s").orElse(UNKNOWN));

        processes();
        messages();
        return text.toString();
    }

    private void processes() {
        Optional<Value> processes = lookup("cluster.processes");
        if (processes.isEmpty() || !(isStruct(processes.get()) || processes.get().hasListValue())) {
            return;
        }
        section("Processes");
        List<Map.Entry<String, Value>> entries = new ArrayList<>();
        if (isStruct(processes.get())) {
            entries.addAll(processes.get().getStructValue().getFieldsMap().entrySet());
        } else {
            int i = 0;
            for (Value v : processes.get().getListValue().getValuesList()) {
                entries.add(Map.entry(String.valueOf(i++), v));
            }
        }
        entries.sort(Map.Entry.comparingByKey());
        for (Map.Entry<String, Value> entry : entries) {
            if (!isStruct(entry.getValue())) {
                continue;
            }
            Struct process = entry.getValue().getStructValue();
            String address = field(process, "address").filter(Value::hasStringValue)
                    .map(Value::getStringValue).orElse(entry.getKey());
            String uptime = field(process, "uptime_seconds").filter(Value::hasNumberValue)
                    .map(v -> ", up " + formatNumber(Math.floor(v.getNumberValue())) + " s").orElse("");
            text.append(String.format("  %-28s - %s%s%n", address, roles(process), uptime));
        }
    }

    private static String roles(Struct process) {
        Optional<Value> roles = field(process, "roles");
        if (roles.isEmpty() || !roles.get().hasListValue()) {
            return "roles " + UNKNOWN;
        }
        List<String> names = new ArrayList<>();
        for (Value role : roles.get().getListValue().getValuesList()) {
            if (role.hasStringValue()) {
                names.add(role.getStringValue());
            } else if (isStruct(role)) {
                field(role.getStructValue(), "role").filter(Value::hasStringValue)
                        .ifPresent(v -> names.add(v.getStringValue()));
            }
        }
        return names.isEmpty() ? "no roles" : String.join(", ", names);
    }

    private void messages() {
        Optional<Value> messages = lookup("cluster.messages");
        if (messages.isEmpty() || !messages.get().hasListValue()) {
            return;
        }
        ListValue list = messages.get().getListValue();
        if (list.getValuesCount() == 0) {
            return;
        }
        section("Messages");
        for (Value message : list.getValuesList()) {
            String shown = message.hasStringValue() ? message.getStringValue()
                    : isStruct(message) ? field(message.getStructValue(), "description")
                            .or(() -> field(message.getStructValue(), "name"))
                            .map(StatusSummary::plain).orElse(UNKNOWN)
                    : plain(message);
            text.append("  ").append(shown).append(System.lineSeparator());
        }
    }

    // ---------------------------------------------------------------- one value

    private void section(String title) {
        text.append(System.lineSeparator()).append(title).append(':').append(System.lineSeparator());
    }

    private void line(String label, String value) {
        text.append(String.format(LABEL_FORMAT, label, value));
    }

    private String text(String... paths) {
        return first(paths).map(StatusSummary::plain).orElse(UNKNOWN);
    }

    private String number(String... paths) {
        return firstNumber(paths).map(StatusSummary::formatNumber).orElse(UNKNOWN);
    }

    /** A count: the number itself, or the size of a list or object. */
    private String count(String... paths) {
        Optional<Value> value = first(paths);
        if (value.isEmpty()) {
            return UNKNOWN;
        }
        Value v = value.get();
        if (v.hasNumberValue()) {
            return formatNumber(v.getNumberValue());
        } else if (v.hasListValue()) {
            return String.valueOf(v.getListValue().getValuesCount());
        } else if (isStruct(v)) {
            return String.valueOf(v.getStructValue().getFieldsCount());
        }
        return UNKNOWN;
    }

    /** A depth against its limit, such as {@code 3 of 8192}; the limit only when known. */
    private String ofLimit(String valuePath, String limitPath) {
        String value = number(valuePath);
        return firstNumber(limitPath).map(limit -> value + " of " + formatNumber(limit)).orElse(value);
    }

    private String rate(String... paths) {
        return firstNumber(paths).map(hz -> formatNumber(hz) + " Hz").orElse(UNKNOWN);
    }

    private String seconds(String... paths) {
        return firstNumber(paths).filter(s -> s >= 0)
                .map(s -> String.format(Locale.ROOT, "%.3f ms", s * 1000)).orElse(UNKNOWN);
    }

    private String bytes(String... paths) {
        return firstNumber(paths).map(StatusSummary::formatBytes).orElse(UNKNOWN);
    }

    private Optional<Double> firstNumber(String... paths) {
        for (String path : paths) {
            Optional<Value> value = lookup(path);
            if (value.isPresent() && value.get().hasNumberValue()) {
                return Optional.of(value.get().getNumberValue());
            }
        }
        return Optional.empty();
    }

    private Optional<Value> first(String... paths) {
        for (String path : paths) {
            Optional<Value> value = lookup(path);
            if (value.isPresent() && !value.get().hasNullValue()) {
                return value;
            }
        }
        return Optional.empty();
    }

    /** The value at a dotted path of object fields, if every step is there. */
    private Optional<Value> lookup(String path) {
        Struct current = root;
        String[] steps = path.split("\\.");
        for (int i = 0; i < steps.length; i++) {
            Optional<Value> next = field(current, steps[i]);
            if (next.isEmpty() || i == steps.length - 1) {
                return next;
            }
            if (!isStruct(next.get())) {
                return Optional.empty();
            }
            current = next.get().getStructValue();
        }
        return Optional.empty();
    }

    private static Optional<Value> field(Struct struct, String name) {
        return Optional.ofNullable(struct.getFieldsMap().get(name));
    }

    private static boolean isStruct(Value v) {
        return v.getKindCase() == Value.KindCase.STRUCT_VALUE;
    }

    private static String plain(Value v) {
        switch (v.getKindCase()) {
            case STRING_VALUE:
                return v.getStringValue();
            case NUMBER_VALUE:
                return formatNumber(v.getNumberValue());
            case BOOL_VALUE:
                return v.getBoolValue() ? "yes" : "no";
            case LIST_VALUE:
                List<String> items = new ArrayList<>();
                v.getListValue().getValuesList().forEach(item -> items.add(plain(item)));
                return String.join(", ", items);
            case STRUCT_VALUE:
                return v.getStructValue().getFieldsMap().keySet().toString();
            default:
                return UNKNOWN;
        }
    }

    /** JSON numbers arrive as doubles; whole ones print without a fraction. */
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
