package dev.txkv.directory;

import dev.txkv.ByteArrays;
import dev.txkv.ReadTransaction;
import dev.txkv.Transaction;
import dev.txkv.subspace.Subspace;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * An opened directory: a {@link Subspace} over the directory's allocated prefix, for keys of
 * its contents, that is also a {@link Directory} for working on the tree below it. Paths
 * given to the {@link Directory} methods are relative to this directory. Immutable; it stays
 * usable after the directory is moved (the prefix does not change) but not after it is removed.
 */
public class DirectorySubspace extends Subspace implements Directory {
    private final List<String> path;
    private final byte[] prefix;
    private final byte[] layer;
    private final DirectoryLayer directoryLayer;

    DirectorySubspace(List<String> path, byte[] prefix, DirectoryLayer directoryLayer, byte[] layer) {
        super(prefix);
        this.path = List.copyOf(path);
        this.prefix = prefix.clone();
        this.layer = layer.clone();
        this.directoryLayer = Objects.requireNonNull(directoryLayer, "directoryLayer");
    }

    /** The absolute path this directory was opened (or moved) at. */
    @Override
    public List<String> getPath() {
        return path;
    }

    /** The layer recorded at creation (a copy; empty when none). */
    @Override
    public byte[] getLayer() {
        return layer.clone();
    }

    /** The directory layer that manages this directory's subdirectories. */
    @Override
    public DirectoryLayer getDirectoryLayer() {
        return directoryLayer;
    }

    @Override
    public CompletableFuture<DirectorySubspace> createOrOpen(Transaction tr, List<String> subpath, byte[] otherLayer) {
        return directoryLayer.createOrOpen(tr, partitionSubpath(subpath, directoryLayer), otherLayer);
    }

    @Override
    public CompletableFuture<DirectorySubspace> open(ReadTransaction tr, List<String> subpath, byte[] otherLayer) {
        return directoryLayer.open(tr, partitionSubpath(subpath, directoryLayer), otherLayer);
    }

    @Override
    public CompletableFuture<DirectorySubspace> create(Transaction tr, List<String> subpath, byte[] otherLayer, byte[] prefix) {
        return directoryLayer.create(tr, partitionSubpath(subpath, directoryLayer), otherLayer, prefix);
    }

    @Override
    public CompletableFuture<List<String>> list(ReadTransaction tr, List<String> subpath) {
        return directoryLayer.list(tr, partitionSubpath(subpath, directoryLayer));
    }

    @Override
    public CompletableFuture<DirectorySubspace> move(Transaction tr, List<String> oldSubpath, List<String> newSubpath) {
        return directoryLayer.move(tr, partitionSubpath(oldSubpath, directoryLayer), partitionSubpath(newSubpath, directoryLayer));
    }

    @Override
    public CompletableFuture<DirectorySubspace> moveTo(Transaction tr, List<String> newAbsolutePath) {
        DirectoryLayer owner = layerForPath(List.of());
        List<String> ownerPath = owner.getPath();
        if (!PathUtil.startsWith(newAbsolutePath, ownerPath)) {
            return AsyncLoops.failed(new DirectoryMoveException("Cannot move between partitions", path, newAbsolutePath));
        }
        return owner.move(tr, partitionSubpath(List.of(), owner),
                newAbsolutePath.subList(ownerPath.size(), newAbsolutePath.size()));
    }

    @Override
    public CompletableFuture<Void> remove(Transaction tr, List<String> subpath) {
        DirectoryLayer owner = layerForPath(subpath);
        return owner.remove(tr, partitionSubpath(subpath, owner));
    }

    @Override
    public CompletableFuture<Boolean> removeIfExists(Transaction tr, List<String> subpath) {
        DirectoryLayer owner = layerForPath(subpath);
        return owner.removeIfExists(tr, partitionSubpath(subpath, owner));
    }

    @Override
    public CompletableFuture<Boolean> exists(ReadTransaction tr, List<String> subpath) {
        DirectoryLayer owner = layerForPath(subpath);
        return owner.exists(tr, partitionSubpath(subpath, owner));
    }

    /** {@code subpath} relative to the root of {@code layer}, which serves this directory's tree. */
    private List<String> partitionSubpath(List<String> subpath, DirectoryLayer layer) {
        return PathUtil.join(path.subList(layer.getPath().size(), path.size()), PathUtil.copy(subpath));
    }

    /**
     * The directory layer that owns the directory at {@code subpath}. A partition's own node
     * lives in its parent's layer, so the partition overrides this for the empty subpath.
     */
    DirectoryLayer layerForPath(List<String> subpath) {
        return directoryLayer;
    }

    /** Equal for the same class, path, layer, directory layer and prefix. */
    @Override
    public boolean equals(Object o) {
        if (!super.equals(o)) {
            return false;
        }
        DirectorySubspace other = (DirectorySubspace) o;
        return path.equals(other.path) && Arrays.equals(layer, other.layer) && directoryLayer.equals(other.directoryLayer);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), path, Arrays.hashCode(layer), directoryLayer);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + PathUtil.format(path) + ", " + ByteArrays.printable(prefix) + ")";
    }
}
