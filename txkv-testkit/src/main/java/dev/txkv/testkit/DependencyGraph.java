package dev.txkv.testkit;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A directed multigraph of transactions (nodes are indexes into the history) with typed edges,
 * and the cycle search of the checker.
 *
 * <p>Implementation notes. Strongly connected components come from Tarjan's algorithm, written
 * iteratively because histories of long chains would overflow the call stack. Inside each
 * component the search looks for a concrete cycle of the weakest class first (G0 before G1c
 * before G-single before G2, and each before its real-time variant), so the report names the
 * least-isolation level the history violates, as Elle does. Cycles are found by breadth-first
 * search, hence shortest for their edge set. The search for "exactly one rw edge" tries each rw
 * edge in turn and is the only super-linear step; a step budget bounds it.
 */
final class DependencyGraph {
    /** One edge. {@code key}, {@code a} and {@code b} say why it exists; see the checker's rendering. */
    record Edge(int from, int to, EdgeType type, long key, long a, long b) {
    }

    /** A cycle class to search for: edges allowed, and an edge type the cycle must use. */
    record CycleSpec(AnomalyType anomaly, EnumSet<EdgeType> allowed, EdgeType required, boolean exactlyOne) {
    }

    /** The search order: weakest class first; the real-time variants only after all others. */
    static final List<CycleSpec> SPECS = List.of(
            new CycleSpec(AnomalyType.G0, EnumSet.of(EdgeType.WW), null, false),
            new CycleSpec(AnomalyType.G1C, EnumSet.of(EdgeType.WW, EdgeType.WR), null, false),
            new CycleSpec(AnomalyType.G_SINGLE, EnumSet.of(EdgeType.WW, EdgeType.WR, EdgeType.RW), EdgeType.RW, true),
            new CycleSpec(AnomalyType.G2, EnumSet.of(EdgeType.WW, EdgeType.WR, EdgeType.RW), EdgeType.RW, false),
            new CycleSpec(AnomalyType.G0_REALTIME, EnumSet.of(EdgeType.WW, EdgeType.RT), null, false),
            new CycleSpec(AnomalyType.G1C_REALTIME, EnumSet.of(EdgeType.WW, EdgeType.WR, EdgeType.RT), null, false),
            new CycleSpec(AnomalyType.G_SINGLE_REALTIME, EnumSet.allOf(EdgeType.class), EdgeType.RW, true),
            new CycleSpec(AnomalyType.G2_REALTIME, EnumSet.allOf(EdgeType.class), EdgeType.RW, false));

    private final int size;
    private final List<List<Edge>> out;
    private final Set<Edge> edges = new HashSet<>();
    private final Map<EdgeType, Long> edgeCounts = new HashMap<>();
    private long stepsLeft;
    private boolean budgetExhausted;

    DependencyGraph(int size, long searchStepsMax) {
        this.size = size;
        this.out = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            out.add(new ArrayList<>(2));
        }
        this.stepsLeft = searchStepsMax;
    }

    /** Adds an edge unless it is a self-loop (a transaction never depends on itself) or a duplicate. */
    void add(int from, int to, EdgeType type, long key, long a, long b) {
        if (from == to) {
            return;
        }
        Edge e = new Edge(from, to, type, key, a, b);
        if (edges.add(e)) {
            out.get(from).add(e);
            edgeCounts.merge(type, 1L, Long::sum);
        }
    }

    long count(EdgeType type) {
        return edgeCounts.getOrDefault(type, 0L);
    }

    boolean budgetExhausted() {
        return budgetExhausted;
    }

    /** Components of more than one node over all edges. */
    List<int[]> cyclicComponents() {
        int[] all = new int[size];
        for (int i = 0; i < size; i++) {
            all[i] = i;
        }
        return components(all, null, EnumSet.allOf(EdgeType.class));
    }

    /**
     * A cycle of class {@code spec} inside component {@code nodes}, as its edges in order, or
     * null if there is none (or the budget ran out).
     */
    List<Edge> findCycle(int[] nodes, CycleSpec spec) {
        Set<Integer> inside = toSet(nodes);
        if (spec.required() == null) {
            for (int[] sub : components(nodes, inside, spec.allowed())) {
                Set<Integer> subSet = toSet(sub);
                List<Edge> path = shortestPath(sub[0], sub[0], subSet, spec.allowed());
                if (path != null) {
                    return path;
                }
            }
            return null;
        }
        if (spec.exactlyOne()) {
            EnumSet<EdgeType> others = EnumSet.copyOf(spec.allowed());
            others.remove(spec.required());
            for (Edge e : edgesOf(nodes, inside, spec.required())) {
                List<Edge> back = shortestPath(e.to(), e.from(), inside, others);
                if (back != null) {
                    return prepend(e, back);
                }
                if (budgetExhausted) {
                    return null;
                }
            }
            return null;
        }
        for (int[] sub : components(nodes, inside, spec.allowed())) {
            Set<Integer> subSet = toSet(sub);
            for (Edge e : edgesOf(sub, subSet, spec.required())) {
                List<Edge> back = shortestPath(e.to(), e.from(), subSet, spec.allowed());
                if (back != null) {
                    return prepend(e, back);
                }
            }
        }
        return null;
    }

    private List<Edge> edgesOf(int[] nodes, Set<Integer> inside, EdgeType type) {
        List<Edge> result = new ArrayList<>();
        for (int v : nodes) {
            for (Edge e : out.get(v)) {
                if (e.type() == type && inside.contains(e.to())) {
                    result.add(e);
                }
            }
        }
        return result;
    }

    private static List<Edge> prepend(Edge first, List<Edge> rest) {
        List<Edge> cycle = new ArrayList<>(rest.size() + 1);
        cycle.add(first);
        cycle.addAll(rest);
        return cycle;
    }

    private static Set<Integer> toSet(int[] nodes) {
        Set<Integer> set = new HashSet<>(nodes.length * 2);
        for (int v : nodes) {
            set.add(v);
        }
        return set;
    }

    /**
     * Shortest non-empty path from {@code from} to {@code to} over {@code allowed} edges that
     * stays inside {@code inside}; null if none. With {@code from == to} this is a cycle.
     */
    private List<Edge> shortestPath(int from, int to, Set<Integer> inside, EnumSet<EdgeType> allowed) {
        Map<Integer, Edge> via = new HashMap<>();
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        queue.add(from);
        while (!queue.isEmpty()) {
            int v = queue.poll();
            for (Edge e : out.get(v)) {
                if (--stepsLeft < 0) {
                    budgetExhausted = true;
                    return null;
                }
                if (!allowed.contains(e.type()) || !inside.contains(e.to())) {
                    continue;
                }
                if (e.to() == to) {
                    List<Edge> path = new ArrayList<>();
                    path.add(e);
                    for (int cur = v; cur != from; ) {
                        Edge back = via.get(cur);
                        path.add(back);
                        cur = back.from();
                    }
                    Collections.reverse(path);
                    return path;
                }
                if (e.to() != from && !via.containsKey(e.to())) {
                    via.put(e.to(), e);
                    queue.add(e.to());
                }
            }
        }
        return null;
    }

    /**
     * Tarjan's strongly connected components of the subgraph induced by {@code nodes}
     * (restricted further to {@code insideOrNull} when given) over {@code allowed} edges;
     * only components of two or more nodes.
     */
    private List<int[]> components(int[] nodes, Set<Integer> insideOrNull, EnumSet<EdgeType> allowed) {
        Map<Integer, Integer> index = new HashMap<>();
        Map<Integer, Integer> low = new HashMap<>();
        Set<Integer> onStack = new HashSet<>();
        ArrayDeque<Integer> stack = new ArrayDeque<>();
        ArrayDeque<int[]> frames = new ArrayDeque<>();
        List<int[]> result = new ArrayList<>();
        int counter = 0;
        for (int root : nodes) {
            if (index.containsKey(root)) {
                continue;
            }
            index.put(root, counter);
            low.put(root, counter);
            counter++;
            stack.push(root);
            onStack.add(root);
            frames.push(new int[] {root, 0});
            while (!frames.isEmpty()) {
                int[] frame = frames.peek();
                int v = frame[0];
                List<Edge> edgesOut = out.get(v);
                if (frame[1] < edgesOut.size()) {
                    Edge e = edgesOut.get(frame[1]++);
                    int w = e.to();
                    if (!allowed.contains(e.type()) || (insideOrNull != null && !insideOrNull.contains(w))) {
                        continue;
                    }
                    if (!index.containsKey(w)) {
                        index.put(w, counter);
                        low.put(w, counter);
                        counter++;
                        stack.push(w);
                        onStack.add(w);
                        frames.push(new int[] {w, 0});
                    } else if (onStack.contains(w)) {
                        low.put(v, Math.min(low.get(v), index.get(w)));
                    }
                    continue;
                }
                frames.pop();
                if (low.get(v).equals(index.get(v))) {
                    List<Integer> component = new ArrayList<>();
                    int w;
                    do {
                        w = stack.pop();
                        onStack.remove(w);
                        component.add(w);
                    } while (w != v);
                    if (component.size() > 1) {
                        result.add(component.stream().mapToInt(Integer::intValue).sorted().toArray());
                    }
                }
                if (!frames.isEmpty()) {
                    int parent = frames.peek()[0];
                    low.put(parent, Math.min(low.get(parent), low.get(v)));
                }
            }
        }
        return result;
    }
}
