package dev.txkv.server;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The moves the control group's leader asks for by itself (docs/sharding.md, "Moving
 * replicas"): first replicas off members that are lost or excluded, then, when no move is
 * under way, one replica from a heavier member to a lighter one. A member weighs what its
 * replicas weigh ({@link Weights}: one unit per small shard, more for a large one);
 * a move is made only when it narrows the gap between the two by at least one unit, and the
 * one that evens them out best is taken. One move at a time. Then, likewise, the shard leaders
 * per member ({@link #nextLeader}), weighed by load. Pure: it reads a map and computes.
 */
final class Placement {
    private Placement() {
    }

    /** Move shard {@code shard} to {@code target}, because of {@code reason}. */
    record Move(int shard, List<String> target, String reason) {
        Move {
            target = List.copyOf(target);
        }
    }

    /**
     * The next move, if any.
     *
     * @param members every member of the cluster
     * @param lost the members the control group's leader has not heard from for too long
     * @param rebalance whether to even out what the members keep (by {@code weights})
     * @param weights each shard's weight as a replica
     * @param pinned shards the rebalancer leaves where they are (a merge waits for them); moves
     *     off lost and excluded members still take them
     * @param stuck told of each replica on a lost or excluded member that no member can take
     *     (every other usable member keeps the shard already)
     */
    static Optional<Move> next(ClusterMap map, List<String> members, Set<String> lost, boolean rebalance,
            Weights weights, Set<Integer> pinned, Consumer<String> stuck) {
        Set<String> draining = new HashSet<>(lost);
        draining.addAll(map.excluded());
        ClusterMap.Entry moving = map.moving();
        for (ClusterMap.Entry e : map.shards()) {
            if (!(movable(map, e) || absorbed(map, e)) || (moving != null && moving.id() != e.id())) {
                continue;
            }
            List<String> placement = e.moving() ? e.movingTo() : e.members();
            for (String m : placement) {
                if (!draining.contains(m)) {
                    continue;
                }
                String replacement = lightest(map, members, draining, e.replicas(), weights);
                if (replacement == null) {
                    stuck.accept("no member can take the replica of shard " + e.id() + " on " + m
                            + (lost.contains(m) ? " (lost)" : " (excluded)") + ": every other one keeps it or is excluded");
                    continue;
                }
                List<String> target = new ArrayList<>(placement);
                target.set(target.indexOf(m), replacement);
                return Optional.of(new Move(e.id(), target, lost.contains(m) ? "member " + m + " lost" : "exclude " + m));
            }
        }
        if (moving != null || !rebalance || map.splitting() != null || map.merging() != null) {
            return Optional.empty();
        }
        Map<String, Double> scores = scores(map, members, draining, weights);
        List<String> heaviestFirst = byScore(scores, true);
        for (String heavy : heaviestFirst) {
            for (String light : byScore(scores, false)) {
                double gap = scores.get(heavy) - scores.get(light);
                if (gap < 1) {
                    break;
                }
                ClusterMap.Entry best = null;
                double bestGain = 0;
                for (ClusterMap.Entry e : map.shards()) {
                    if (!movable(map, e) || pinned.contains(e.id()) || !e.members().contains(heavy)
                            || e.members().contains(light)) {
                        continue;
                    }
                    // On a tie the lighter shard moves: as much evened out, less data copied.
                    double gain = gain(gap, weights.replica(e.id()));
                    if (gain > bestGain + 1e-9 || (best != null && gain > 0 && Math.abs(gain - bestGain) <= 1e-9
                            && weights.replica(e.id()) < weights.replica(best.id()))) {
                        best = e;
                        bestGain = gain;
                    }
                }
                if (best != null) {
                    List<String> target = new ArrayList<>(best.members());
                    target.set(target.indexOf(heavy), light);
                    return Optional.of(new Move(best.id(), target, "rebalance: " + heavy + " keeps "
                            + describe(map, heavy, weights, false, null, true) + ", " + light + " "
                            + describe(map, light, weights, false, null, false)));
                }
            }
        }
        return Optional.empty();
    }

    /** The moves by counts alone: every shard weighs one, none is held in place. */
    static Optional<Move> next(ClusterMap map, List<String> members, Set<String> lost, boolean rebalance,
            Consumer<String> stuck) {
        return next(map, members, lost, rebalance, Weights.COUNTS, Set.of(), stuck);
    }

    /**
     * How much a move of weight {@code w} from one member to another {@code gap} lighter evens
     * them out: the fall of the sum of their squared weights, halved ({@code w × (gap − w)}); 0
     * unless it narrows the gap by at least one unit. Every move made so lowers the sum of all
     * members' squared weights, so with unchanged sizes and loads the moves come to an end.
     */
    private static double gain(double gap, double w) {
        if (gap - Math.abs(gap - 2 * w) < 1 - 1e-9) {
            return 0;
        }
        return w * (gap - w);
    }

    /** Hand the leadership of shard {@code shard} from member {@code from} to member {@code to}, because of {@code reason}. */
    record LeaderMove(int shard, String from, String to, String reason) {
    }

    /**
     * The next leadership hand-over that evens out the shard leaders per member, if any. A
     * member weighs what the shards it leads weigh as leaders ({@link Weights#leader}: one each,
     * more for a busy one). From the heaviest member first, the hand-over of one of its shards
     * to another usable member that keeps a replica of it, the one that evens the two out best,
     * made only when it narrows their gap by at least one unit (then to the lighter member, then
     * the smaller id). Members that are lost or excluded never receive a leadership; a shard in
     * {@code pinned} (handed over a moment ago) keeps its leader.
     *
     * @param leaders the leader of each shard whose leader is known, by shard id
     */
    static Optional<LeaderMove> nextLeader(ClusterMap map, List<String> members, Set<String> draining,
            Map<Integer, String> leaders, Weights weights, Set<Integer> pinned) {
        Map<String, Double> scores = new TreeMap<>();
        for (String m : members) {
            if (!draining.contains(m)) {
                scores.put(m, 0.0);
            }
        }
        leaders.forEach((shard, leader) -> scores.computeIfPresent(leader, (k, w) -> w + weights.leader(shard)));
        for (String heavy : byScore(scores, true)) {
            LeaderMove best = null;
            double bestGain = 0;
            for (ClusterMap.Entry e : map.shards()) {
                if (!heavy.equals(leaders.get(e.id())) || e.moving() || !movable(map, e) || pinned.contains(e.id())) {
                    continue;
                }
                for (String m : e.members()) {
                    Double light = scores.get(m);
                    if (light == null || m.equals(heavy)) {
                        continue;
                    }
                    double gain = gain(scores.get(heavy) - light, weights.leader(e.id()));
                    if (gain > bestGain + 1e-9 || (best != null && Math.abs(gain - bestGain) <= 1e-9 && gain > 0
                            && (light < scores.get(best.to()) || (light.equals(scores.get(best.to()))
                                    && m.compareTo(best.to()) < 0)))) {
                        best = new LeaderMove(e.id(), heavy, m, "rebalance leaders: " + heavy + " leads "
                                + describe(map, heavy, weights, true, leaders, true) + ", " + m + " "
                                + describe(map, m, weights, true, leaders, false));
                        bestGain = gain;
                    }
                }
            }
            if (best != null) {
                return Optional.of(best);
            }
        }
        return Optional.empty();
    }

    /** {@link #nextLeader} by counts alone: every shard weighs one, none is held. */
    static Optional<LeaderMove> nextLeader(ClusterMap map, List<String> members, Set<String> draining,
            Map<Integer, String> leaders) {
        return nextLeader(map, members, draining, leaders, Weights.COUNTS, Set.of());
    }

    /** A shard's size and load as its leader last measured them; a load below 0 is not known yet. */
    record Stats(long bytes, double keysPerSecond) {
    }

    /**
     * What the rebalancer weighs, in units of a small idle shard. As a replica a shard weighs the
     * larger of one and its bytes in {@code bytesUnit}s: a cluster of small shards is evened out
     * by counts, one of large shards by size. As a leader a shard weighs the larger of one and
     * its load in {@code loadUnit}s: load is evened out by handing leaderships over, which moves
     * no data (and a shard too busy for one member splits by load). A shard whose figures are
     * unknown weighs one.
     */
    record Weights(Map<Integer, Stats> stats, long bytesUnit, double loadUnit) {
        /** Every shard weighs one: replicas and leaders are evened out by counts. */
        static final Weights COUNTS = new Weights(Map.of(), 1, 1);

        Weights {
            stats = Map.copyOf(stats);
            if (bytesUnit <= 0 || !(loadUnit > 0)) {
                throw new IllegalArgumentException("weight units must be positive: " + bytesUnit + ", " + loadUnit);
            }
        }

        double replica(int shard) {
            Stats s = stats.get(shard);
            return s == null ? 1 : Math.max(1, (double) s.bytes() / bytesUnit);
        }

        double leader(int shard) {
            Stats s = stats.get(shard);
            return s == null ? 1 : Math.max(1, s.keysPerSecond() / loadUnit);
        }
    }

    /** Members by weight, the heaviest (or the lightest) first, then by id. */
    private static List<String> byScore(Map<String, Double> scores, boolean heaviestFirst) {
        List<String> out = new ArrayList<>(scores.keySet());
        out.sort((x, y) -> {
            int c = Double.compare(scores.get(x), scores.get(y));
            return c != 0 ? (heaviestFirst ? -c : c) : x.compareTo(y);
        });
        return out;
    }

    /**
     * What member {@code m} keeps (or leads, with {@code leaders}), for a move's reason: "3
     * replicas" ("3" without {@code noun}), with the bytes and load of those shards when they
     * are known.
     */
    private static String describe(ClusterMap map, String m, Weights weights, boolean asLeader,
            Map<Integer, String> leaders, boolean noun) {
        int count = 0;
        long bytes = 0;
        double load = 0;
        for (ClusterMap.Entry e : map.shards()) {
            boolean counts = asLeader ? m.equals(leaders.get(e.id())) : (e.moving() ? e.movingTo() : e.members()).contains(m);
            if (!counts) {
                continue;
            }
            count++;
            Stats s = weights.stats().get(e.id());
            if (s != null) {
                bytes += Math.max(0, s.bytes());
                load += Math.max(0, s.keysPerSecond());
            }
        }
        String text = !noun ? Integer.toString(count) : asLeader ? count + (count == 1 ? " shard" : " shards")
                : count + (count == 1 ? " replica" : " replicas");
        if (weights.stats().isEmpty()) {
            return text;
        }
        String loadText = String.format(java.util.Locale.ROOT, "%,.0f keys/s", load);
        return text + " (" + (asLeader ? loadText : ShardedNode.bytesText(bytes) + ", " + loadText) + ")";
    }

    /**
     * The absorbing side of a merge whose keys it has taken: its replicas may leave lost and
     * excluded members (the merge waits for every replica of it, so a member lost for good
     * would hold the merge forever), though the rebalancer leaves it alone.
     */
    private static boolean absorbed(ClusterMap map, ClusterMap.Entry e) {
        ClusterMap.Entry m = map.merging();
        return m != null && m.mergingInto() == e.id() && m.mergeAbsorbed() && !e.splitting()
                && map.shards().stream().noneMatch(x -> x.splittingFrom() == e.id());
    }

    /** A shard that may move: not being made by a split, not being split, and not merging (either side). */
    private static boolean movable(ClusterMap map, ClusterMap.Entry e) {
        return !e.splitting() && !e.merging()
                && map.shards().stream().noneMatch(x -> x.splittingFrom() == e.id() || x.mergingInto() == e.id());
    }

    /** What each usable member (not draining) keeps, weighed, in id order; a shard counts where it is going. */
    private static Map<String, Double> scores(ClusterMap map, List<String> members, Set<String> draining,
            Weights weights) {
        Map<String, Double> scores = new TreeMap<>();
        for (String m : members) {
            if (!draining.contains(m)) {
                scores.put(m, 0.0);
            }
        }
        for (ClusterMap.Entry e : map.shards()) {
            for (String m : e.moving() ? e.movingTo() : e.members()) {
                scores.computeIfPresent(m, (k, w) -> w + weights.replica(e.id()));
            }
        }
        return scores;
    }

    /** The lightest usable member (then the smallest id) among those not in {@code keeping}; null if none. */
    private static String lightest(ClusterMap map, List<String> members, Set<String> draining, List<String> keeping,
            Weights weights) {
        Map<String, Double> scores = scores(map, members, draining, weights);
        for (String m : byScore(scores, false)) {
            if (!keeping.contains(m)) {
                return m;
            }
        }
        return null;
    }
}
