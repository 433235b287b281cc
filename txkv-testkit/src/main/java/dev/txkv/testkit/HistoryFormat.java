package dev.txkv.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The text format of histories: one event per line, fields separated by tabs, so that a
 * history streamed by a process that is then killed can still be read and checked by another.
 *
 * <pre>
 * # txkv-history 1
 * meta      KEY        VALUE
 * invoke    ID         PROCESS   INVOKE_NANOS   OPS
 * complete  ID         TYPE      COMPLETE_NANOS OPS   ERROR
 * </pre>
 *
 * <ul>
 *   <li>{@code OPS} is the micro-operations separated by single spaces, each in the form of
 *       {@link MicroOp#token()}: {@code append:K:V}, {@code r:K:V1,V2} (empty after the colon:
 *       the empty list; {@code ?}: unknown), {@code w:K:V}, {@code g:K:V} ({@code nil}: absent).
 *   <li>{@code TYPE} is {@code ok}, {@code fail} or {@code info}; {@code COMPLETE_NANOS} may be
 *       {@code never}.
 *   <li>{@code ERROR} is free text with tabs and line breaks replaced by spaces; empty when none.
 *   <li>An {@code invoke} without a matching {@code complete} (the writer crashed) reads back as
 *       an INFO operation that never completed, with the invoked micro-operations.
 *   <li>Lines starting with {@code #} and blank lines are ignored. A malformed last line is
 *       ignored too, as a crash may cut it short; a malformed line elsewhere is an error.
 * </ul>
 */
public final class HistoryFormat {
    /** The first line of every history file. */
    public static final String HEADER = "# txkv-history 1";

    private static final String NEVER = "never";

    private HistoryFormat() {
    }

    /** Writes {@code history} as invoke and complete lines, one pair per operation. */
    public static void write(History history, Writer out) throws IOException {
        out.write(HEADER + "\n");
        for (Map.Entry<String, String> e : history.metadata().entrySet()) {
            out.write(metaLine(e.getKey(), e.getValue()));
        }
        for (Operation op : history.operations()) {
            out.write(invokeLine(op.id(), op.process(), op.invokeNanos(), op.ops()));
            out.write(completeLine(op));
        }
        out.flush();
    }

    /** Reads a history; see the class comment for the tolerance to a cut-short last line. */
    public static History read(Reader in) throws IOException {
        BufferedReader reader = in instanceof BufferedReader ? (BufferedReader) in : new BufferedReader(in);
        List<String> lines = new ArrayList<>();
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
            lines.add(line);
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<Long, String[]> invoked = new LinkedHashMap<>();
        Map<Long, Operation> completed = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            try {
                parseLine(line, metadata, invoked, completed);
            } catch (RuntimeException e) {
                if (i == lines.size() - 1) {
                    break;
                }
                throw new IOException("Malformed history line " + (i + 1) + ": " + line, e);
            }
        }
        List<Operation> ops = new ArrayList<>(completed.values());
        for (Map.Entry<Long, String[]> e : invoked.entrySet()) {
            if (!completed.containsKey(e.getKey())) {
                String[] f = e.getValue();
                ops.add(new Operation(e.getKey(), Integer.parseInt(f[2]), OpType.INFO, Long.parseLong(f[3]),
                        Operation.NEVER, parseOps(f[4]), null));
            }
        }
        return new History(ops, metadata);
    }

    private static void parseLine(String line, Map<String, String> metadata, Map<Long, String[]> invoked,
                                  Map<Long, Operation> completed) {
        String[] f = line.split("\t", -1);
        switch (f[0]) {
            case "meta" -> {
                requireFields(f, 3);
                metadata.put(f[1], f[2]);
            }
            case "invoke" -> {
                requireFields(f, 5);
                parseOps(f[4]);
                long id = Long.parseLong(f[1]);
                if (invoked.put(id, f) != null) {
                    throw new IllegalArgumentException("Operation " + id + " invoked twice");
                }
            }
            case "complete" -> {
                requireFields(f, 6);
                long id = Long.parseLong(f[1]);
                String[] inv = invoked.get(id);
                if (inv == null) {
                    throw new IllegalArgumentException("Operation " + id + " completes without an invoke line");
                }
                long completeNanos = f[3].equals(NEVER) ? Operation.NEVER : Long.parseLong(f[3]);
                Operation op = new Operation(id, Integer.parseInt(inv[2]), OpType.ofToken(f[2]),
                        Long.parseLong(inv[3]), completeNanos, parseOps(f[4]), f[5].isEmpty() ? null : f[5]);
                if (completed.put(id, op) != null) {
                    throw new IllegalArgumentException("Operation " + id + " completed twice");
                }
            }
            default -> throw new IllegalArgumentException("Unknown line kind: " + f[0]);
        }
    }

    private static void requireFields(String[] f, int n) {
        if (f.length != n) {
            throw new IllegalArgumentException("Expected " + n + " fields, got " + f.length);
        }
    }

    static String metaLine(String key, String value) {
        return "meta\t" + clean(key) + "\t" + clean(value) + "\n";
    }

    static String invokeLine(long id, int process, long invokeNanos, List<MicroOp> ops) {
        return "invoke\t" + id + "\t" + process + "\t" + invokeNanos + "\t" + formatOps(ops) + "\n";
    }

    static String completeLine(Operation op) {
        String when = op.completeNanos() == Operation.NEVER ? NEVER : String.valueOf(op.completeNanos());
        return "complete\t" + op.id() + "\t" + op.type().token() + "\t" + when + "\t" + formatOps(op.ops())
                + "\t" + (op.error() == null ? "" : clean(op.error())) + "\n";
    }

    static String formatOps(List<MicroOp> ops) {
        StringBuilder sb = new StringBuilder();
        for (MicroOp op : ops) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(op.token());
        }
        return sb.toString();
    }

    static List<MicroOp> parseOps(String field) {
        List<MicroOp> ops = new ArrayList<>();
        if (field.isEmpty()) {
            return ops;
        }
        for (String token : field.split(" ", -1)) {
            ops.add(MicroOp.ofToken(token));
        }
        return ops;
    }

    /** Makes free text safe for one tab-separated field. */
    static String clean(String text) {
        return text.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
    }
}
