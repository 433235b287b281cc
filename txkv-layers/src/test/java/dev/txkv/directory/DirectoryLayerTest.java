package dev.txkv.directory;

import static dev.txkv.layers.testing.EmbeddedDatabase.await;
import static dev.txkv.layers.testing.Hex.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.ByteArrays;
import dev.txkv.Database;
import dev.txkv.KeyValue;
import dev.txkv.layers.testing.EmbeddedDatabase;
import dev.txkv.layers.testing.Hex;
import dev.txkv.subspace.Subspace;
import dev.txkv.tuple.Tuple;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Directory semantics and the stored key layout, on the embedded engine. */
class DirectoryLayerTest {
    private static final byte[] VERSION_KEY = bytes("fe 01 fe 00 01 76 65 72 73 69 6f 6e 00");

    @TempDir
    Path dir;

    private Database db;
    private final DirectoryLayer directory = new DirectoryLayer();

    @BeforeEach
    void open() {
        db = EmbeddedDatabase.open(dir);
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void storesFoundationDbKeyLayout() {
        DirectorySubspace app = await(directory.createOrOpen(db, List.of("app")));
        byte[] prefix = app.getKey();
        // The first allocation comes from window [0, 64): a one-element packed integer.
        long n = Tuple.fromBytes(prefix).getLong(0);
        assertThat(n).isBetween(0L, 63L);

        Map<String, String> expected = new LinkedHashMap<>();
        expected.put(Hex.of(VERSION_KEY), "01 00 00 00 00 00 00 00 00 00 00 00");
        // hca counters: (b"hca", 0, 0) -> 1 allocation in window 0, 8 bytes little-endian.
        expected.put("fe 01 fe 00 01 68 63 61 00 14 14", "01 00 00 00 00 00 00 00");
        // hca marker for the candidate: (b"hca", 1, n) -> empty.
        expected.put(Hex.of(ByteArrays.concat(bytes("fe 01 fe 00 01 68 63 61 00 15 01"), prefix)), "");
        // root subdirectory entry: (root, 0, "app") -> prefix.
        expected.put("fe 01 fe 00 14 02 61 70 70 00", Hex.of(prefix));
        // node layer: (prefix, b"layer") -> empty layer.
        expected.put(Hex.of(ByteArrays.concat(ByteArrays.concat(bytes("fe 01"), prefix), bytes("00 01 6c 61 79 65 72 00"))), "");

        Map<String, String> stored = new LinkedHashMap<>();
        for (KeyValue kv : EmbeddedDatabase.dump(db)) {
            stored.put(Hex.of(kv.getKey()), Hex.of(kv.getValue()));
        }
        assertThat(stored).containsExactlyInAnyOrderEntriesOf(expected);
    }

    @Test
    void createOpenAndCheckLayers() {
        DirectorySubspace created = await(directory.create(db, List.of("a", "b"), bytes("6c 31"), null));
        assertThat(created.getPath()).containsExactly("a", "b");
        assertThat(created.getLayer()).isEqualTo(bytes("6c 31"));
        assertThat(created.getDirectoryLayer()).isSameAs(directory);

        DirectorySubspace opened = await(directory.open(db, List.of("a", "b")));
        assertThat(opened).isEqualTo(created);
        assertThat(await(directory.open(db, List.of("a", "b"), bytes("6c 31")))).isEqualTo(created);
        assertThat(await(directory.createOrOpen(db, List.of("a", "b")))).isEqualTo(created);
        assertThat(await(directory.exists(db, List.of("a")))).isTrue();
        assertThat(await(directory.open(db, List.of("a"))).getLayer()).isEmpty();

        assertThatThrownBy(() -> await(directory.open(db, List.of("a", "b"), bytes("6c 32"))))
                .isInstanceOf(MismatchedLayerException.class);
        assertThatThrownBy(() -> await(directory.createOrOpen(db, List.of("a"), bytes("6c 32"))))
                .isInstanceOf(MismatchedLayerException.class);
        assertThatThrownBy(() -> await(directory.create(db, List.of("a", "b"))))
                .isInstanceOf(DirectoryAlreadyExistsException.class)
                .hasMessageContaining("path=(a,b)");
        assertThatThrownBy(() -> await(directory.open(db, List.of("a", "c"))))
                .isInstanceOf(NoSuchDirectoryException.class);
        assertThatThrownBy(() -> await(directory.open(db, List.of()))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> await(directory.createOrOpen(db, List.of()))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void prefixesAreDistinctAndContentsAreSeparate() {
        DirectorySubspace a = await(directory.createOrOpen(db, List.of("a")));
        DirectorySubspace b = await(directory.createOrOpen(db, List.of("b")));
        DirectorySubspace ab = await(directory.createOrOpen(db, List.of("a", "b")));
        assertThat(List.of(a.getKey(), b.getKey(), ab.getKey())).doesNotHaveDuplicates();
        assertThat(ByteArrays.startsWith(ab.getKey(), a.getKey())).isFalse();
        db.run(tr -> {
            tr.set(a.pack(Tuple.from("k")), bytes("01"));
            tr.set(b.pack(Tuple.from("k")), bytes("02"));
            return null;
        });
        byte[] value = db.read(tr -> tr.get(a.pack(Tuple.from("k"))).join());
        assertThat(value).isEqualTo(bytes("01"));
    }

    @Test
    void listsAndChecksExistence() {
        await(directory.createOrOpen(db, List.of("x", "b")));
        await(directory.createOrOpen(db, List.of("x", "a")));
        await(directory.createOrOpen(db, List.of("x", "a", "deep")));
        assertThat(await(directory.list(db, List.of()))).containsExactly("x");
        assertThat(await(directory.list(db, List.of("x")))).containsExactly("a", "b");
        DirectorySubspace x = await(directory.open(db, List.of("x")));
        assertThat(await(db.<List<String>>readAsync(tr -> x.list(tr)))).containsExactly("a", "b");
        assertThat(await(db.<List<String>>readAsync(tr -> x.list(tr, List.of("a"))))).containsExactly("deep");
        assertThat(await(db.<Boolean>readAsync(tr -> x.exists(tr, List.of("a", "deep"))))).isTrue();
        assertThat(await(db.<Boolean>readAsync(tr -> x.exists(tr, List.of("zz"))))).isFalse();
        assertThat(await(directory.exists(db, List.of()))).isTrue();
        assertThatThrownBy(() -> await(directory.list(db, List.of("nope")))).isInstanceOf(NoSuchDirectoryException.class);
    }

    @Test
    void removeClearsContentsMetadataAndSubdirectories() {
        DirectorySubspace a = await(directory.createOrOpen(db, List.of("a")));
        DirectorySubspace child = await(directory.createOrOpen(db, List.of("a", "child")));
        DirectorySubspace keep = await(directory.createOrOpen(db, List.of("keep")));
        db.run(tr -> {
            tr.set(a.pack(1L), bytes("01"));
            tr.set(child.pack(1L), bytes("01"));
            tr.set(keep.pack(1L), bytes("01"));
            return null;
        });
        await(directory.remove(db, List.of("a")));
        assertThat(await(directory.exists(db, List.of("a")))).isFalse();
        assertThat(await(directory.exists(db, List.of("a", "child")))).isFalse();
        assertThat(await(directory.list(db, List.of()))).containsExactly("keep");

        List<KeyValue> left = EmbeddedDatabase.dump(db);
        for (KeyValue kv : left) {
            assertThat(ByteArrays.startsWith(kv.getKey(), a.getKey())).as(Hex.of(kv.getKey())).isFalse();
            assertThat(ByteArrays.startsWith(kv.getKey(), child.getKey())).as(Hex.of(kv.getKey())).isFalse();
            assertThat(ByteArrays.startsWith(kv.getKey(), DirectoryLayer.DEFAULT_NODE_SUBSPACE.pack(a.getKey())))
                    .as("node of a: %s", Hex.of(kv.getKey())).isFalse();
        }
        assertThat(left).anyMatch(kv -> ByteArrays.startsWith(kv.getKey(), keep.getKey()));

        assertThatThrownBy(() -> await(directory.remove(db, List.of("a")))).isInstanceOf(NoSuchDirectoryException.class);
        assertThat(await(directory.removeIfExists(db, List.of("a")))).isFalse();
        assertThat(await(directory.removeIfExists(db, List.of("keep")))).isTrue();
        assertThatThrownBy(() -> await(directory.remove(db, List.of()))).isInstanceOf(DirectoryException.class)
                .hasMessageContaining("root");
    }

    @Test
    void moveKeepsThePrefixAndContents() {
        DirectorySubspace a = await(directory.createOrOpen(db, List.of("a")));
        await(directory.createOrOpen(db, List.of("a", "inner")));
        await(directory.createOrOpen(db, List.of("dest")));
        db.run(tr -> {
            tr.set(a.pack(1L), bytes("01"));
            return null;
        });
        DirectorySubspace moved = await(directory.move(db, List.of("a"), List.of("dest", "a2")));
        assertThat(moved.getPath()).containsExactly("dest", "a2");
        assertThat(moved.getKey()).isEqualTo(a.getKey());
        assertThat(await(directory.exists(db, List.of("a")))).isFalse();
        assertThat(await(directory.list(db, List.of("dest", "a2")))).containsExactly("inner");
        byte[] value = db.read(tr -> tr.get(moved.pack(1L)).join());
        assertThat(value).isEqualTo(bytes("01"));

        DirectorySubspace back = await(moved.moveTo(db, List.of("a")));
        assertThat(back.getPath()).containsExactly("a");
        assertThat(await(directory.list(db, List.of("dest")))).isEmpty();
    }

    @Test
    void refusesImpossibleMoves() {
        await(directory.createOrOpen(db, List.of("a", "b")));
        await(directory.createOrOpen(db, List.of("c")));
        assertThatThrownBy(() -> await(directory.move(db, List.of("a"), List.of("a", "b", "x"))))
                .isInstanceOf(DirectoryMoveException.class).hasMessageContaining("subdirectory");
        assertThatThrownBy(() -> await(directory.move(db, List.of("a"), List.of("c"))))
                .isInstanceOf(DirectoryAlreadyExistsException.class);
        assertThatThrownBy(() -> await(directory.move(db, List.of("a"), List.of("missing", "a"))))
                .isInstanceOf(NoSuchDirectoryException.class).hasMessageContaining("(missing)");
        assertThatThrownBy(() -> await(directory.move(db, List.of("missing"), List.of("x"))))
                .isInstanceOf(NoSuchDirectoryException.class);
        assertThatThrownBy(() -> await(directory.moveTo(db, List.of("x")))).isInstanceOf(DirectoryMoveException.class);
        assertThatThrownBy(() -> await(directory.move(db, List.of(), List.of("x")))).isInstanceOf(DirectoryMoveException.class);
    }

    @Test
    void manualPrefixesNeedPermissionAndMustNotOverlap() {
        assertThatThrownBy(() -> await(directory.create(db, List.of("m"), null, bytes("aa"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("manual prefixes");
        DirectoryLayer manual = new DirectoryLayer(true);
        DirectorySubspace m = await(manual.create(db, List.of("m"), null, bytes("aa")));
        assertThat(m.getKey()).isEqualTo(bytes("aa"));
        assertThatThrownBy(() -> await(manual.create(db, List.of("n"), null, bytes("aa 01"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already in use");
        assertThatThrownBy(() -> await(manual.create(db, List.of("n"), null, bytes("aa"))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> await(manual.create(db, List.of("n"), null, bytes("fe 01"))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> await(manual.create(db, List.of("n"), null, bytes(""))))
                .isInstanceOf(IllegalArgumentException.class);
        DirectorySubspace n = await(manual.create(db, List.of("n"), null, bytes("ab")));
        assertThat(n.getKey()).isEqualTo(bytes("ab"));
        // The default layer sees the same tree: both use the default node subspace.
        assertThat(await(directory.open(db, List.of("m"))).getKey()).isEqualTo(bytes("aa"));
    }

    @Test
    void partitionsKeepTheirTreeUnderTheirPrefix() {
        DirectorySubspace p = await(directory.create(db, List.of("p"), DirectoryLayer.PARTITION_LAYER, null));
        assertThat(p).isInstanceOf(DirectoryPartition.class);
        assertThatThrownBy(p::getKey).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> p.pack(Tuple.from(1L))).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> p.range()).isInstanceOf(UnsupportedOperationException.class);
        assertThat(p.getDirectoryLayer().getPath()).containsExactly("p");

        DirectorySubspace inside = await(db.runAsync(tr -> p.createOrOpen(tr, List.of("x", "y"))));
        DirectorySubspace viaRoot = await(directory.open(db, List.of("p", "x", "y")));
        assertThat(viaRoot.getKey()).isEqualTo(inside.getKey());
        assertThat(viaRoot.getPath()).containsExactly("p", "x", "y");

        byte[] partitionPrefix = partitionPrefix(p);
        assertThat(ByteArrays.startsWith(inside.getKey(), partitionPrefix)).isTrue();
        // The nested tree's metadata is under prefix + 0xFE.
        for (KeyValue kv : EmbeddedDatabase.dump(db)) {
            if (ByteArrays.startsWith(kv.getKey(), DirectoryLayer.DEFAULT_NODE_SUBSPACE.getKey())) {
                assertThat(Hex.of(kv.getKey())).doesNotContain(Hex.of(bytes("02 79 00")));
            }
        }
        assertThat(await(directory.list(db, List.of("p")))).containsExactly("x");
        assertThat(await(directory.exists(db, List.of("p", "x", "y")))).isTrue();

        DirectorySubspace renamed = await(directory.move(db, List.of("p", "x"), List.of("p", "z")));
        assertThat(renamed.getPath()).containsExactly("p", "z");
        assertThatThrownBy(() -> await(directory.move(db, List.of("p", "z"), List.of("outside"))))
                .isInstanceOf(DirectoryMoveException.class).hasMessageContaining("partitions");
        await(directory.createOrOpen(db, List.of("outside")));
        assertThatThrownBy(() -> await(directory.move(db, List.of("outside"), List.of("p", "o"))))
                .isInstanceOf(DirectoryMoveException.class);
        assertThatThrownBy(() -> await(directory.create(db, List.of("p", "q"), null, bytes("aa"))))
                .isInstanceOf(IllegalArgumentException.class);

        // The partition itself is moved and removed by its parent layer.
        DirectorySubspace movedPartition = await(p.moveTo(db, List.of("p2")));
        assertThat(movedPartition).isInstanceOf(DirectoryPartition.class);
        assertThat(await(directory.exists(db, List.of("p2", "z", "y")))).isTrue();
        await(movedPartition.remove(db, List.of()));
        assertThat(await(directory.exists(db, List.of("p2")))).isFalse();
        for (KeyValue kv : EmbeddedDatabase.dump(db)) {
            assertThat(ByteArrays.startsWith(kv.getKey(), partitionPrefix)).as(Hex.of(kv.getKey())).isFalse();
        }
    }

    @Test
    void directorySubspaceWorksRelativeToItself() {
        DirectorySubspace app = await(directory.createOrOpen(db, List.of("app")));
        DirectorySubspace users = await(db.runAsync(tr -> app.createOrOpen(tr, List.of("users"))));
        assertThat(users.getPath()).containsExactly("app", "users");
        assertThat(await(db.<Boolean>runAsync(tr -> app.exists(tr, List.of("users"))))).isTrue();
        assertThat(await(db.<Boolean>runAsync(tr -> users.exists(tr)))).isTrue();
        await(db.runAsync(tr -> users.remove(tr)));
        assertThat(await(db.<Boolean>runAsync(tr -> users.exists(tr)))).isFalse();
        assertThat(users.toString()).startsWith("DirectorySubspace((app,users), ");
    }

    @Test
    void newerMajorVersionIsUnreadableAndNewerMinorIsReadOnly() {
        await(directory.createOrOpen(db, List.of("a")));
        setVersion(2, 0, 0);
        assertThatThrownBy(() -> await(directory.open(db, List.of("a")))).isInstanceOf(DirectoryVersionException.class)
                .hasMessageContaining("Cannot load directory with version 2.0.0");
        setVersion(1, 1, 0);
        assertThat(await(directory.open(db, List.of("a"))).getPath()).containsExactly("a");
        assertThatThrownBy(() -> await(directory.createOrOpen(db, List.of("b"))))
                .isInstanceOf(DirectoryVersionException.class).hasMessageContaining("read-only");
        assertThatThrownBy(() -> await(directory.remove(db, List.of("a")))).isInstanceOf(DirectoryVersionException.class);
    }

    @Test
    void customNodeAndContentSubspaces() {
        DirectoryLayer custom = new DirectoryLayer(new Subspace(bytes("f0")), new Subspace(Tuple.from("data")));
        DirectorySubspace d = await(custom.createOrOpen(db, List.of("d")));
        assertThat(ByteArrays.startsWith(d.getKey(), Tuple.from("data").pack())).isTrue();
        byte[] version = db.read(tr -> tr.get(bytes("f0 01 f0 00 01 76 65 72 73 69 6f 6e 00")).join());
        assertThat(version).isEqualTo(bytes("01 00 00 00 00 00 00 00 00 00 00 00"));
        assertThat(await(directory.exists(db, List.of("d")))).isFalse();
    }

    private void setVersion(int major, int minor, int patch) {
        byte[] v = java.nio.ByteBuffer.allocate(12).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putInt(major).putInt(minor).putInt(patch).array();
        db.run(tr -> {
            tr.set(VERSION_KEY, v);
            return null;
        });
    }

    /** The partition's prefix, read from its root entry, since the partition refuses getKey(). */
    private byte[] partitionPrefix(DirectorySubspace partition) {
        byte[] entry = Tuple.from(0L, partition.getPath().get(0)).pack(bytes("fe 01 fe 00"));
        return db.read(tr -> tr.get(entry).join());
    }
}
