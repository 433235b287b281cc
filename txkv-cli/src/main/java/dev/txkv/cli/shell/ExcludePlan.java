package dev.txkv.cli.shell;

import dev.txkv.proto.Status;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The moves that {@code txkv exclude MEMBER} makes to drain MEMBER, as fdbcli's exclude does:
 * for every shard with a replica on MEMBER, in the order given (the status's key order), a
 * replacement member takes MEMBER's place. The replacement is a member other than MEMBER that
 * keeps no replica of the shard, with the fewest replicas over all shards, the moves planned
 * before included; of several with as few, the smallest id. The other members keep their order
 * and the replacement comes last.
 *
 * <p>A shard already moving counts where it is going: when its target includes MEMBER, the plan
 * moves it to that target with MEMBER replaced; when its target leaves MEMBER out already, the
 * plan asks for that same target, which only waits for the move under way. Pure: it reads a
 * status and computes, so that it can be tested without a server.
 */
final class ExcludePlan {
    /**
     * A shard as the plan sees it.
     *
     * @param members the members that keep a replica, in order
     * @param movingTo the members it moves to; empty when no move is under way
     */
    record Shard(int id, List<String> members, List<String> movingTo) {
        Shard {
            members = List.copyOf(members);
            movingTo = List.copyOf(movingTo);
        }

        /** Where the shard's replicas are once any move under way is done. */
        List<String> placement() {
            return movingTo.isEmpty() ? members : movingTo;
        }
    }

    /**
     * One move of the plan: shard {@code shard} from {@code from} to {@code to}.
     *
     * @param from the members that keep the shard's replicas now
     * @param movingTo the target of a move under way, which this one replaces; empty when none
     * @param replacement the member that takes the excluded one's place; empty when the shard
     *     is already moving off it and the move only waits for that
     */
    record Move(int shard, List<String> from, List<String> movingTo, List<String> to, String replacement) {
        Move {
            from = List.copyOf(from);
            movingTo = List.copyOf(movingTo);
            to = List.copyOf(to);
            Objects.requireNonNull(replacement, "replacement");
        }

        /** E.g. {@code shard 2: a,b -> b,c}, with a note when a move of the shard is under way. */
        @Override
        public String toString() {
            String note = movingTo.isEmpty() ? ""
                    : replacement.isEmpty() ? " (moving there already)"
                    : " (instead of " + String.join(",", movingTo) + ")";
            return "shard " + shard + ": " + String.join(",", from) + " -> " + String.join(",", to) + note;
        }
    }

    private final String member;
    private final List<Move> moves;

    private ExcludePlan(String member, List<Move> moves) {
        this.member = member;
        this.moves = List.copyOf(moves);
    }

    /** The member drained. */
    String member() {
        return member;
    }

    /** The moves, in the order to make them; empty when no shard is on the member. */
    List<Move> moves() {
        return moves;
    }

    /**
     * The plan to drain {@code member} of the cluster whose members are {@code clusterMembers}
     * and whose shards are {@code shards}.
     *
     * @throws ShellUsageException for a member the cluster does not have, or a shard that no
     *     other member can take (every other member keeps it already)
     */
    static ExcludePlan of(String member, List<String> clusterMembers, List<Shard> shards) {
        Set<String> known = new LinkedHashSet<>(clusterMembers);
        for (Shard s : shards) {
            known.addAll(s.members());
            known.addAll(s.movingTo());
        }
        if (!known.contains(member)) {
            throw new ShellUsageException("No member '" + member + "' in the cluster (members: "
                    + String.join(", ", known) + ")");
        }
        Map<String, Integer> replicas = new HashMap<>();
        for (String m : known) {
            replicas.put(m, 0);
        }
        for (Shard s : shards) {
            for (String m : s.placement()) {
                replicas.merge(m, 1, Integer::sum);
            }
        }
        List<Move> moves = new ArrayList<>();
        for (Shard s : shards) {
            List<String> placement = s.placement();
            if (!placement.contains(member)) {
                if (s.members().contains(member)) {
                    // Already moving off the member: asking for the same target waits for that move.
                    moves.add(new Move(s.id(), s.members(), s.movingTo(), placement, ""));
                }
                continue;
            }
            String replacement = null;
            for (String m : known) {
                if (m.equals(member) || placement.contains(m)) {
                    continue;
                }
                if (replacement == null || replicas.get(m) < replicas.get(replacement)
                        || (replicas.get(m).equals(replicas.get(replacement)) && m.compareTo(replacement) < 0)) {
                    replacement = m;
                }
            }
            List<String> others = new ArrayList<>(placement);
            others.remove(member);
            if (replacement == null) {
                throw new ShellUsageException("Shard " + s.id() + " has a replica on every member ("
                        + String.join(",", placement) + "): no other member can take the one on " + member
                        + (others.isEmpty() ? "; the cluster has no other member"
                                : ". Shrink the shard first with txkv move " + s.id() + " " + String.join(",", others)
                                        + ", then exclude " + member + " again")
                        + "; nothing was moved");
            }
            List<String> to = new ArrayList<>(others);
            to.add(replacement);
            replicas.merge(replacement, 1, Integer::sum);
            replicas.merge(member, -1, Integer::sum);
            moves.add(new Move(s.id(), s.members(), s.movingTo(), to, replacement));
        }
        return new ExcludePlan(member, moves);
    }

    /** The plan to drain {@code member}, from the cluster's status (its members and shards). */
    static ExcludePlan of(String member, Status status) {
        return of(member, members(status), shards(status));
    }

    /**
     * The cluster's members as the status lists its processes, in membership order (a process
     * that reports itself removed from the membership left out).
     */
    static List<String> members(Status status) {
        List<String> out = new ArrayList<>();
        for (Status.Process p : status.getProcessesList()) {
            if (!p.getRole().equals("removed")) {
                out.add(p.getId());
            }
        }
        return out;
    }

    /** The shards of the status, in key order, with the target of a move under way. */
    static List<Shard> shards(Status status) {
        List<Shard> out = new ArrayList<>();
        for (Status.Shard s : status.getCluster().getShardsList()) {
            out.add(new Shard(s.getId(), s.getReplicasList(), s.getMovingToList()));
        }
        return out;
    }

    /**
     * The ids of the shards of {@code status} that keep a replica on {@code member} or are moving
     * to it, in key order.
     */
    static List<Integer> shardsOn(String member, Status status) {
        List<Integer> out = new ArrayList<>();
        for (Shard s : shards(status)) {
            if (s.members().contains(member) || s.movingTo().contains(member)) {
                out.add(s.id());
            }
        }
        return out;
    }
}
