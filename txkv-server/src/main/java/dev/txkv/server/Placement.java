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
 * under way, one replica from the member that keeps the most to the one that keeps the fewest,
 * once they differ by two or more. One move at a time. Then, likewise, the shard leaders per
 * member ({@link #nextLeader}). Pure: it reads a map and computes.
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
     * @param rebalance whether to even out replica counts
     * @param stuck told of each replica on a lost or excluded member that no member can take
     *     (every other usable member keeps the shard already)
     */
    static Optional<Move> next(ClusterMap map, List<String> members, Set<String> lost, boolean rebalance,
            Consumer<String> stuck) {
        Set<String> draining = new HashSet<>(lost);
        draining.addAll(map.excluded());
        ClusterMap.Entry moving = map.moving();
        for (ClusterMap.Entry e : map.shards()) {
            if (!movable(map, e) || (moving != null && moving.id() != e.id())) {
                continue;
            }
            List<String> placement = e.moving() ? e.movingTo() : e.members();
            for (String m : placement) {
                if (!draining.contains(m)) {
                    continue;
                }
                String replacement = fewest(map, members, draining, e.replicas());
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
        Map<String, Integer> counts = counts(map, members, draining);
        if (counts.size() < 2) {
            return Optional.empty();
        }
        String most = null;
        String fewest = null;
        for (Map.Entry<String, Integer> c : counts.entrySet()) {
            if (most == null || c.getValue() > counts.get(most)) {
                most = c.getKey();
            }
            if (fewest == null || c.getValue() < counts.get(fewest)) {
                fewest = c.getKey();
            }
        }
        if (counts.get(most) - counts.get(fewest) < 2) {
            return Optional.empty();
        }
        for (ClusterMap.Entry e : map.shards()) {
            if (movable(map, e) && e.members().contains(most) && !e.members().contains(fewest)) {
                List<String> target = new ArrayList<>(e.members());
                target.set(target.indexOf(most), fewest);
                return Optional.of(new Move(e.id(), target, "rebalance: " + most + " keeps " + counts.get(most)
                        + " replicas, " + fewest + " " + counts.get(fewest)));
            }
        }
        return Optional.empty();
    }

    /** Hand the leadership of shard {@code shard} from member {@code from} to member {@code to}, because of {@code reason}. */
    record LeaderMove(int shard, String from, String to, String reason) {
    }

    /**
     * The next leadership hand-over that evens out the shard leaders per member, if any: from
     * the member that leads the most shards, a shard of which another usable member keeps a
     * replica and leads at least two fewer, to the one of those that leads the fewest (then the
     * smallest id). Members that are lost or excluded never receive a leadership.
     *
     * @param leaders the leader of each shard whose leader is known, by shard id
     */
    static Optional<LeaderMove> nextLeader(ClusterMap map, List<String> members, Set<String> draining,
            Map<Integer, String> leaders) {
        Map<String, Integer> counts = new TreeMap<>();
        for (String m : members) {
            if (!draining.contains(m)) {
                counts.put(m, 0);
            }
        }
        for (String leader : leaders.values()) {
            counts.computeIfPresent(leader, (k, n) -> n + 1);
        }
        List<String> byMost = new ArrayList<>(counts.keySet());
        byMost.sort((x, y) -> counts.get(y) - counts.get(x));
        for (String most : byMost) {
            int led = counts.get(most);
            LeaderMove best = null;
            for (ClusterMap.Entry e : map.shards()) {
                if (!most.equals(leaders.get(e.id())) || e.moving() || !movable(map, e)) {
                    continue;
                }
                for (String m : e.members()) {
                    Integer n = counts.get(m);
                    if (n != null && n <= led - 2 && (best == null || n < counts.get(best.to())
                            || (n.equals(counts.get(best.to())) && m.compareTo(best.to()) < 0))) {
                        best = new LeaderMove(e.id(), most, m, "rebalance leaders: " + most + " leads " + led
                                + " shards, " + m + " " + n);
                    }
                }
            }
            if (best != null) {
                return Optional.of(best);
            }
        }
        return Optional.empty();
    }

    /** A shard that may move: not being made by a split, not being split, and not merging (either side). */
    private static boolean movable(ClusterMap map, ClusterMap.Entry e) {
        return !e.splitting() && !e.merging()
                && map.shards().stream().noneMatch(x -> x.splittingFrom() == e.id() || x.mergingInto() == e.id());
    }

    /** Replicas per usable member (not draining), in id order; a shard counts where it is going. */
    private static Map<String, Integer> counts(ClusterMap map, List<String> members, Set<String> draining) {
        Map<String, Integer> counts = new TreeMap<>();
        for (String m : members) {
            if (!draining.contains(m)) {
                counts.put(m, 0);
            }
        }
        for (ClusterMap.Entry e : map.shards()) {
            for (String m : e.moving() ? e.movingTo() : e.members()) {
                counts.computeIfPresent(m, (k, n) -> n + 1);
            }
        }
        return counts;
    }

    /** The usable member with the fewest replicas (then the smallest id) among those not in {@code keeping}; null if none. */
    private static String fewest(ClusterMap map, List<String> members, Set<String> draining, List<String> keeping) {
        String best = null;
        int bestCount = Integer.MAX_VALUE;
        for (Map.Entry<String, Integer> c : counts(map, members, draining).entrySet()) {
            if (!keeping.contains(c.getKey()) && c.getValue() < bestCount) {
                best = c.getKey();
                bestCount = c.getValue();
            }
        }
        return best;
    }
}
