package dev.txkv.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The moves the control group's leader makes by itself: off lost and excluded members, then even weights. */
class PlacementTest {
    private static final List<String> FOUR = List.of("a", "b", "c", "d");

    /** Shards 0..n-1 laid out on {@code members} with {@code replicas} each, as a new cluster is. */
    private static ClusterMap layout(List<String> members, int shards, int replicas) {
        return ClusterMap.initial(new ShardLayout(members, shards, replicas));
    }

    private static Optional<Placement.Move> next(ClusterMap map, List<String> members, Set<String> lost, boolean rebalance,
            List<String> stuck) {
        return Placement.next(map, members, lost, rebalance, stuck::add);
    }

    @Test
    void aBalancedClusterMakesNoMove() {
        List<String> stuck = new ArrayList<>();
        assertThat(next(layout(FOUR, 4, 3), FOUR, Set.of(), true, stuck)).isEmpty();
        assertThat(next(layout(List.of("a", "b", "c"), 2, 2), List.of("a", "b", "c"), Set.of(), true, stuck)).isEmpty();
        assertThat(stuck).isEmpty();
    }

    @Test
    void aLostMembersReplicaGoesToTheMemberWithTheFewest() {
        // Shard 0 on a,b,c; shard 1 on b,c,d. Counts: a 1, b 2, c 2, d 1.
        ClusterMap map = layout(FOUR, 2, 3);
        Placement.Move m = next(map, FOUR, Set.of("c"), true, new ArrayList<>()).orElseThrow();
        // Shard 0 first (key order): c's place goes to d (a keeps shard 0 already).
        assertThat(m).isEqualTo(new Placement.Move(0, List.of("a", "b", "d"), "member c lost"));
        // Once it moves, the next move waits for it, except a change of its own target.
        ClusterMap moving = map.move(m.shard(), m.target(), m.reason(), FOUR);
        assertThat(next(moving, FOUR, Set.of("c"), true, new ArrayList<>())).isEmpty();
        // Should the member it moves to be lost too, the move itself is what changes; here no
        // member is left to take that place (a and b keep the shard), which is reported.
        List<String> stuck = new ArrayList<>();
        assertThat(next(moving, FOUR, Set.of("c", "d"), true, stuck)).isEmpty();
        assertThat(stuck).singleElement().asString().contains("shard 0 on d (lost)");
        List<String> five = List.of("a", "b", "c", "d", "e");
        Placement.Move retarget = next(moving, five, Set.of("c", "d"), true, new ArrayList<>()).orElseThrow();
        assertThat(retarget).isEqualTo(new Placement.Move(0, List.of("a", "b", "e"), "member d lost"));
    }

    @Test
    void excludedMembersAreDrainedAndNeverChosen() {
        ClusterMap map = layout(FOUR, 2, 3).exclude("a", true, FOUR);
        Placement.Move m = next(map, FOUR, Set.of(), true, new ArrayList<>()).orElseThrow();
        assertThat(m).isEqualTo(new Placement.Move(0, List.of("d", "b", "c"), "exclude a"));
        // Done: nothing on a, and the rebalancer does not put anything back there.
        ClusterMap drained = map.move(m.shard(), m.target(), m.reason(), FOUR).moved(m.shard());
        assertThat(next(drained, FOUR, Set.of(), true, new ArrayList<>())).isEmpty();
        // Included again: a has 0 replicas, c and d have 2 and b 2: one moves to a.
        ClusterMap included = drained.exclude("a", false, FOUR);
        Placement.Move back = next(included, FOUR, Set.of(), true, new ArrayList<>()).orElseThrow();
        assertThat(back.target()).contains("a");
        assertThat(back.reason()).startsWith("rebalance: b keeps 2 replicas, a 0");
    }

    @Test
    void aReplicaNoMemberCanTakeIsReportedAndLeft() {
        List<String> three = List.of("a", "b", "c");
        List<String> stuck = new ArrayList<>();
        // Every shard on all three: a lost member's replicas have nowhere to go.
        assertThat(next(layout(three, 2, 3), three, Set.of("b"), true, stuck)).isEmpty();
        assertThat(stuck).hasSize(2).allSatisfy(s -> assertThat(s).contains("on b (lost)"));
    }

    @Test
    void countsDifferingByTwoMoveOneReplicaFromTheMostToTheFewest() {
        // Three members, shards of two replicas: a split of shard 0 (on a,b) puts shard 2 on a,b too.
        List<String> three = List.of("a", "b", "c");
        ClusterMap map = layout(three, 2, 2).split("\u0040k".getBytes(StandardCharsets.ISO_8859_1), "test");
        // While the split is being made nothing moves.
        assertThat(next(map, three, Set.of(), true, new ArrayList<>())).isEmpty();
        ClusterMap made = map.born(2);
        // Counts: a 2, b 3, c 1.
        Placement.Move m = next(made, three, Set.of(), true, new ArrayList<>()).orElseThrow();
        assertThat(m).isEqualTo(new Placement.Move(0, List.of("a", "c"), "rebalance: b keeps 3 replicas, c 1"));
        assertThat(next(made, three, Set.of(), false, new ArrayList<>())).as("rebalancing off").isEmpty();
        ClusterMap after = made.move(m.shard(), m.target(), m.reason(), three).moved(m.shard());
        assertThat(next(after, three, Set.of(), true, new ArrayList<>())).isEmpty();
    }
    @Test
    void leadersAreEvenedOutOneHandOverAtATime() {
        // Shards 0..3 of three replicas on a,b,c,d: 0 a,b,c; 1 b,c,d; 2 c,d,a; 3 d,a,b.
        ClusterMap map = layout(FOUR, 4, 3);
        java.util.Map<Integer, String> leaders = new java.util.HashMap<>(java.util.Map.of(0, "a", 1, "b", 2, "c", 3, "d"));
        assertThat(Placement.nextLeader(map, FOUR, Set.of(), leaders)).isEmpty();
        // a leads three (0, 2, 3), b one, c and d none: a hands one to the member with the
        // fewest that keeps a replica of it (shard 0 on a,b,c: c, which leads none).
        leaders = new java.util.HashMap<>(java.util.Map.of(0, "a", 1, "b", 2, "a", 3, "a"));
        Placement.LeaderMove m = Placement.nextLeader(map, FOUR, Set.of(), leaders).orElseThrow();
        assertThat(m).isEqualTo(new Placement.LeaderMove(0, "a", "c", "rebalance leaders: a leads 3 shards, c 0"));
        leaders.put(m.shard(), m.to());
        m = Placement.nextLeader(map, FOUR, Set.of(), leaders).orElseThrow();
        assertThat(m.from()).isEqualTo("a");
        assertThat(m.to()).isEqualTo("d");
        leaders.put(m.shard(), m.to());
        // a 1, b 1, c 1, d 1: even.
        assertThat(Placement.nextLeader(map, FOUR, Set.of(), leaders)).isEmpty();
        // Counts differing by one are left alone.
        assertThat(Placement.nextLeader(map, FOUR, Set.of(), java.util.Map.of(0, "a", 1, "b", 2, "c"))).isEmpty();
    }

    @Test
    void aDrainingMemberReceivesNoLeadershipAndAMovingShardKeepsItsLeader() {
        ClusterMap map = layout(FOUR, 4, 3);
        java.util.Map<Integer, String> leaders = java.util.Map.of(0, "a", 2, "a", 3, "a");
        // c and d lead none, but c is excluded and d lost: only b may take one (shard 0 or 3).
        Placement.LeaderMove m = Placement.nextLeader(map, FOUR, Set.of("c", "d"), leaders).orElseThrow();
        assertThat(m.to()).isEqualTo("b");
        // With shard 0 moving and shard 3's other replicas draining, nothing is left to hand over.
        ClusterMap moving = map.move(0, List.of("a", "b", "d"), "test", FOUR);
        assertThat(Placement.nextLeader(moving, FOUR, Set.of("b", "c", "d"), leaders)).isEmpty();
        assertThat(Placement.nextLeader(moving, FOUR, Set.of("c", "d"), leaders).orElseThrow().shard()).isEqualTo(3);
    }

    private static final long MIB = 1L << 20;

    @Test
    void replicasAreEvenedOutBySizeWhereCountsAreEven() {
        // Shards 0..3 of two replicas: 0 a,b; 1 b,c; 2 c,d; 3 d,a. Two replicas each.
        ClusterMap map = layout(FOUR, 4, 2);
        assertThat(map.byId(0).members()).containsExactly("a", "b");
        assertThat(map.byId(3).members()).containsExactly("d", "a");
        // Shard 0 holds 8 MiB (8 units of 1 MiB); the others are empty (1 unit each):
        // a and b weigh 9, c and d 2.
        Placement.Weights w = new Placement.Weights(java.util.Map.of(0, new Placement.Stats(8 * MIB, 0),
                1, new Placement.Stats(0, 0), 2, new Placement.Stats(0, 0), 3, new Placement.Stats(0, 0)), MIB, 1000);
        assertThat(next(map, FOUR, Set.of(), true, new ArrayList<>())).as("by counts").isEmpty();
        // The big shard cannot go anywhere without making its new member as heavy: the small
        // ones leave a and b instead.
        Placement.Move m = Placement.next(map, FOUR, Set.of(), true, w, Set.of(), x -> { }).orElseThrow();
        assertThat(m).isEqualTo(new Placement.Move(3, List.of("d", "c"),
                "rebalance: a keeps 2 replicas (8.0 MiB, 0 keys/s), c 2 (0 B, 0 keys/s)"));
        map = map.move(m.shard(), m.target(), m.reason(), FOUR).moved(m.shard());
        m = Placement.next(map, FOUR, Set.of(), true, w, Set.of(), x -> { }).orElseThrow();
        assertThat(m).isEqualTo(new Placement.Move(1, List.of("d", "c"),
                "rebalance: b keeps 2 replicas (8.0 MiB, 0 keys/s), d 2 (0 B, 0 keys/s)"));
        map = map.move(m.shard(), m.target(), m.reason(), FOUR).moved(m.shard());
        // a 8, b 8, c 3, d 3: moving the big shard would not narrow any gap; done.
        assertThat(Placement.next(map, FOUR, Set.of(), true, w, Set.of(), x -> { })).isEmpty();
    }

    @Test
    void aPinnedShardStaysAndALostMembersReplicaGoesToTheLightest() {
        ClusterMap map = layout(FOUR, 4, 2);
        Placement.Weights w = new Placement.Weights(java.util.Map.of(0, new Placement.Stats(8 * MIB, 0)), MIB, 1000);
        // Shard 3 held in place (a merge waits for it): b's shard 1 goes instead.
        Placement.Move m = Placement.next(map, FOUR, Set.of(), true, w, Set.of(3), x -> { }).orElseThrow();
        assertThat(m.shard()).isEqualTo(1);
        assertThat(m.target()).containsExactly("d", "c");
        // Pinned or not, a lost member's replicas leave it: b is lost, shard 0's replica there
        // goes to the lightest member that does not keep it (c and d weigh 2, c first).
        m = Placement.next(map, FOUR, Set.of("b"), true, w, Set.of(0, 1, 2, 3), x -> { }).orElseThrow();
        assertThat(m).isEqualTo(new Placement.Move(0, List.of("a", "c"), "member b lost"));
        // Figures of a large shard count: with shard 2 the large one, d is the heavy side.
        Placement.Weights w2 = new Placement.Weights(java.util.Map.of(2, new Placement.Stats(8 * MIB, 0)), MIB, 1000);
        m = Placement.next(map, FOUR, Set.of("b"), true, w2, Set.of(), x -> { }).orElseThrow();
        assertThat(m).isEqualTo(new Placement.Move(0, List.of("a", "c"), "member b lost"));
        m = Placement.next(map, FOUR, Set.of("a"), true, w2, Set.of(), x -> { }).orElseThrow();
        assertThat(m).as("a's replica of shard 0 goes to the lighter of c (9) and d (9): c by id")
                .isEqualTo(new Placement.Move(0, List.of("c", "b"), "member a lost"));
    }

    @Test
    void leadersAreEvenedOutByLoadWhereCountsAreEven() {
        List<String> three = List.of("a", "b", "c");
        ClusterMap map = layout(three, 4, 3);
        java.util.Map<Integer, String> leaders = java.util.Map.of(0, "a", 1, "a", 2, "b", 3, "c");
        assertThat(Placement.nextLeader(map, three, Set.of(), leaders)).as("by counts: 2, 1, 1").isEmpty();
        // Shards 0 and 1 each carry 3 units of load (1,500 keys/s), 2 and 3 one each (idle):
        // a weighs 6, b and c 1. One of a's shards goes to b (the lighter, then by id).
        Placement.Weights w = new Placement.Weights(java.util.Map.of(0, new Placement.Stats(0, 1500),
                1, new Placement.Stats(0, 1500), 2, new Placement.Stats(0, 0), 3, new Placement.Stats(0, 0)), MIB, 500);
        Placement.LeaderMove m = Placement.nextLeader(map, three, Set.of(), leaders, w, Set.of()).orElseThrow();
        assertThat(m).isEqualTo(new Placement.LeaderMove(0, "a", "b",
                "rebalance leaders: a leads 2 shards (3,000 keys/s), b 1 (0 keys/s)"));
        // Held: shard 0 was handed over a moment ago, so shard 1 goes instead.
        assertThat(Placement.nextLeader(map, three, Set.of(), leaders, w, Set.of(0)).orElseThrow().shard()).isEqualTo(1);
        // After it: a 3, b 4, c 1. b's hot shard cannot narrow the gap to c (3 units for a gap of
        // 3), its idle one can (b 4 -> 3, c 1 -> 2).
        java.util.Map<Integer, String> after = new java.util.HashMap<>(leaders);
        after.put(0, "b");
        Placement.LeaderMove n = Placement.nextLeader(map, three, Set.of(), after, w, Set.of()).orElseThrow();
        assertThat(n).isEqualTo(new Placement.LeaderMove(2, "b", "c",
                "rebalance leaders: b leads 2 shards (1,500 keys/s), c 1 (0 keys/s)"));
        after.put(2, "c");
        // a 3, b 3, c 2: even within a unit.
        assertThat(Placement.nextLeader(map, three, Set.of(), after, w, Set.of())).isEmpty();
    }

    @Test
    void weightUnitsMustBePositive() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Placement.Weights(java.util.Map.of(), 0, 1))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Placement.Weights(java.util.Map.of(), 1, Double.NaN))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aMemberLostDuringAMergeLeavesTheAbsorbingShardOnceItHasAbsorbed() {
        List<String> three = List.of("a", "b", "c");
        // Shards 0 and 1 both on a, b, c; d keeps nothing. Shard 0 absorbs shard 1.
        ClusterMap merging = layout(three, 2, 3).merge(0, "test");
        List<String> stuck = new ArrayList<>();
        assertThat(next(merging, FOUR, Set.of("c"), true, stuck)).as("before the absorb nothing moves").isEmpty();
        ClusterMap absorbed = merging.absorbed(1);
        Placement.Move m = next(absorbed, FOUR, Set.of("c"), true, stuck).orElseThrow();
        assertThat(m).isEqualTo(new Placement.Move(0, List.of("a", "b", "d"), "member c lost"));
        assertThat(stuck).isEmpty();
        ClusterMap moving = absorbed.move(m.shard(), m.target(), m.reason(), FOUR);
        assertThat(moving.byId(0).movingTo()).containsExactly("a", "b", "d");
        // The absorbed shard itself never moves, nor does the rebalancer move the absorbing one.
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> absorbed.move(1, List.of("a", "b", "d"), "x", FOUR))
                .hasMessageContaining("is merging");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> merging.move(0, List.of("a", "b", "d"), "x", FOUR))
                .hasMessageContaining("is merging");
        assertThat(next(absorbed, FOUR, Set.of(), true, stuck)).as("no rebalancing during a merge").isEmpty();
    }

    @Test
    void whenTwoMovesEvenOutAlikeTheSmallerShardMoves() {
        // Three members, two shards of two replicas: 0 on a,b (8 units), 1 on b,c (1 unit);
        // shard 0 was just moved off a: 0 on b,c. a weighs 0, b 9, c 9.
        List<String> three = List.of("a", "b", "c");
        ClusterMap map = layout(three, 2, 2);
        map = map.move(0, List.of("c", "b"), "test", three).moved(0);
        assertThat(map.byId(1).members()).containsExactly("b", "c");
        Placement.Weights w = new Placement.Weights(java.util.Map.of(0, new Placement.Stats(8 * MIB, 0),
                1, new Placement.Stats(0, 0)), MIB, 1000);
        // From b to a, moving shard 0 (8) or shard 1 (1) narrows the gap of 9 alike (to 7):
        // the empty one goes, not 8 MiB.
        Placement.Move m = Placement.next(map, three, Set.of(), true, w, Set.of(), x -> { }).orElseThrow();
        assertThat(m.shard()).isEqualTo(1);
        assertThat(m.target()).containsExactly("a", "c");
    }
}
