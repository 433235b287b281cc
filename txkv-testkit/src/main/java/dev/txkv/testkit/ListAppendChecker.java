package dev.txkv.testkit;

import dev.txkv.testkit.DependencyGraph.CycleSpec;
import dev.txkv.testkit.DependencyGraph.Edge;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a list-append history for strict serializability, in the manner of Elle (Kingsbury and
 * Alvaro, "Elle: Inferring Isolation Anomalies from Experimental Observations", VLDB 2020).
 *
 * <p>Implementation notes.
 * <ol>
 *   <li>Every appended value is unique per key, so a read list names exactly which transactions
 *       wrote before it and in which order. The <em>version order</em> of a key is its longest
 *       committed read; every other committed read of the key must be a prefix of it, otherwise
 *       no single order explains the reads ({@link AnomalyType#INCOMPATIBLE_ORDER}) and the key
 *       is left out of the graph.
 *   <li>Nodes are the committed (OK) transactions, plus indeterminate (INFO) ones whose appends
 *       some committed read observed: those certainly committed. Reads of INFO and FAIL
 *       transactions are ignored; their outcome, and so the meaning of their reads, is unknown.
 *   <li>Edges, per key with version order {@code v1..vn}: ww from the writer of {@code vi} to the
 *       writer of {@code vi+1}; for a transaction's first ("external") read of the key, with its
 *       own earlier appends stripped, ending at {@code vm}: wr from the writer of {@code vm},
 *       and rw to the writer of {@code vm+1}. Real-time edges T1 → T2 when T1 is OK and
 *       completed before T2 was invoked, kept to a transitive reduction: when an operation
 *       completes it replaces, in the frontier of latest completions, every operation that
 *       precedes it.
 *   <li>Non-cycle anomalies are found directly: G1a (a committed read holds a value whose writer
 *       failed), G1b (a committed read ends at a value its writer later extended in the same
 *       transaction), duplicate elements, garbage (unwritten) values, internal inconsistency,
 *       and lost writes: an OK append absent from the version order although a committed read
 *       of the key began after the append completed. (An OK append that <em>is</em> in the
 *       version order but missing from a later read is a stale read, which shows up as a
 *       real-time cycle instead.)
 *   <li>Cycles: see {@link DependencyGraph}; one anomaly per strongly connected component, the
 *       weakest class found.
 * </ol>
 */
public final class ListAppendChecker {
    /** Default bound on the edge visits of the cycle search; enough for histories of ~10^5 operations. */
    public static final long SEARCH_STEPS_MAX_DEFAULT = 50_000_000L;

    private static final long NONE = Long.MIN_VALUE;

    private record Write(int op, boolean lastOfOpOnKey) {
    }

    private record Read(int op, List<Long> list) {
    }

    private final List<Operation> ops;
    private final long searchStepsMax;
    private final List<Anomaly> anomalies = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();
    private final Map<Long, Map<Long, Write>> writes = new HashMap<>();
    private final Map<Long, List<Read>> readsByKey = new HashMap<>();
    private final List<Map<Long, List<Long>>> externalReads = new ArrayList<>();
    private final Map<Long, List<Long>> versionOrders = new HashMap<>();
    private final Set<Long> unorderedKeys = new HashSet<>();
    private final Set<Integer> observedInfoOps = new HashSet<>();

    private ListAppendChecker(History history, long searchStepsMax) {
        this.ops = history.operations();
        this.searchStepsMax = searchStepsMax;
    }

    /** Checks {@code history} with the default search budget. */
    public static CheckResult check(History history) {
        return check(history, SEARCH_STEPS_MAX_DEFAULT);
    }

    /** Checks {@code history}; the cycle search stops, with a warning, after {@code searchStepsMax} edge visits. */
    public static CheckResult check(History history, long searchStepsMax) {
        return new ListAppendChecker(history, searchStepsMax).run();
    }

    private CheckResult run() {
        indexWrites();
        for (int i = 0; i < ops.size(); i++) {
            externalReads.add(ops.get(i).type() == OpType.OK ? checkReadsOf(i) : Map.of());
        }
        inferVersionOrders();
        findLostWrites();
        DependencyGraph graph = buildGraph();
        List<int[]> components = graph.cyclicComponents();
        for (int[] component : components) {
            reportCycle(graph, component);
        }
        if (graph.budgetExhausted()) {
            warnings.add("cycle search budget of " + searchStepsMax
                    + " edge visits ran out: some cycles may be classified as a stronger anomaly than they are");
        }
        Map<String, Long> counts = new LinkedHashMap<>();
        counts.put("ok", countType(OpType.OK));
        counts.put("fail", countType(OpType.FAIL));
        counts.put("info", countType(OpType.INFO));
        counts.put("keys", (long) versionOrders.size());
        for (EdgeType t : EdgeType.values()) {
            counts.put(t.label() + "-edges", graph.count(t));
        }
        counts.put("cyclic-components", (long) components.size());
        return new CheckResult(anomalies, warnings, counts);
    }

    private long countType(OpType type) {
        return ops.stream().filter(op -> op.type() == type).count();
    }

    private void indexWrites() {
        for (int i = 0; i < ops.size(); i++) {
            Map<Long, Integer> lastIndex = new HashMap<>();
            List<MicroOp> mops = ops.get(i).ops();
            for (int j = 0; j < mops.size(); j++) {
                if (mops.get(j).kind() == MicroOp.Kind.APPEND) {
                    lastIndex.put(mops.get(j).key(), j);
                }
            }
            for (int j = 0; j < mops.size(); j++) {
                MicroOp m = mops.get(j);
                if (m.kind() != MicroOp.Kind.APPEND) {
                    continue;
                }
                Map<Long, Write> ofKey = writes.computeIfAbsent(m.key(), k -> new HashMap<>());
                Write earlier = ofKey.putIfAbsent(m.value(), new Write(i, lastIndex.get(m.key()) == j));
                if (earlier != null) {
                    report(AnomalyType.DUPLICATE_APPEND, "value " + m.value() + " appended to key " + m.key()
                            + " by both " + name(earlier.op()) + " and " + name(i), earlier.op(), i);
                }
            }
        }
    }

    /**
     * Checks the reads of committed operation {@code i} element by element and against its own
     * earlier steps; returns its external reads (first read per key, own appends stripped).
     */
    private Map<Long, List<Long>> checkReadsOf(int i) {
        Map<Long, List<Long>> known = new HashMap<>();
        Map<Long, List<Long>> ownSuffix = new HashMap<>();
        Map<Long, List<Long>> external = new HashMap<>();
        for (MicroOp m : ops.get(i).ops()) {
            long key = m.key();
            if (m.kind() == MicroOp.Kind.APPEND) {
                List<Long> state = known.get(key);
                (state != null ? state : ownSuffix.computeIfAbsent(key, k -> new ArrayList<>())).add(m.value());
                continue;
            }
            if (m.kind() != MicroOp.Kind.READ_LIST || !m.known()) {
                continue;
            }
            List<Long> list = m.list();
            readsByKey.computeIfAbsent(key, k -> new ArrayList<>()).add(new Read(i, list));
            checkElements(i, key, list);
            List<Long> expected = known.get(key);
            if (expected != null) {
                if (!expected.equals(list)) {
                    report(AnomalyType.INTERNAL, name(i) + " read key " + key + " as " + list
                            + " although its own earlier steps imply " + expected, i);
                }
            } else {
                List<Long> suffix = ownSuffix.getOrDefault(key, List.of());
                int cut = list.size() - suffix.size();
                if (cut < 0 || !list.subList(cut, list.size()).equals(suffix)) {
                    report(AnomalyType.INTERNAL, name(i) + " read key " + key + " as " + list
                            + " which does not end with its own earlier appends " + suffix, i);
                } else {
                    external.put(key, List.copyOf(list.subList(0, cut)));
                }
            }
            known.put(key, new ArrayList<>(list));
        }
        return external;
    }

    private void checkElements(int reader, long key, List<Long> list) {
        Map<Long, Write> ofKey = writes.getOrDefault(key, Map.of());
        Set<Long> seen = new HashSet<>();
        for (long v : list) {
            if (!seen.add(v)) {
                // A list with repeats is no version order: keep the key out of the graph.
                unorderedKeys.add(key);
                report(AnomalyType.DUPLICATE_ELEMENTS, name(reader) + " read key " + key + " as " + list
                        + ", which holds " + v + " more than once", reader);
                break;
            }
        }
        for (long v : list) {
            Write w = ofKey.get(v);
            if (w == null) {
                report(AnomalyType.GARBAGE_READ, name(reader) + " read key " + key + " as " + list
                        + ", but no transaction appended " + v, reader);
            } else if (ops.get(w.op()).type() == OpType.FAIL) {
                report(AnomalyType.G1A, name(reader) + " read key " + key + " as " + list + ", including " + v
                        + " appended by " + name(w.op()) + ", which failed: " + ops.get(w.op()), reader, w.op());
            } else if (ops.get(w.op()).type() == OpType.INFO) {
                observedInfoOps.add(w.op());
            }
        }
        if (!list.isEmpty()) {
            long last = list.get(list.size() - 1);
            Write w = ofKey.get(last);
            if (w != null && w.op() != reader && !w.lastOfOpOnKey()) {
                report(AnomalyType.G1B, name(reader) + " read key " + key + " as " + list + ", ending at " + last
                        + ", an intermediate state of " + name(w.op()) + ", which appended more to key " + key
                        + " later: " + ops.get(w.op()), reader, w.op());
            }
        }
    }

    private void inferVersionOrders() {
        for (Map.Entry<Long, List<Read>> e : readsByKey.entrySet()) {
            long key = e.getKey();
            Read longest = e.getValue().get(0);
            for (Read r : e.getValue()) {
                if (r.list().size() > longest.list().size()) {
                    longest = r;
                }
            }
            for (Read r : e.getValue()) {
                if (!unorderedKeys.contains(key) && !longest.list().subList(0, r.list().size()).equals(r.list())) {
                    unorderedKeys.add(key);
                    report(AnomalyType.INCOMPATIBLE_ORDER, "key " + key + ": " + name(r.op()) + " read "
                            + r.list() + " but " + name(longest.op()) + " read " + longest.list()
                            + "; neither is a prefix of the other", r.op(), longest.op());
                    break;
                }
            }
            versionOrders.put(key, longest.list());
        }
    }

    private void findLostWrites() {
        Map<Long, Read> latestRead = new HashMap<>();
        for (Map.Entry<Long, List<Read>> e : readsByKey.entrySet()) {
            for (Read r : e.getValue()) {
                Read cur = latestRead.get(e.getKey());
                if (cur == null || ops.get(r.op()).invokeNanos() > ops.get(cur.op()).invokeNanos()) {
                    latestRead.put(e.getKey(), r);
                }
            }
        }
        for (Map.Entry<Long, Map<Long, Write>> e : writes.entrySet()) {
            long key = e.getKey();
            Read latest = latestRead.get(key);
            if (latest == null || unorderedKeys.contains(key)) {
                continue;
            }
            Set<Long> ordered = new HashSet<>(versionOrders.get(key));
            for (Map.Entry<Long, Write> w : e.getValue().entrySet()) {
                Operation writer = ops.get(w.getValue().op());
                if (writer.type() == OpType.OK && !ordered.contains(w.getKey()) && latest.op() != w.getValue().op()
                        && writer.precedesInRealTime(ops.get(latest.op()))) {
                    report(AnomalyType.LOST_WRITE, name(w.getValue().op()) + " appended " + w.getKey() + " to key "
                            + key + " and committed, but " + name(latest.op()) + ", begun after that, read "
                            + latest.list() + " and no read ever saw " + w.getKey(), w.getValue().op(), latest.op());
                }
            }
        }
    }

    private boolean isNode(int i) {
        OpType t = ops.get(i).type();
        return t == OpType.OK || (t == OpType.INFO && observedInfoOps.contains(i));
    }

    private DependencyGraph buildGraph() {
        DependencyGraph graph = new DependencyGraph(ops.size(), searchStepsMax);
        for (Map.Entry<Long, List<Long>> e : versionOrders.entrySet()) {
            long key = e.getKey();
            if (unorderedKeys.contains(key)) {
                continue;
            }
            List<Long> order = e.getValue();
            for (int j = 0; j + 1 < order.size(); j++) {
                int w1 = writerOf(key, order.get(j));
                int w2 = writerOf(key, order.get(j + 1));
                if (w1 >= 0 && w2 >= 0) {
                    graph.add(w1, w2, EdgeType.WW, key, order.get(j), order.get(j + 1));
                }
            }
        }
        for (int i = 0; i < ops.size(); i++) {
            for (Map.Entry<Long, List<Long>> e : externalReads.get(i).entrySet()) {
                long key = e.getKey();
                if (unorderedKeys.contains(key)) {
                    continue;
                }
                List<Long> read = e.getValue();
                List<Long> order = versionOrders.get(key);
                long last = read.isEmpty() ? NONE : read.get(read.size() - 1);
                if (!read.isEmpty()) {
                    int w = writerOf(key, last);
                    if (w >= 0) {
                        graph.add(w, i, EdgeType.WR, key, last, NONE);
                    }
                }
                if (read.size() < order.size()) {
                    int w = writerOf(key, order.get(read.size()));
                    if (w >= 0) {
                        graph.add(i, w, EdgeType.RW, key, last, order.get(read.size()));
                    }
                }
            }
        }
        addRealtimeEdges(graph);
        return graph;
    }

    /** The graph node that appended {@code value} to {@code key}, or -1 if none or not a node. */
    private int writerOf(long key, long value) {
        Write w = writes.getOrDefault(key, Map.of()).get(value);
        return w != null && isNode(w.op()) ? w.op() : -1;
    }

    private void addRealtimeEdges(DependencyGraph graph) {
        // Events as (time, kind, op): invocations sort before completions at the same instant,
        // because real-time precedence needs completion strictly before invocation.
        List<long[]> events = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            if (!isNode(i)) {
                continue;
            }
            events.add(new long[] {ops.get(i).invokeNanos(), 0, i});
            if (ops.get(i).type() == OpType.OK) {
                events.add(new long[] {ops.get(i).completeNanos(), 1, i});
            }
        }
        events.sort((x, y) -> x[0] != y[0] ? Long.compare(x[0], y[0]) : Long.compare(x[1], y[1]));
        Set<Integer> frontier = new LinkedHashSet<>();
        Map<Integer, List<Integer>> predecessors = new HashMap<>();
        for (long[] ev : events) {
            int op = (int) ev[2];
            if (ev[1] == 0) {
                List<Integer> preds = new ArrayList<>(frontier);
                predecessors.put(op, preds);
                for (int p : preds) {
                    graph.add(p, op, EdgeType.RT, NONE, NONE, NONE);
                }
            } else {
                predecessors.getOrDefault(op, List.of()).forEach(frontier::remove);
                predecessors.remove(op);
                frontier.add(op);
            }
        }
    }

    private void reportCycle(DependencyGraph graph, int[] component) {
        for (CycleSpec spec : DependencyGraph.SPECS) {
            List<Edge> cycle = graph.findCycle(component, spec);
            if (cycle != null) {
                List<Long> ids = new ArrayList<>();
                StringBuilder sb = new StringBuilder(spec.anomaly().name()).append(" cycle ");
                sb.append(name(cycle.get(0).from()));
                for (Edge e : cycle) {
                    ids.add(ops.get(e.from()).id());
                    sb.append(" -").append(e.type().label()).append("-> ").append(name(e.to()));
                }
                sb.append(" (component of ").append(component.length).append(" transactions)");
                for (Edge e : cycle) {
                    sb.append("\n    ").append(explain(e));
                }
                for (Edge e : cycle) {
                    sb.append("\n    ").append(ops.get(e.from()));
                }
                anomalies.add(new Anomaly(spec.anomaly(), sb.toString(), ids));
                return;
            }
        }
        warnings.add("a cyclic component of " + component.length + " transactions around " + name(component[0])
                + " has no cycle of a known class within the search budget");
    }

    private String explain(Edge e) {
        String arrow = name(e.from()) + " -" + e.type().label() + "-> " + name(e.to()) + ": ";
        return arrow + switch (e.type()) {
            case WW -> "on key " + e.key() + ", " + name(e.to()) + " appended " + e.b() + " right after "
                    + name(e.from()) + "'s " + e.a();
            case WR -> "on key " + e.key() + ", " + name(e.to()) + " read a list ending in " + e.a()
                    + ", which " + name(e.from()) + " appended";
            case RW -> "on key " + e.key() + ", " + name(e.from()) + " read "
                    + (e.a() == NONE ? "an empty list" : "a list ending in " + e.a()) + " and " + name(e.to())
                    + " appended the next element, " + e.b();
            case RT -> name(e.from()) + " completed " + (ops.get(e.to()).invokeNanos() - ops.get(e.from()).completeNanos())
                    + " ns before " + name(e.to()) + " was invoked";
        };
    }

    private String name(int index) {
        return ops.get(index).name();
    }

    private void report(AnomalyType type, String explanation, int... opIndexes) {
        List<Long> ids = new ArrayList<>();
        for (int i : opIndexes) {
            ids.add(ops.get(i).id());
        }
        anomalies.add(new Anomaly(type, explanation, ids));
    }
}
