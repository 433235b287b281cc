package dev.txkv.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.ByteArrays;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.rocksdb.WriteBatch;

/**
 * The split point of a shard by size ({@link Storage#middleKey}) against a model: a sorted map
 * of the same keys, where the best split is found by trying every key.
 */
class SplitPointTest {

    @Property(tries = 60)
    void theSplitPointIsTheKeyThatBestHalvesTheBytes(
            @ForAll @Size(max = 40) Map<@Size(min = 1, max = 3) byte[], @IntRange(min = 0, max = 400) Integer> keys,
            @ForAll @Size(max = 2) byte[] begin, @ForAll @Size(max = 2) byte[] endOrEmpty) throws Exception {
        byte[] end = endOrEmpty.length == 0 ? null : endOrEmpty;
        Path dir = Files.createTempDirectory("txkv-split-point");
        try (Storage storage = new Storage(dir, false)) {
            TreeMap<byte[], Integer> model = new TreeMap<>(ByteArrays::compareUnsigned);
            try (WriteBatch batch = new WriteBatch()) {
                for (Map.Entry<byte[], Integer> e : keys.entrySet()) {
                    batch.put(storage.data, e.getKey(), new byte[e.getValue()]);
                    model.put(e.getKey(), e.getValue());
                }
                storage.write(batch);
            }
            Optional<byte[]> got = storage.middleKey(begin, end);

            // The model: the user keys (below 0xFF) of [begin, end); every key after the first is a candidate.
            TreeMap<byte[], Integer> range = new TreeMap<>(ByteArrays::compareUnsigned);
            for (Map.Entry<byte[], Integer> e : model.entrySet()) {
                byte[] k = e.getKey();
                boolean inside = ByteArrays.compareUnsigned(k, begin) >= 0 && (end == null || ByteArrays.compareUnsigned(k, end) < 0)
                        && Byte.toUnsignedInt(k[0]) != 0xFF;
                if (inside) {
                    range.put(k, k.length + e.getValue());
                }
            }
            long total = range.values().stream().mapToLong(Integer::longValue).sum();
            if (range.size() < 2) {
                assertThat(got).isEmpty();
                return;
            }
            assertThat(got).isPresent();
            long best = Long.MAX_VALUE;
            long before = 0;
            long gotImbalance = -1;
            boolean first = true;
            for (Map.Entry<byte[], Integer> e : range.entrySet()) {
                if (!first) {
                    long imbalance = Math.abs(2 * before - total);
                    best = Math.min(best, imbalance);
                    if (ByteArrays.compareUnsigned(e.getKey(), got.get()) == 0) {
                        gotImbalance = imbalance;
                    }
                }
                first = false;
                before += e.getValue();
            }
            assertThat(range).containsKey(got.get());
            assertThat(ByteArrays.compareUnsigned(got.get(), range.firstKey())).isPositive();
            assertThat(gotImbalance).as("the split point's imbalance against the best").isEqualTo(best);
        } finally {
            deleteTree(dir);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
