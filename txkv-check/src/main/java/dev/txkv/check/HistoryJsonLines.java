package dev.txkv.check;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.txkv.testkit.History;
import dev.txkv.testkit.MicroOp;
import dev.txkv.testkit.Operation;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The whole run as JSON lines, in time order: every workload attempt and every fault (process
 * "nemesis"), one object per line, times in milliseconds since the run began. Jepsen-style
 * "invoke"/"complete" pairs are folded into one line per attempt; the testkit's own
 * tab-separated histories, beside it in the run directory, stay what the checkers read.
 */
final class HistoryJsonLines {
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();

    private HistoryJsonLines() {
    }

    /** One line to write, with the time it sorts by. */
    private record Line(long sortNanos, Map<String, Object> fields) {
    }

    static void write(Path file, long runStartNanos, Map<String, History> histories, List<FaultEvent> faults)
            throws IOException {
        List<Line> lines = new ArrayList<>();
        histories.forEach((workload, history) -> {
            for (Operation op : history.operations()) {
                lines.add(new Line(op.invokeNanos(), operation(workload, op, runStartNanos)));
            }
        });
        for (FaultEvent f : faults) {
            lines.add(new Line(f.startNanos(), fault(f, runStartNanos)));
        }
        lines.sort(Comparator.comparingLong(Line::sortNanos));
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Line line : lines) {
                out.write(GSON.toJson(line.fields()));
                out.write('\n');
            }
        }
    }

    private static double ms(long nanos, long runStartNanos) {
        return Math.round((nanos - runStartNanos) / 1e4) / 100.0;
    }

    private static Map<String, Object> operation(String workload, Operation op, long runStartNanos) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("workload", workload);
        m.put("process", op.process());
        m.put("id", op.id());
        m.put("type", op.type().token());
        m.put("invokeMs", ms(op.invokeNanos(), runStartNanos));
        m.put("completeMs", op.completeNanos() == Operation.NEVER ? null : ms(op.completeNanos(), runStartNanos));
        List<List<Object>> steps = new ArrayList<>();
        for (MicroOp step : op.ops()) {
            List<Object> s = new ArrayList<>();
            s.add(step.kind().token());
            s.add(step.key());
            s.add(step.isWrite() ? (Object) step.value() : step.list());
            steps.add(s);
        }
        m.put("ops", steps);
        m.put("error", op.error());
        return m;
    }

    private static Map<String, Object> fault(FaultEvent f, long runStartNanos) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("process", "nemesis");
        m.put("fault", f.kind().token());
        m.put("number", f.number());
        m.put("node", f.node());
        m.put("leaderBefore", f.leaderBefore());
        m.put("startMs", ms(f.startNanos(), runStartNanos));
        m.put("healMs", ms(f.healNanos(), runStartNanos));
        m.put("healedMs", ms(f.healedNanos(), runStartNanos));
        m.put("failoverMs", f.failoverMs());
        m.put("note", f.note());
        return m;
    }
}
