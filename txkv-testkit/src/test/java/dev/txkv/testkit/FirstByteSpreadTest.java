package dev.txkv.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.Range;
import dev.txkv.spi.ShardMap;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FirstByteSpreadTest {
    private static final byte[] PREFIX = "p/".getBytes(StandardCharsets.US_ASCII);

    @Test
    void everyRunOf255KeysTakesEveryFirstByteButTheSystemOnesOnce() {
        for (long start : new long[] {0, 1, 254, 255, 1000, 123_456_789}) {
            Set<Integer> seen = new HashSet<>();
            for (long i = start; i < start + FirstByteSpread.BYTES; i++) {
                int b = FirstByteSpread.firstByte(i);
                assertThat(b).isBetween(0, 0xFE);
                seen.add(b);
            }
            assertThat(seen).hasSize(FirstByteSpread.BYTES);
        }
    }

    @Test
    void theFirstEightKeysFallEvenlyOnTwoFourAndEightEvenShards() {
        for (int shards : new int[] {2, 4, 8}) {
            assertThat(Set.copyOf(perShard(ShardMap.evenSplit(shards), 0).values())).as("%d shards", shards)
                    .containsExactly(8 / shards);
        }
    }

    @Test
    void anyEightConsecutiveKeysReachEveryShardOfTwoOrFour() {
        for (int shards : new int[] {2, 4}) {
            ShardMap map = ShardMap.evenSplit(shards);
            for (long start = 0; start < 600; start++) {
                assertThat(perShard(map, start)).as("%d shards, keys %d to %d", shards, start, start + 7)
                        .hasSize(shards);
            }
        }
    }

    private static Map<Integer, Integer> perShard(ShardMap map, long start) {
        Map<Integer, Integer> perShard = new HashMap<>();
        for (long i = start; i < start + 8; i++) {
            byte[] key = FirstByteSpread.key(true, i, PREFIX, new byte[] {'x'});
            perShard.merge(map.shardOf(key).id(), 1, Integer::sum);
        }
        return perShard;
    }

    @Test
    void theDefaultLayoutIsThePrefixAndTheRest() {
        assertThat(FirstByteSpread.key(false, 17, PREFIX, "17".getBytes(StandardCharsets.US_ASCII)))
                .isEqualTo("p/17".getBytes(StandardCharsets.US_ASCII));
        assertThat(ListAppendWorkload.key(PREFIX, 17)).isEqualTo("p/17".getBytes(StandardCharsets.US_ASCII));
        assertThat(ListAppendWorkload.key(PREFIX, 17, false)).isEqualTo("p/17".getBytes(StandardCharsets.US_ASCII));
        assertThat(FirstByteSpread.allRanges(false, PREFIX)).containsExactly(Range.startsWith(PREFIX));
        assertThat(FirstByteSpread.rangesOfFirst(false, PREFIX, 8)).containsExactly(Range.startsWith(PREFIX));
    }

    @Test
    void spreadKeysParseBackAndTheirRangesHoldThem() {
        byte[] key = ListAppendWorkload.key(PREFIX, 3, true);
        assertThat(key[0] & 0xFF).isEqualTo(FirstByteSpread.firstByte(3)).isEqualTo(36);
        assertThat(FirstByteSpread.restOffset(true, PREFIX, key)).isEqualTo(1 + PREFIX.length);
        assertThat(FirstByteSpread.restOffset(true, PREFIX, "xq/3".getBytes(StandardCharsets.US_ASCII))).isEqualTo(-1);
        assertThat(FirstByteSpread.restOffset(false, PREFIX, "p/3".getBytes(StandardCharsets.US_ASCII))).isEqualTo(2);
        assertThat(FirstByteSpread.restOffset(true, PREFIX, new byte[] {1})).isEqualTo(-1);
        List<Range> all = FirstByteSpread.allRanges(true, PREFIX);
        assertThat(all).hasSize(FirstByteSpread.BYTES);
        List<Range> firstEight = FirstByteSpread.rangesOfFirst(true, PREFIX, 8);
        assertThat(firstEight).hasSize(8);
        for (long i = 0; i < 300; i++) {
            byte[] k = ListAppendWorkload.key(PREFIX, i, true);
            assertThat(all.stream().filter(r -> contains(r, k))).hasSize(1);
            assertThat(firstEight.stream().anyMatch(r -> contains(r, k))).isEqualTo(i % FirstByteSpread.BYTES < 8);
        }
    }

    private static boolean contains(Range r, byte[] key) {
        return dev.txkv.ByteArrays.compareUnsigned(r.begin, key) <= 0 && dev.txkv.ByteArrays.compareUnsigned(key, r.end) < 0;
    }
}
