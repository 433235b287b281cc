package dev.txkv.cli.shell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.proto.Status;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link ExcludePlan}: which shards move off a member, and where to. */
class ExcludePlanTest {
    private static ExcludePlan.Shard shard(int id, String... members) {
        return new ExcludePlan.Shard(id, List.of(members), List.of());
    }

    private static ExcludePlan.Shard moving(int id, List<String> members, List<String> to) {
        return new ExcludePlan.Shard(id, members, to);
    }

    private static List<String> described(ExcludePlan plan) {
        return plan.moves().stream().map(ExcludePlan.Move::toString).toList();
    }

    @Test
    void eachShardOnTheMemberGetsTheLeastLoadedMemberThatKeepsNoneOfIt() {
        // Replicas before: a 2, b 2, c 4, d 2.
        ExcludePlan plan = ExcludePlan.of("c", List.of("a", "b", "c", "d"), List.of(
                shard(0, "a", "b", "c"), shard(1, "b", "c", "d"), shard(2, "a", "c"), shard(3, "c", "d"),
                shard(4, "a", "b")));
        assertThat(plan.member()).isEqualTo("c");
        assertThat(described(plan)).containsExactly(
                // a, b keep it; d is the only one left.
                "shard 0: a,b,c -> a,b,d",
                // a has 2, as b and d had before, but d has 3 now: the planned move counts.
                "shard 1: b,c,d -> b,d,a",
                // b 2, d 3.
                "shard 2: a,c -> a,b",
                // a 3, b 3: the smaller id.
                "shard 3: c,d -> d,a");
        assertThat(plan.moves()).extracting(ExcludePlan.Move::replacement).containsExactly("d", "a", "b", "a");
        assertThat(plan.moves().get(1).to()).containsExactly("b", "d", "a");
        assertThat(plan.moves().get(1).from()).containsExactly("b", "c", "d");
    }

    @Test
    void tiesGoToTheSmallerIdWhateverTheMembershipOrder() {
        ExcludePlan plan = ExcludePlan.of("n3", List.of("n3", "n2", "n1"), List.of(shard(7, "n3")));
        assertThat(described(plan)).containsExactly("shard 7: n3 -> n1");
        plan = ExcludePlan.of("n3", List.of("n3", "n2", "n1"), List.of(shard(7, "n3"), shard(8, "n1")));
        assertThat(described(plan)).containsExactly("shard 7: n3 -> n2");
    }

    @Test
    void membersThatKeepNoReplicaYetAreChosenFirst() {
        ExcludePlan plan = ExcludePlan.of("a", List.of("a", "b", "c", "d", "e"), List.of(
                shard(0, "a", "b", "c"), shard(1, "a", "b", "c"), shard(2, "a", "b", "c")));
        assertThat(described(plan)).containsExactly(
                "shard 0: a,b,c -> b,c,d",
                "shard 1: a,b,c -> b,c,e",
                "shard 2: a,b,c -> b,c,d");
    }

    @Test
    void aShardOnEveryMemberStopsThePlanWithTheMoveThatShrinksIt() {
        assertThatThrownBy(() -> ExcludePlan.of("a", List.of("a", "b", "c"),
                List.of(shard(0, "a", "b"), shard(1, "c", "a", "b"))))
                .isInstanceOf(ShellUsageException.class)
                .hasMessageContaining("Shard 1 has a replica on every member (c,a,b)")
                .hasMessageContaining("txkv move 1 c,b")
                .hasMessageContaining("nothing was moved");
        assertThatThrownBy(() -> ExcludePlan.of("a", List.of("a"), List.of(shard(0, "a"))))
                .isInstanceOf(ShellUsageException.class)
                .hasMessageContaining("Shard 0")
                .hasMessageContaining("the cluster has no other member");
    }

    @Test
    void anUnknownMemberIsAnError() {
        assertThatThrownBy(() -> ExcludePlan.of("x", List.of("a", "b", "c"), List.of(shard(0, "a", "b"))))
                .isInstanceOf(ShellUsageException.class)
                .hasMessage("No member 'x' in the cluster (members: a, b, c)");
    }

    @Test
    void aMemberWithoutReplicasHasNothingToMove() {
        ExcludePlan plan = ExcludePlan.of("d", List.of("a", "b", "c", "d"),
                List.of(shard(0, "a", "b", "c"), shard(1, "c", "a")));
        assertThat(plan.moves()).isEmpty();
    }

    @Test
    void shardsAlreadyMovingCountWhereTheyGo() {
        ExcludePlan plan = ExcludePlan.of("c", List.of("a", "b", "c", "d"), List.of(
                // Moving onto c: moves to its target with c replaced instead.
                moving(0, List.of("a", "b"), List.of("a", "c")),
                // Moving off c: the same target, to wait for that move.
                moving(1, List.of("c", "d"), List.of("d", "b")),
                // Moving elsewhere, not on c: left alone.
                moving(2, List.of("a", "b"), List.of("b", "d"))));
        assertThat(described(plan)).containsExactly(
                // Counted at their targets: a 1, b 2, c 1, d 2; a is in the target, b and d have 2: b.
                "shard 0: a,b -> a,b (instead of a,c)",
                "shard 1: c,d -> d,b (moving there already)");
        assertThat(plan.moves().get(1).replacement()).isEmpty();
    }

    @Test
    void theStatusGivesMembersShardsAndMovesUnderWay() {
        Status status = Status.newBuilder()
                .addProcesses(Status.Process.newBuilder().setId("gone").setRole("removed"))
                .addProcesses(Status.Process.newBuilder().setId("a").setRole("leader"))
                .addProcesses(Status.Process.newBuilder().setId("b").setRole("follower"))
                .addProcesses(Status.Process.newBuilder().setId("c").setRole("unreachable"))
                .setCluster(Status.Cluster.newBuilder()
                        .addShards(Status.Shard.newBuilder().setId(0).addReplicas("a").addReplicas("b")
                                .setTwoPhase("epoch 2, chain head 17, 0 undecided"))
                        .addShards(Status.Shard.newBuilder().setId(3).addReplicas("b").addMovingTo("a").addMovingTo("c")
                                .setMoveReason("asked by an operator")
                                .setTwoPhase("moving to a,c (asked by an operator), epoch 2")))
                .build();
        assertThat(ExcludePlan.members(status)).containsExactly("a", "b", "c");
        assertThat(ExcludePlan.shards(status)).containsExactly(
                new ExcludePlan.Shard(0, List.of("a", "b"), List.of()),
                new ExcludePlan.Shard(3, List.of("b"), List.of("a", "c")));
        assertThat(ExcludePlan.shardsOn("c", status)).containsExactly(3);
        assertThat(ExcludePlan.shardsOn("b", status)).containsExactly(0, 3);
        assertThat(ExcludePlan.shardsOn("gone", status)).isEmpty();
        assertThat(described(ExcludePlan.of("b", status)))
                .containsExactly("shard 0: a,b -> a,c", "shard 3: b -> a,c (moving there already)");
    }
}
