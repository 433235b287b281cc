package dev.txkv.directory;

import dev.txkv.ByteArrays;
import dev.txkv.KeyValue;
import dev.txkv.Range;
import dev.txkv.ReadTransaction;
import dev.txkv.Transaction;
import dev.txkv.subspace.Subspace;
import dev.txkv.tuple.Tuple;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The root of a directory tree: maps paths of names to short allocated key prefixes, with
 * FoundationDB's semantics and key layout, so that a database shared with FoundationDB
 * clients (or copied key for key) keeps its directories.
 *
 * <p>Implementation notes. Metadata lives in the <em>node subspace</em> (default prefix
 * 0xFE); directory contents live under prefixes allocated in the <em>content subspace</em>
 * (default: the empty prefix) by a {@link HighContentionAllocator}. Each directory is a node,
 * {@code nodeSubspace + (prefix)}; the root node is the one whose prefix is the node
 * subspace's own prefix.
 *
 * <pre>
 * key (nodeSubspace = 0xFE by default)          value
 * FE + (FE, b"version")                         3 x uint32 little-endian: 1, 0, 0
 * FE + (FE, b"hca", 0, start)                   allocator window counters
 * FE + (FE, b"hca", 1, candidate)               allocator markers
 * FE + (parentPrefix, 0, "name")                prefix of the subdirectory "name"
 * FE + (prefix, b"layer")                       layer of the directory at prefix
 * prefix + ...                                  the directory's contents
 * </pre>
 *
 * <p>The version record is written by the first operation that writes; a newer major version
 * makes the tree unreadable and a newer minor version read-only ({@link DirectoryVersionException}).
 * A directory whose layer is {@code "partition"} is a {@link DirectoryPartition}: a nested
 * directory layer with node subspace {@code prefix + 0xFE} and content subspace {@code prefix}.
 */
public class DirectoryLayer implements Directory {
    /** The layer that marks a directory as a partition. */
    public static final byte[] PARTITION_LAYER = "partition".getBytes(StandardCharsets.UTF_8);
    /** The default node subspace, prefix 0xFE. */
    public static final Subspace DEFAULT_NODE_SUBSPACE = new Subspace(new byte[] {(byte) 0xFE});
    /** The default content subspace, the empty prefix. */
    public static final Subspace DEFAULT_CONTENT_SUBSPACE = new Subspace();

    static final long SUBDIRS = 0;
    private static final byte[] LAYER_KEY = "layer".getBytes(StandardCharsets.UTF_8);
    private static final byte[] VERSION_KEY = "version".getBytes(StandardCharsets.UTF_8);
    private static final byte[] HIGH_CONTENTION_KEY = "hca".getBytes(StandardCharsets.UTF_8);
    private static final int[] VERSION = {1, 0, 0};
    private static final DirectoryLayer DEFAULT = new DirectoryLayer();

    private final Subspace nodeSubspace;
    private final Subspace contentSubspace;
    private final Subspace rootNode;
    private final HighContentionAllocator allocator;
    private final boolean allowManualPrefixes;
    private final List<String> path;

    /** The default directory layer: nodes under 0xFE, contents anywhere else, no manual prefixes. */
    public DirectoryLayer() {
        this(DEFAULT_NODE_SUBSPACE, DEFAULT_CONTENT_SUBSPACE, false);
    }

    /** The default layout; {@code allowManualPrefixes} permits {@code create} with a prefix. */
    public DirectoryLayer(boolean allowManualPrefixes) {
        this(DEFAULT_NODE_SUBSPACE, DEFAULT_CONTENT_SUBSPACE, allowManualPrefixes);
    }

    /** A directory layer with its metadata in {@code nodeSubspace} and contents in {@code contentSubspace}. */
    public DirectoryLayer(Subspace nodeSubspace, Subspace contentSubspace) {
        this(nodeSubspace, contentSubspace, false);
    }

    /** As above; {@code allowManualPrefixes} permits {@code create} with a prefix. */
    public DirectoryLayer(Subspace nodeSubspace, Subspace contentSubspace, boolean allowManualPrefixes) {
        this(nodeSubspace, contentSubspace, allowManualPrefixes, List.of());
    }

    DirectoryLayer(Subspace nodeSubspace, Subspace contentSubspace, boolean allowManualPrefixes, List<String> path) {
        this.nodeSubspace = Objects.requireNonNull(nodeSubspace, "nodeSubspace");
        this.contentSubspace = Objects.requireNonNull(contentSubspace, "contentSubspace");
        this.rootNode = nodeSubspace.get(nodeSubspace.getKey());
        this.allocator = new HighContentionAllocator(rootNode.get(HIGH_CONTENTION_KEY));
        this.allowManualPrefixes = allowManualPrefixes;
        this.path = List.copyOf(path);
    }

    /** A directory layer with metadata in {@code nodeSubspace} and the default content subspace. */
    public static DirectoryLayer createWithNodeSubspace(Subspace nodeSubspace) {
        return new DirectoryLayer(nodeSubspace, DEFAULT_CONTENT_SUBSPACE);
    }

    /** A directory layer with the default node subspace and contents in {@code contentSubspace}. */
    public static DirectoryLayer createWithContentSubspace(Subspace contentSubspace) {
        return new DirectoryLayer(DEFAULT_NODE_SUBSPACE, contentSubspace);
    }

    /** The shared default directory layer. */
    public static DirectoryLayer getDefault() {
        return DEFAULT;
    }

    /** The path of this layer: empty, or the path of the partition it serves. */
    @Override
    public List<String> getPath() {
        return path;
    }

    /** A directory layer itself has no layer: the empty byte string. */
    @Override
    public byte[] getLayer() {
        return ByteArrays.EMPTY;
    }

    /** This directory layer. */
    @Override
    public DirectoryLayer getDirectoryLayer() {
        return this;
    }

    @Override
    public CompletableFuture<DirectorySubspace> createOrOpen(Transaction tr, List<String> subpath, byte[] layer) {
        return start(() -> createOrOpenInternal(tr, tr, PathUtil.copy(subpath), layerOrEmpty(layer), null, true, true));
    }

    @Override
    public CompletableFuture<DirectorySubspace> open(ReadTransaction tr, List<String> subpath, byte[] layer) {
        return start(() -> createOrOpenInternal(tr, null, PathUtil.copy(subpath), layerOrEmpty(layer), null, false, true));
    }

    @Override
    public CompletableFuture<DirectorySubspace> create(Transaction tr, List<String> subpath, byte[] layer, byte[] prefix) {
        byte[] prefixCopy = prefix == null ? null : prefix.clone();
        return start(() -> createOrOpenInternal(tr, tr, PathUtil.copy(subpath), layerOrEmpty(layer), prefixCopy, true, false));
    }

    /** Always fails: the root directory cannot be moved. */
    @Override
    public CompletableFuture<DirectorySubspace> moveTo(Transaction tr, List<String> newAbsolutePath) {
        return AsyncLoops.failed(new DirectoryMoveException("The root directory cannot be moved", path, newAbsolutePath));
    }

    @Override
    public CompletableFuture<DirectorySubspace> move(Transaction tr, List<String> oldSubpath, List<String> newSubpath) {
        return start(() -> moveInternal(tr, PathUtil.copy(oldSubpath), PathUtil.copy(newSubpath)));
    }

    @Override
    public CompletableFuture<Void> remove(Transaction tr, List<String> subpath) {
        return start(() -> removeInternal(tr, PathUtil.copy(subpath), true).thenApply(removed -> null));
    }

    @Override
    public CompletableFuture<Boolean> removeIfExists(Transaction tr, List<String> subpath) {
        return start(() -> removeInternal(tr, PathUtil.copy(subpath), false));
    }

    @Override
    public CompletableFuture<List<String>> list(ReadTransaction tr, List<String> subpath) {
        return start(() -> listInternal(tr, PathUtil.copy(subpath)));
    }

    @Override
    public CompletableFuture<Boolean> exists(ReadTransaction tr, List<String> subpath) {
        return start(() -> existsInternal(tr, PathUtil.copy(subpath)));
    }

    // ---- operations ----

    private CompletableFuture<DirectorySubspace> createOrOpenInternal(ReadTransaction rtr, Transaction tr, List<String> path,
            byte[] layer, byte[] prefix, boolean allowCreate, boolean allowOpen) {
        if (prefix != null && !allowManualPrefixes) {
            throw new IllegalArgumentException(this.path.isEmpty()
                    ? "Cannot specify a prefix unless manual prefixes are enabled"
                    : "Cannot specify a prefix in a partition");
        }
        return checkVersion(rtr).thenCompose(v -> {
            if (path.isEmpty()) {
                throw new IllegalArgumentException("The root directory cannot be opened");
            }
            return find(rtr, path);
        }).thenCompose(existing -> {
            if (existing.exists()) {
                if (existing.isInPartition(false)) {
                    return existing.contents().getDirectoryLayer().createOrOpenInternal(
                            rtr, tr, existing.partitionSubpath(), layer, prefix, allowCreate, allowOpen);
                }
                if (!allowOpen) {
                    throw new DirectoryAlreadyExistsException(toAbsolutePath(path));
                }
                if (layer.length > 0 && !Arrays.equals(layer, existing.layer)) {
                    throw new MismatchedLayerException(toAbsolutePath(path), existing.layer, layer);
                }
                return CompletableFuture.completedFuture(existing.contents());
            }
            if (!allowCreate) {
                throw new NoSuchDirectoryException(toAbsolutePath(path));
            }
            return createInternal(tr, path, layer, prefix);
        });
    }

    private CompletableFuture<DirectorySubspace> createInternal(Transaction tr, List<String> path, byte[] layer, byte[] prefix) {
        return checkOrWriteVersion(tr)
                .thenCompose(v -> prefix != null ? CompletableFuture.completedFuture(prefix) : allocatePrefix(tr))
                // An allocated prefix is checked with a snapshot read: it was chosen under conflict checks already.
                .thenCompose(actual -> isPrefixFree(prefix == null ? tr.snapshot() : tr, actual).thenCompose(free -> {
                    if (!free) {
                        if (prefix == null) {
                            throw new IllegalStateException("The directory layer has manually allocated prefixes that "
                                    + "conflict with the automatic prefix allocator");
                        }
                        throw new IllegalArgumentException("Prefix already in use: " + ByteArrays.printable(actual));
                    }
                    return parentNode(tr, path);
                }).thenApply(parent -> {
                    Subspace node = nodeWithPrefix(actual);
                    tr.set(parent.get(SUBDIRS).get(PathUtil.last(path)).getKey(), actual);
                    tr.set(node.pack(LAYER_KEY), layer);
                    return contentsOfNode(node, path, layer);
                }));
    }

    private CompletableFuture<byte[]> allocatePrefix(Transaction tr) {
        return allocator.allocate(tr).thenCompose(allocated -> {
            byte[] prefix = ByteArrays.concat(contentSubspace.getKey(), allocated);
            return tr.getRange(Range.startsWith(prefix), 1).asList().thenApply(existing -> {
                if (!existing.isEmpty()) {
                    throw new IllegalStateException("The database has keys stored at the prefix chosen by the "
                            + "automatic prefix allocator: " + ByteArrays.printable(prefix));
                }
                return prefix;
            });
        });
    }

    private CompletableFuture<Subspace> parentNode(Transaction tr, List<String> path) {
        if (path.size() == 1) {
            return CompletableFuture.completedFuture(rootNode);
        }
        return createOrOpen(tr, PathUtil.popBack(path)).thenApply(parent -> nodeWithPrefix(parent.getKey()));
    }

    private CompletableFuture<DirectorySubspace> moveInternal(Transaction tr, List<String> oldPath, List<String> newPath) {
        return checkOrWriteVersion(tr).thenCompose(v -> {
            if (PathUtil.startsWith(newPath, oldPath)) {
                throw new DirectoryMoveException("The destination directory cannot be a subdirectory of the source directory",
                        toAbsolutePath(oldPath), toAbsolutePath(newPath));
            }
            return find(tr, oldPath);
        }).thenCompose(oldNode -> find(tr, newPath).thenCompose(newNode -> {
            if (!oldNode.exists()) {
                throw new NoSuchDirectoryException(toAbsolutePath(oldPath));
            }
            if (oldNode.isInPartition(false) || newNode.isInPartition(false)) {
                if (!oldNode.isInPartition(false) || !newNode.isInPartition(false) || !oldNode.path.equals(newNode.path)) {
                    throw new DirectoryMoveException("Cannot move between partitions",
                            toAbsolutePath(oldPath), toAbsolutePath(newPath));
                }
                return newNode.contents().move(tr, oldNode.partitionSubpath(), newNode.partitionSubpath());
            }
            if (newNode.exists()) {
                throw new DirectoryAlreadyExistsException(toAbsolutePath(newPath));
            }
            List<String> parentPath = PathUtil.popBack(newPath);
            return find(tr, parentPath).thenCompose(parent -> {
                if (!parent.exists()) {
                    throw new NoSuchDirectoryException(toAbsolutePath(parentPath));
                }
                tr.set(parent.subspace.get(SUBDIRS).get(PathUtil.last(newPath)).getKey(), prefixOf(oldNode.subspace));
                return removeFromParent(tr, oldPath)
                        .thenApply(done -> contentsOfNode(oldNode.subspace, newPath, oldNode.layer));
            });
        }));
    }

    private CompletableFuture<Boolean> removeInternal(Transaction tr, List<String> path, boolean mustExist) {
        return checkOrWriteVersion(tr).thenCompose(v -> {
            if (path.isEmpty()) {
                throw new DirectoryException("The root directory cannot be removed", toAbsolutePath(path));
            }
            return find(tr, path);
        }).thenCompose(node -> {
            if (!node.exists()) {
                if (mustExist) {
                    throw new NoSuchDirectoryException(toAbsolutePath(path));
                }
                return CompletableFuture.completedFuture(false);
            }
            if (node.isInPartition(false)) {
                return node.contents().getDirectoryLayer().removeInternal(tr, node.partitionSubpath(), mustExist);
            }
            return removeRecursive(tr, node.subspace)
                    .thenCompose(done -> removeFromParent(tr, path))
                    .thenApply(done -> true);
        });
    }

    private CompletableFuture<List<String>> listInternal(ReadTransaction tr, List<String> path) {
        return checkVersion(tr).thenCompose(v -> find(tr, path)).thenCompose(node -> {
            if (!node.exists()) {
                throw new NoSuchDirectoryException(toAbsolutePath(path));
            }
            if (node.isInPartition(true)) {
                return node.contents().list(tr, node.partitionSubpath());
            }
            Subspace subdirs = node.subspace.get(SUBDIRS);
            return tr.getRange(subdirs.range()).asList().thenApply(entries -> {
                List<String> names = new ArrayList<>(entries.size());
                for (KeyValue entry : entries) {
                    names.add(subdirs.unpack(entry.getKey()).getString(0));
                }
                return names;
            });
        });
    }

    private CompletableFuture<Boolean> existsInternal(ReadTransaction tr, List<String> path) {
        return checkVersion(tr).thenCompose(v -> find(tr, path)).thenCompose(node -> {
            if (!node.exists()) {
                return CompletableFuture.completedFuture(false);
            }
            if (node.isInPartition(false)) {
                return node.contents().exists(tr, node.partitionSubpath());
            }
            return CompletableFuture.completedFuture(true);
        });
    }

    // ---- tree walking ----

    /**
     * The node at {@code path}, or the first missing node on the way, or the first partition
     * on the way (whose own directory layer must continue the walk). Its layer is loaded.
     */
    private CompletableFuture<Node> find(ReadTransaction tr, List<String> path) {
        return loadLayer(tr, new Node(rootNode, List.of(), path)).thenCompose(root -> descend(tr, root, path));
    }

    private CompletableFuture<Node> descend(ReadTransaction tr, Node node, List<String> path) {
        int depth = node.path.size();
        if (depth == path.size() || (depth > 0 && Arrays.equals(node.layer, PARTITION_LAYER))) {
            return CompletableFuture.completedFuture(node);
        }
        byte[] childKey = node.subspace.get(SUBDIRS).get(path.get(depth)).getKey();
        return tr.get(childKey).thenCompose(prefix -> {
            Node child = new Node(prefix == null ? null : nodeWithPrefix(prefix), path.subList(0, depth + 1), path);
            if (!child.exists()) {
                return CompletableFuture.completedFuture(child);
            }
            return loadLayer(tr, child).thenCompose(loaded -> descend(tr, loaded, path));
        });
    }

    private CompletableFuture<Node> loadLayer(ReadTransaction tr, Node node) {
        return tr.get(node.subspace.pack(LAYER_KEY)).thenApply(layer -> {
            node.layer = layer == null ? ByteArrays.EMPTY : layer;
            return node;
        });
    }

    private CompletableFuture<Void> removeFromParent(Transaction tr, List<String> path) {
        return find(tr, PathUtil.popBack(path))
                .thenAccept(parent -> tr.clear(parent.subspace.get(SUBDIRS).get(PathUtil.last(path)).getKey()));
    }

    /** Clears a directory's contents and metadata, and those of every directory below it. */
    private CompletableFuture<Void> removeRecursive(Transaction tr, Subspace node) {
        Subspace subdirs = node.get(SUBDIRS);
        // The children are read before anything is cleared, so the reads never depend on
        // whether this transaction's reads see its own clears.
        return tr.getRange(subdirs.range()).asList()
                .thenCompose(children -> AsyncLoops.forEach(children,
                        child -> removeRecursive(tr, nodeWithPrefix(child.getValue()))))
                .thenRun(() -> {
                    tr.clear(Range.startsWith(prefixOf(node)));
                    tr.clear(node.range());
                });
    }

    /** True when {@code prefix} neither contains nor lies inside any prefix in use (the node subspace included). */
    private CompletableFuture<Boolean> isPrefixFree(ReadTransaction tr, byte[] prefix) {
        if (prefix.length == 0) {
            return CompletableFuture.completedFuture(false);
        }
        return nodeContainingKey(tr, prefix).thenCompose(containing -> {
            if (containing != null) {
                return CompletableFuture.completedFuture(false);
            }
            byte[] begin = nodeSubspace.pack(prefix);
            byte[] end = nodeSubspace.pack(ByteArrays.strinc(prefix));
            return tr.getRange(begin, end, 1).asList().thenApply(List::isEmpty);
        });
    }

    /** The node whose prefix {@code key} starts with, if any. */
    private CompletableFuture<Subspace> nodeContainingKey(ReadTransaction tr, byte[] key) {
        if (ByteArrays.startsWith(key, nodeSubspace.getKey())) {
            return CompletableFuture.completedFuture(rootNode);
        }
        byte[] end = ByteArrays.concat(nodeSubspace.pack(key), new byte[] {0x00});
        return tr.getRange(nodeSubspace.range().begin, end, 1, true).asList().thenApply(last -> {
            if (!last.isEmpty()) {
                byte[] previousPrefix = nodeSubspace.unpack(last.get(0).getKey()).getBytes(0);
                if (ByteArrays.startsWith(key, previousPrefix)) {
                    return nodeWithPrefix(previousPrefix);
                }
            }
            return null;
        });
    }

    // ---- version record ----

    private CompletableFuture<Void> checkVersion(ReadTransaction tr) {
        return tr.get(rootNode.pack(VERSION_KEY)).thenAccept(stored -> {
            if (stored != null) {
                requireCompatibleVersion(stored, false);
            }
        });
    }

    private CompletableFuture<Void> checkOrWriteVersion(Transaction tr) {
        return tr.get(rootNode.pack(VERSION_KEY)).thenAccept(stored -> {
            if (stored == null) {
                ByteBuffer version = ByteBuffer.allocate(4 * VERSION.length).order(ByteOrder.LITTLE_ENDIAN);
                for (int part : VERSION) {
                    version.putInt(part);
                }
                tr.set(rootNode.pack(VERSION_KEY), version.array());
            } else {
                requireCompatibleVersion(stored, true);
            }
        });
    }

    private static void requireCompatibleVersion(byte[] stored, boolean forWriting) {
        if (stored.length != 4 * VERSION.length) {
            throw new DirectoryVersionException("Directory version record has " + stored.length + " bytes, not 12");
        }
        ByteBuffer b = ByteBuffer.wrap(stored).order(ByteOrder.LITTLE_ENDIAN);
        int major = b.getInt();
        int minor = b.getInt();
        int patch = b.getInt();
        String found = "version " + major + "." + minor + "." + patch;
        String ours = "directory layer " + VERSION[0] + "." + VERSION[1] + "." + VERSION[2];
        if (Integer.compareUnsigned(major, VERSION[0]) > 0) {
            throw new DirectoryVersionException("Cannot load directory with " + found + " using " + ours);
        }
        if (forWriting && Integer.compareUnsigned(minor, VERSION[1]) > 0) {
            throw new DirectoryVersionException("Directory with " + found + " is read-only when opened using " + ours);
        }
    }

    // ---- keys and paths ----

    private Subspace nodeWithPrefix(byte[] prefix) {
        return nodeSubspace.get(prefix);
    }

    private byte[] prefixOf(Subspace node) {
        return nodeSubspace.unpack(node.getKey()).getBytes(0);
    }

    DirectorySubspace contentsOfNode(Subspace node, List<String> relativePath, byte[] layer) {
        byte[] prefix = prefixOf(node);
        List<String> absolute = toAbsolutePath(relativePath);
        if (Arrays.equals(layer, PARTITION_LAYER)) {
            return new DirectoryPartition(absolute, prefix, this);
        }
        return new DirectorySubspace(absolute, prefix, this, layer);
    }

    private List<String> toAbsolutePath(List<String> relativePath) {
        return PathUtil.join(path, relativePath);
    }

    private static byte[] layerOrEmpty(byte[] layer) {
        return layer == null ? ByteArrays.EMPTY : layer.clone();
    }

    /** Runs {@code body}, turning an exception it throws into a failed future, as every async method must. */
    private static <T> CompletableFuture<T> start(java.util.function.Supplier<CompletableFuture<T>> body) {
        try {
            return body.get();
        } catch (RuntimeException e) {
            return AsyncLoops.failed(e);
        }
    }

    /** Equal when both serve the same path with the same node and content subspaces. */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (o == null || getClass() != o.getClass()) {
            return false;
        }
        DirectoryLayer other = (DirectoryLayer) o;
        return path.equals(other.path) && nodeSubspace.equals(other.nodeSubspace) && contentSubspace.equals(other.contentSubspace);
    }

    @Override
    public int hashCode() {
        return Objects.hash(path, nodeSubspace, contentSubspace);
    }

    @Override
    public String toString() {
        return "DirectoryLayer(path=" + PathUtil.format(path) + ", nodes=" + nodeSubspace + ", contents=" + contentSubspace + ")";
    }

    /** A position in the tree reached by {@link #find}: a node, or the absence of one. */
    private final class Node {
        final Subspace subspace;
        final List<String> path;
        final List<String> targetPath;
        byte[] layer = ByteArrays.EMPTY;

        Node(Subspace subspace, List<String> path, List<String> targetPath) {
            this.subspace = subspace;
            this.path = path;
            this.targetPath = targetPath;
        }

        boolean exists() {
            return subspace != null;
        }

        /** True for a partition that the target path goes into (or, with {@code includeEmptySubpath}, ends at). */
        boolean isInPartition(boolean includeEmptySubpath) {
            return exists() && Arrays.equals(layer, PARTITION_LAYER)
                    && (includeEmptySubpath || targetPath.size() > path.size());
        }

        List<String> partitionSubpath() {
            return targetPath.subList(path.size(), targetPath.size());
        }

        DirectorySubspace contents() {
            return contentsOfNode(subspace, path, layer);
        }
    }
}
