package dev.txkv.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shard map's moves and merges: what they record, what they refuse, and how they interact with splits. */
class ClusterMapTest {
    private static final List<String> MEMBERS = List.of("a", "b", "c", "d");

    /** Two shards, 0 on a,b and 1 on b,c. */
    private static ClusterMap twoShards() {
        return ClusterMap.initial(new ShardLayout(List.of("a", "b", "c"), 2, 2));
    }

    private static void assertRefused(Runnable r, ErrorCode code, String text) {
        assertThatThrownBy(r::run).isInstanceOf(TxkvException.class).hasMessageContaining(text)
                .satisfies(e -> assertThat(((TxkvException) e).getError()).isEqualTo(code));
    }

    @Test
    void aMoveKeepsTheMembersUntilItIsDoneAndAddsTheNewOnesMeanwhile() {
        ClusterMap start = twoShards();
        ClusterMap moving = start.move(0, List.of("b", "d"), "asked by an operator", MEMBERS);
        assertThat(moving.epoch()).isEqualTo(start.epoch() + 1);
        ClusterMap.Entry e = moving.byId(0);
        assertThat(e.members()).containsExactly("a", "b");
        assertThat(e.movingTo()).containsExactly("b", "d");
        assertThat(e.replicas()).containsExactly("a", "b", "d");
        assertThat(e.adding()).containsExactly("d");
        assertThat(moving.moving()).isSameAs(e);
        assertThat(moving.byId(1).moving()).isFalse();
        // The map's keys and routing do not change.
        assertThat(moving.routing().shards()).isEqualTo(start.routing().shards());

        ClusterMap done = moving.moved(0);
        assertThat(done.byId(0).members()).containsExactly("b", "d");
        assertThat(done.byId(0).moving()).isFalse();
        assertThat(done.byId(0).replicas()).containsExactly("b", "d");
        assertThat(done.moving()).isNull();
        // Done twice changes nothing more than the epoch.
        assertThat(done.moved(0).byId(0)).usingRecursiveComparison().isEqualTo(done.byId(0));
    }

    @Test
    void aMovingShardTakesANewTargetAndItsOwnMembersCancelIt() {
        ClusterMap moving = twoShards().move(1, List.of("a"), "first", MEMBERS);
        ClusterMap retargeted = moving.move(1, List.of("d", "b"), "second", MEMBERS);
        assertThat(retargeted.byId(1).movingTo()).containsExactly("d", "b");
        assertThat(retargeted.byId(1).moveReason()).isEqualTo("second");
        ClusterMap cancelled = retargeted.move(1, List.of("c", "b"), "cancel", MEMBERS);
        assertThat(cancelled.byId(1).adding()).isEmpty();
        assertThat(cancelled.moved(1).byId(1).members()).containsExactly("c", "b");
    }

    @Test
    void badMovesAreRefused() {
        ClusterMap m = twoShards();
        assertRefused(() -> m.move(7, List.of("a"), "", MEMBERS), ErrorCode.INVALID_OPTION_VALUE, "No shard 7");
        assertRefused(() -> m.move(0, List.of("a", "x"), "", MEMBERS), ErrorCode.INVALID_OPTION_VALUE, "No member 'x'");
        assertRefused(() -> m.move(0, List.of("a", "a"), "", MEMBERS), ErrorCode.INVALID_OPTION_VALUE, "named twice");
        assertRefused(() -> m.move(0, List.of(), "", MEMBERS), ErrorCode.INVALID_OPTION_VALUE, "1 to 5 replicas");
        assertRefused(() -> m.move(0, List.of("a", "b", "c", "d", "e", "f"), "", List.of("a", "b", "c", "d", "e", "f")),
                ErrorCode.INVALID_OPTION_VALUE, "1 to 5 replicas");
        assertRefused(() -> m.move(0, List.of("b", "a"), "", MEMBERS), ErrorCode.OPERATION_FAILED, "nothing to move");
    }

    @Test
    void splitsAndMovesOfOneShardExcludeEachOther() {
        byte[] key = "\u0040k".getBytes(StandardCharsets.ISO_8859_1);
        ClusterMap splitting = twoShards().split(key, "asked by an operator");
        int child = splitting.nextId() - 1;
        assertRefused(() -> splitting.move(child, List.of("c"), "", MEMBERS), ErrorCode.OPERATION_FAILED,
                "still being made by a split");
        assertRefused(() -> splitting.move(0, List.of("c"), "", MEMBERS), ErrorCode.OPERATION_FAILED, "is being split");
        // The other shard moves meanwhile.
        assertThat(splitting.move(1, List.of("a"), "", MEMBERS).byId(1).moving()).isTrue();

        ClusterMap moving = twoShards().move(0, List.of("c"), "", MEMBERS);
        assertRefused(() -> moving.split(key, "asked by an operator"), ErrorCode.OPERATION_FAILED, "is moving to c");
    }

    /** Three shards on a, b, c; shard 1 made by a split of shard 0 (so 0 and 1 share members). */
    private static ClusterMap splitOnce() {
        ClusterMap start = ClusterMap.initial(new ShardLayout(List.of("a", "b", "c"), 2, 3));
        byte[] key = "\u0020k".getBytes(StandardCharsets.ISO_8859_1);
        ClusterMap split = start.split(key, "asked by an operator");
        return split.born(split.nextId() - 1);
    }

    @Test
    void aMergeRoutesTheRightShardToTheLeftOnceAbsorbedAndThenRemovesIt() {
        ClusterMap start = splitOnce();
        int child = start.nextId() - 1;
        assertThat(start.shards()).extracting(ClusterMap.Entry::id).containsExactly(0, child, 1);
        ClusterMap merging = start.merge(0, "asked by an operator");
        assertThat(merging.epoch()).isEqualTo(start.epoch() + 1);
        assertThat(merging.merging().id()).isEqualTo(child);
        assertThat(merging.merging().mergingInto()).isZero();
        // Asked again: the same map.
        assertThat(merging.merge(0, "again")).isSameAs(merging);
        // Until absorbed, each shard serves its own keys.
        assertThat(merging.routing().shards()).extracting(dev.txkv.spi.ShardMap.Shard::id).containsExactly(0, child, 1);
        ClusterMap absorbed = merging.absorbed(child);
        assertThat(absorbed.routing().shards()).extracting(dev.txkv.spi.ShardMap.Shard::id).containsExactly(0, 1);
        assertThat(absorbed.routing().shards().get(0).end()).isEqualTo(start.byId(child).end());
        ClusterMap merged = absorbed.merged(child);
        assertThat(merged.shards()).extracting(ClusterMap.Entry::id).containsExactly(0, 1);
        assertThat(merged.byId(0).end()).isEqualTo(start.byId(child).end());
        assertThat(merged.merging()).isNull();
        assertThat(merged.holderOf(child)).isZero();
        assertThat(merged.holderOf(0)).isZero();
        assertThat(merged.holderOf(99)).isEqualTo(-1);
        assertThat(merged.wasMerged(child)).isTrue();
        assertThat(merged.merged(child)).isSameAs(merged);
        // A chain of merges: shard 1 into 0 as well.
        ClusterMap twice = merged.merge(0, "").absorbed(1).merged(1);
        assertThat(twice.shards()).extracting(ClusterMap.Entry::id).containsExactly(0);
        assertThat(twice.holderOf(child)).isZero();
        assertThat(twice.holderOf(1)).isZero();
        // The record keeps it all.
        ClusterMap decoded = ClusterMap.decode(absorbed.encode());
        assertThat(decoded.merging().mergeAbsorbed()).isTrue();
        assertThat(decoded.merging().mergeReason()).isEqualTo("asked by an operator");
        assertThat(ClusterMap.decode(twice.encode()).merged()).containsExactly(new ClusterMap.Merged(child, 0),
                new ClusterMap.Merged(1, 0));
    }

    @Test
    void badMergesAreRefused() {
        ClusterMap start = splitOnce();
        int child = start.nextId() - 1;
        assertRefused(() -> start.merge(42, ""), ErrorCode.INVALID_OPTION_VALUE, "No shard 42");
        assertRefused(() -> start.merge(1, ""), ErrorCode.INVALID_OPTION_VALUE, "no right neighbour");
        // Different members.
        ClusterMap apart = twoShards();
        assertRefused(() -> apart.merge(0, ""), ErrorCode.OPERATION_FAILED, "different members");
        // One at a time, and no split or move of either shard meanwhile.
        ClusterMap merging = start.merge(0, "");
        assertRefused(() -> merging.merge(child, ""), ErrorCode.OPERATION_FAILED, "one merge or split at a time");
        assertRefused(() -> merging.split("\u0060k".getBytes(StandardCharsets.ISO_8859_1), ""), ErrorCode.OPERATION_FAILED,
                "one merge or split at a time");
        assertRefused(() -> merging.move(0, List.of("a", "b", "d"), "", MEMBERS), ErrorCode.OPERATION_FAILED, "is merging");
        assertRefused(() -> merging.move(child, List.of("a", "b", "d"), "", MEMBERS), ErrorCode.OPERATION_FAILED,
                "is merging");
        ClusterMap moving = start.move(1, List.of("a", "b", "d"), "", MEMBERS);
        assertRefused(() -> moving.merge(child, ""), ErrorCode.OPERATION_FAILED, "is moving");
        ClusterMap splitting = start.split("\u0060k".getBytes(StandardCharsets.ISO_8859_1), "");
        assertRefused(() -> splitting.merge(0, ""), ErrorCode.OPERATION_FAILED, "still being split");
    }

    @Test
    void aMoveSurvivesTheRecord() {
        ClusterMap moving = twoShards().move(0, List.of("b", "d"), "exclude a", MEMBERS);
        ClusterMap decoded = ClusterMap.decode(moving.encode());
        assertThat(decoded.byId(0).movingTo()).containsExactly("b", "d");
        assertThat(decoded.byId(0).moveReason()).isEqualTo("exclude a");
        assertThat(decoded.byId(1).movingTo()).isEmpty();
        assertThat(ClusterMap.decode(moving.moved(0).encode()).byId(0).moving()).isFalse();
    }

    @Test
    void aJoinedMemberIsRecordedWithItsAddressesOnceAndSurvivesTheRecord() {
        List<String> founders = List.of("a", "b", "c");
        ClusterMap start = twoShards();
        assertThat(start.members(List.of("x"))).as("the initial map names its founders").containsExactly("a", "b", "c");
        ClusterMap.Joined d = new ClusterMap.Joined("d", "10.0.0.4:4502", "10.0.0.4:4500");
        ClusterMap joined = start.join(d, founders);
        assertThat(joined.epoch()).isEqualTo(start.epoch() + 1);
        assertThat(joined.members(founders)).containsExactly("a", "b", "c", "d");
        assertThat(joined.join(d, founders)).as("asked again").isSameAs(joined);
        assertRefused(() -> joined.join(new ClusterMap.Joined("d", "10.0.0.5:4502", "10.0.0.5:4500"), founders),
                ErrorCode.INVALID_OPTION_VALUE, "already joined");
        assertRefused(() -> joined.join(new ClusterMap.Joined("b", "10.0.0.5:4502", "10.0.0.5:4500"), founders),
                ErrorCode.INVALID_OPTION_VALUE, "founding member");
        ClusterMap decoded = ClusterMap.decode(joined.move(0, List.of("c", "d"), "", joined.members(founders)).encode());
        assertThat(decoded.joinedMember("d")).isEqualTo(d);
        assertThat(decoded.founders()).containsExactly("a", "b", "c");
        assertThat(decoded.byId(0).movingTo()).containsExactly("c", "d");
        // A map recorded before members could join names no founders: the layout's are taken.
        ClusterMap old = new ClusterMap(3, start.shards(), start.nextId(), List.of());
        assertThat(old.members(founders)).containsExactly("a", "b", "c");
        assertThat(old.join(d, founders).founders()).containsExactly("a", "b", "c");
    }
}
