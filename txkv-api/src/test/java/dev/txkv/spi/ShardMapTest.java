package dev.txkv.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.ByteArrays;
import dev.txkv.MutationType;
import dev.txkv.Range;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The shard map against a reference that scans every shard. */
class ShardMapTest {
    private static ShardMap mapOf(List<byte[]> splits) {
        TreeSet<byte[]> sorted = new TreeSet<>(ByteArrays::compareUnsigned);
        for (byte[] s : splits) {
            if (s.length > 0) {
                sorted.add(s);
            }
        }
        List<ShardMap.Shard> shards = new ArrayList<>();
        byte[] begin = ByteArrays.EMPTY;
        int id = 10;
        for (byte[] split : sorted) {
            shards.add(new ShardMap.Shard(id++, begin, split));
            begin = split;
        }
        shards.add(new ShardMap.Shard(id, begin, null));
        return new ShardMap(3, shards);
    }

    @Property(tries = 300)
    void shardOfAndShardsOfAgreeWithAScan(@ForAll @Size(max = 6) List<@Size(max = 3) byte[]> splits,
            @ForAll @Size(max = 4) byte[] a, @ForAll @Size(max = 4) byte[] b) {
        ShardMap map = mapOf(splits);
        ShardMap.Shard owner = map.shardOf(a);
        assertThat(map.shards().stream().filter(s -> s.contains(a)).toList()).containsExactly(owner);
        byte[] begin = ByteArrays.compareUnsigned(a, b) <= 0 ? a : b;
        byte[] end = ByteArrays.compareUnsigned(a, b) <= 0 ? b : a;
        List<ShardMap.Shard> expected = map.shards().stream().filter(s -> s.intersects(begin, end)).toList();
        assertThat(map.shardsOf(begin, end)).containsExactlyElementsOf(expected);
        for (ShardMap.Shard s : expected) {
            Range clipped = s.clip(begin, end);
            assertThat(clipped).isNotNull();
            assertThat(s.contains(clipped.begin)).isTrue();
            assertThat(ByteArrays.compareUnsigned(clipped.begin, begin)).isGreaterThanOrEqualTo(0);
            assertThat(ByteArrays.compareUnsigned(clipped.end, end)).isLessThanOrEqualTo(0);
        }
    }

    @Test
    void evenSplitCoversTheKeyspaceInOrder() {
        ShardMap four = ShardMap.evenSplit(4);
        assertThat(four.shards()).hasSize(4);
        assertThat(four.shardOf(new byte[] {0x00}).id()).isEqualTo(0);
        assertThat(four.shardOf(new byte[] {0x40}).id()).isEqualTo(1);
        assertThat(four.shardOf(new byte[] {(byte) 0xbf, 1}).id()).isEqualTo(2);
        assertThat(four.shardOf(new byte[] {(byte) 0xff, (byte) 0xff}).id()).isEqualTo(3);
        assertThat(ShardMap.single().shardOf(new byte[] {(byte) 0xff}).id()).isZero();
        assertThatThrownBy(() -> ShardMap.evenSplit(0)).hasMessageContaining("from 1 to 256");
        assertThatThrownBy(() -> ShardMap.evenSplit(257)).hasMessageContaining("from 1 to 256");
    }

    @Test
    void mapsThatLeaveKeysUncoveredAreRefused() {
        byte[] k = {0x40};
        assertThatThrownBy(() -> new ShardMap(1, List.of(new ShardMap.Shard(0, k, null))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ShardMap(1, List.of(new ShardMap.Shard(0, ByteArrays.EMPTY, k))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ShardMap(1, List.of(new ShardMap.Shard(0, ByteArrays.EMPTY, k),
                new ShardMap.Shard(1, new byte[] {0x50}, null)))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void participantsCoverWritesReadsAndEveryShardAVersionstampCanReach() {
        ShardMap map = ShardMap.evenSplit(4);
        Range readAll = new Range(new byte[] {0x10}, new byte[] {0x50});
        CommitRequest reads = new CommitRequest(1, List.of(readAll), List.of(),
                List.of(new Mutation(Mutation.SET, new byte[] {(byte) 0xc0}, new byte[] {1})), null, false);
        assertThat(map.participants(reads)).containsExactly(0, 1, 3);
        // A versionstamp at the key's first byte can land anywhere: every shard takes part.
        byte[] stamped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        Mutation m = new Mutation(MutationType.SET_VERSIONSTAMPED_KEY.code(), stamped, new byte[] {1});
        assertThat(map.participants(new CommitRequest(-1, List.of(), List.of(), List.of(m), null, false)))
                .containsExactly(0, 1, 2, 3);
        // Behind a fixed prefix it lands in the prefix's shard only.
        byte[] prefixed = {0x41, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
        Mutation p = new Mutation(MutationType.SET_VERSIONSTAMPED_KEY.code(), prefixed, new byte[] {1});
        assertThat(map.participants(new CommitRequest(-1, List.of(), List.of(), List.of(p), null, false)))
                .containsExactly(1);
    }
}
