package dev.txkv.directory;

import static dev.txkv.layers.testing.EmbeddedDatabase.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.testkit.Seeds;
import dev.txkv.ByteArrays;
import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.Transaction;
import dev.txkv.TxkvException;
import dev.txkv.KeyValue;
import dev.txkv.layers.testing.EmbeddedDatabase;
import dev.txkv.layers.testing.Hex;
import dev.txkv.subspace.Subspace;
import dev.txkv.tuple.Tuple;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many clients creating and moving directories at once: afterwards every directory must be
 * reachable exactly once, and no two prefixes may be equal or one inside the other. This is
 * what the high-contention allocator and the conflict checks on the tree must guarantee.
 */
class DirectoryConcurrencyTest {
    private static final int THREADS = 8;
    private static final int OPERATIONS_PER_THREAD = 20;

    @TempDir
    Path dir;

    @Test
    void concurrentCreatesAndMovesNeverShareOrNestPrefixes() throws Exception {
        long seed = Seeds.seed();
        DirectoryLayer directory = new DirectoryLayer();
        try (Database db = EmbeddedDatabase.open(dir)) {
            await(directory.createOrOpen(db, List.of("shared")));
            for (int t = 0; t < THREADS; t++) {
                await(directory.createOrOpen(db, List.of("home" + t)));
            }
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            List<Future<Integer>> created = new ArrayList<>();
            try {
                for (int t = 0; t < THREADS; t++) {
                    int thread = t;
                    created.add(pool.submit(() -> client(db, directory, thread, new Random(seed + thread))));
                }
                int total = 0;
                for (Future<Integer> f : created) {
                    total += f.get(5, TimeUnit.MINUTES);
                }
                Map<List<String>, byte[]> tree = walk(db, directory);
                // "shared", the homes, and every directory the clients created.
                assertThat(tree).as("seed %d", seed).hasSize(1 + THREADS + total);
                assertPrefixesDisjoint(tree.values(), seed);
                assertEveryNodeIsReachable(db, tree.values(), seed);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** Creates directories and moves them around; returns how many it created. */
    private static int client(Database db, DirectoryLayer directory, int thread, Random random) {
        List<List<String>> mine = new ArrayList<>();
        int created = 0;
        for (int i = 0; i < OPERATIONS_PER_THREAD; i++) {
            String name = "d" + thread + "-" + i;
            if (mine.isEmpty() || random.nextInt(3) > 0) {
                List<String> path = random.nextBoolean() ? List.of("shared", name) : List.of("home" + thread, name);
                DirectorySubspace d = await(directory.create(db, path));
                assertThat(d.getPath()).isEqualTo(path);
                mine.add(path);
                created++;
            } else {
                int which = random.nextInt(mine.size());
                List<String> from = mine.get(which);
                List<String> to = random.nextBoolean() ? List.of("shared", name) : List.of("home" + random.nextInt(THREADS), name);
                DirectorySubspace moved = await(directory.move(db, from, to));
                assertThat(moved.getPath()).isEqualTo(to);
                mine.set(which, to);
            }
        }
        return created;
    }

    /** Every directory reachable from the root, with its prefix. */
    private static Map<List<String>, byte[]> walk(Database db, DirectoryLayer directory) {
        Map<List<String>, byte[]> tree = new TreeMap<>((a, b) -> String.join("/", a).compareTo(String.join("/", b)));
        List<List<String>> pending = new ArrayList<>(List.of(List.of()));
        while (!pending.isEmpty()) {
            List<String> path = pending.remove(pending.size() - 1);
            for (String name : await(directory.list(db, path))) {
                List<String> child = new ArrayList<>(path);
                child.add(name);
                assertThat(tree.put(child, await(directory.open(db, child)).getKey())).isNull();
                pending.add(child);
            }
        }
        return tree;
    }

    private static void assertPrefixesDisjoint(Iterable<byte[]> prefixes, long seed) {
        List<byte[]> sorted = new ArrayList<>();
        prefixes.forEach(sorted::add);
        sorted.sort(Arrays::compareUnsigned);
        for (int i = 0; i + 1 < sorted.size(); i++) {
            byte[] a = sorted.get(i);
            byte[] b = sorted.get(i + 1);
            // Sorted order puts a prefix right before the keys it contains, so neighbours suffice.
            assertThat(ByteArrays.startsWith(b, a)).as("seed %d: %s overlaps %s", seed, Hex.of(a), Hex.of(b)).isFalse();
        }
    }

    /** No node metadata is left over from a move: every node in the node subspace is in the tree. */
    private static void assertEveryNodeIsReachable(Database db, Iterable<byte[]> reachable, long seed) {
        Subspace nodes = DirectoryLayer.DEFAULT_NODE_SUBSPACE;
        Set<String> expected = new HashSet<>();
        reachable.forEach(p -> expected.add(Hex.of(p)));
        expected.add(Hex.of(nodes.getKey()));
        Set<String> stored = new HashSet<>();
        List<KeyValue> metadata = db.read(tr -> tr.getRange(nodes.range()).asList().join());
        for (KeyValue kv : metadata) {
            Tuple key = nodes.unpack(kv.getKey());
            stored.add(Hex.of(key.getBytes(0)));
        }
        assertThat(stored).as("seed %d", seed).isEqualTo(expected);
    }

    @Test
    void concurrentAllocationsInOneTransactionAreDistinct() {
        HighContentionAllocator allocator = new HighContentionAllocator(new Subspace(Tuple.from("hca-test")));
        try (Database db = EmbeddedDatabase.open(dir)) {
            // More than a window's worth, so the window moves while allocations are in flight.
            List<byte[]> prefixes = db.run(tr -> {
                List<CompletableFuture<byte[]>> pending = new ArrayList<>();
                for (int i = 0; i < 150; i++) {
                    pending.add(allocator.allocate(tr));
                }
                List<byte[]> all = new ArrayList<>();
                pending.forEach(f -> all.add(await(f)));
                return all;
            });
            Set<String> distinct = new HashSet<>();
            prefixes.forEach(p -> distinct.add(Hex.of(p)));
            assertThat(distinct).hasSize(150);
            List<byte[]> more = db.run(tr -> List.of(await(allocator.allocate(tr)), await(allocator.allocate(tr))));
            more.forEach(p -> assertThat(distinct.add(Hex.of(p))).isTrue());
        }
    }

    @Test
    void twoTransactionsClaimingTheSameCandidateCannotBothCommit() {
        Subspace hca = new Subspace(Tuple.from("hca-test"));
        // Equal seeds make both allocators pick the same first candidate.
        HighContentionAllocator first = new HighContentionAllocator(hca, new Random(7));
        HighContentionAllocator second = new HighContentionAllocator(hca, new Random(7));
        try (Database db = EmbeddedDatabase.open(dir);
                Transaction tr1 = db.createTransaction();
                Transaction tr2 = db.createTransaction()) {
            byte[] p1 = await(first.allocate(tr1));
            byte[] p2 = await(second.allocate(tr2));
            assertThat(p2).isEqualTo(p1);
            await(tr1.commit());
            assertThatThrownBy(() -> await(tr2.commit()))
                    .isInstanceOfSatisfying(TxkvException.class, e -> assertThat(e.getError()).isEqualTo(ErrorCode.NOT_COMMITTED));
            // A new attempt sees the committed claim and never returns that prefix again.
            byte[] retried = db.run(tr -> await(second.allocate(tr)));
            assertThat(retried).isNotEqualTo(p1);
        }
    }
}
