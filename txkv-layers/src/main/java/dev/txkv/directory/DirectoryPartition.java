package dev.txkv.directory;

import dev.txkv.ByteArrays;
import dev.txkv.Range;
import dev.txkv.subspace.Subspace;
import dev.txkv.tuple.Tuple;
import java.util.List;
import java.util.Objects;

/**
 * A directory created with layer {@code "partition"}: the root of a separate directory tree
 * whose metadata and contents all live under the partition's prefix, so that the whole tree
 * can be moved or removed at once and its keys stay together. Its subdirectories are
 * allocated inside it; directories cannot be moved in or out.
 *
 * <p>The partition's own prefix is reserved for the nested tree, so the {@link Subspace}
 * methods that would make keys directly under it throw {@link UnsupportedOperationException},
 * as in FoundationDB.
 */
public class DirectoryPartition extends DirectorySubspace {
    private static final byte[] NODE_SUBSPACE_SUFFIX = {(byte) 0xFE};

    private final DirectoryLayer parentDirectoryLayer;

    DirectoryPartition(List<String> path, byte[] prefix, DirectoryLayer parentDirectoryLayer) {
        super(path, prefix, new DirectoryLayer(new Subspace(ByteArrays.concat(prefix, NODE_SUBSPACE_SUFFIX)),
                new Subspace(prefix), false, path), DirectoryLayer.PARTITION_LAYER);
        this.parentDirectoryLayer = Objects.requireNonNull(parentDirectoryLayer, "parentDirectoryLayer");
    }

    /** Not available for a partition's root. */
    @Override
    public Subspace get(Object item) {
        throw refused("open a subspace in");
    }

    /** Not available for a partition's root. */
    @Override
    public Subspace get(Tuple tuple) {
        throw refused("open a subspace in");
    }

    /** Not available for a partition's root. */
    @Override
    public Subspace subspace(Tuple tuple) {
        throw refused("open a subspace in");
    }

    /** Not available for a partition's root. */
    @Override
    public byte[] getKey() {
        throw refused("get the key of");
    }

    /** Not available for a partition's root. */
    @Override
    public byte[] pack() {
        throw refused("pack keys with");
    }

    /** Not available for a partition's root. */
    @Override
    public byte[] pack(Object item) {
        throw refused("pack keys with");
    }

    /** Not available for a partition's root. */
    @Override
    public byte[] pack(Tuple tuple) {
        throw refused("pack keys with");
    }

    /** Not available for a partition's root. */
    @Override
    public byte[] packWithVersionstamp(Tuple tuple) {
        throw refused("pack keys with");
    }

    /** Not available for a partition's root. */
    @Override
    public Tuple unpack(byte[] key) {
        throw refused("unpack keys with");
    }

    /** Not available for a partition's root. */
    @Override
    public Range range() {
        throw refused("get the range of");
    }

    /** Not available for a partition's root. */
    @Override
    public Range range(Tuple tuple) {
        throw refused("get the range of");
    }

    /** Not available for a partition's root. */
    @Override
    public boolean contains(byte[] key) {
        throw refused("check keys against");
    }

    @Override
    DirectoryLayer layerForPath(List<String> subpath) {
        return subpath.isEmpty() ? parentDirectoryLayer : getDirectoryLayer();
    }

    /** Equal for the same path, prefix and parent directory layer. */
    @Override
    public boolean equals(Object o) {
        return super.equals(o) && parentDirectoryLayer.equals(((DirectoryPartition) o).parentDirectoryLayer);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), parentDirectoryLayer);
    }

    private static UnsupportedOperationException refused(String what) {
        return new UnsupportedOperationException("Cannot " + what + " the root of a directory partition");
    }
}
