package dev.txkv.directory;

import dev.txkv.ByteArrays;
import dev.txkv.Database;
import dev.txkv.ReadTransaction;
import dev.txkv.Transaction;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A node of the directory tree: either the {@link DirectoryLayer} (the root) or a directory
 * that was opened through it. Paths given to the methods are relative to this directory.
 *
 * <p>As in FoundationDB, every operation is asynchronous. The forms taking a
 * {@link Transaction} or {@link ReadTransaction} run inside that transaction and leave the
 * commit to the caller; the forms taking a {@link Database} run in a retry loop of their own
 * and commit. Failures complete the future exceptionally with a {@link DirectoryException}
 * subclass, a {@link DirectoryMoveException}, a {@link DirectoryVersionException}, or an
 * {@link IllegalArgumentException} for an unusable argument.
 */
public interface Directory {
    /** The absolute path of this directory (empty for the root). */
    List<String> getPath();

    /** The layer recorded for this directory (empty when none was given). */
    byte[] getLayer();

    /** The directory layer this directory was opened through. */
    DirectoryLayer getDirectoryLayer();

    /** Opens {@code subpath}, creating it and any missing parents if needed, with no layer check. */
    default CompletableFuture<DirectorySubspace> createOrOpen(Transaction tr, List<String> subpath) {
        return createOrOpen(tr, subpath, ByteArrays.EMPTY);
    }

    /**
     * Opens {@code subpath}, creating it and any missing parents if needed. A non-empty
     * {@code layer} is recorded on a new directory and checked against an existing one
     * ({@link MismatchedLayerException} if it differs).
     */
    CompletableFuture<DirectorySubspace> createOrOpen(Transaction tr, List<String> subpath, byte[] layer);

    /** Opens an existing directory; {@link NoSuchDirectoryException} if there is none. */
    default CompletableFuture<DirectorySubspace> open(ReadTransaction tr, List<String> subpath) {
        return open(tr, subpath, ByteArrays.EMPTY);
    }

    /** Opens an existing directory and checks its layer when {@code layer} is not empty. */
    CompletableFuture<DirectorySubspace> open(ReadTransaction tr, List<String> subpath, byte[] layer);

    /** Creates a directory (and missing parents); {@link DirectoryAlreadyExistsException} if it exists. */
    default CompletableFuture<DirectorySubspace> create(Transaction tr, List<String> subpath) {
        return create(tr, subpath, ByteArrays.EMPTY, null);
    }

    /** Creates a directory with a layer; see {@link #create(Transaction, List, byte[], byte[])}. */
    default CompletableFuture<DirectorySubspace> create(Transaction tr, List<String> subpath, byte[] layer) {
        return create(tr, subpath, layer, null);
    }

    /**
     * Creates a directory with a layer and, if {@code prefix} is not null, that exact key
     * prefix instead of an allocated one. A manual prefix needs a directory layer built with
     * {@code allowManualPrefixes} and must not overlap any prefix in use.
     */
    CompletableFuture<DirectorySubspace> create(Transaction tr, List<String> subpath, byte[] layer, byte[] prefix);

    /**
     * Moves this directory to {@code newAbsolutePath}, keeping its prefix and contents. The new
     * parent must exist and the destination must not; moves cannot cross partitions.
     */
    CompletableFuture<DirectorySubspace> moveTo(Transaction tr, List<String> newAbsolutePath);

    /** Moves the directory at {@code oldSubpath} to {@code newSubpath}, both relative to this one. */
    CompletableFuture<DirectorySubspace> move(Transaction tr, List<String> oldSubpath, List<String> newSubpath);

    /** Removes this directory, its subdirectories and all their contents. */
    default CompletableFuture<Void> remove(Transaction tr) {
        return remove(tr, List.of());
    }

    /**
     * Removes the directory at {@code subpath}, its subdirectories and all their contents;
     * {@link NoSuchDirectoryException} if it does not exist. Clients that still hold the
     * directory open can go on writing under its old prefix.
     */
    CompletableFuture<Void> remove(Transaction tr, List<String> subpath);

    /** Removes this directory if it exists; completes with whether it did. */
    default CompletableFuture<Boolean> removeIfExists(Transaction tr) {
        return removeIfExists(tr, List.of());
    }

    /** Removes the directory at {@code subpath} if it exists; completes with whether it did. */
    CompletableFuture<Boolean> removeIfExists(Transaction tr, List<String> subpath);

    /** The names of this directory's subdirectories, in tuple order. */
    default CompletableFuture<List<String>> list(ReadTransaction tr) {
        return list(tr, List.of());
    }

    /** The names of the subdirectories of {@code subpath}, in tuple order. */
    CompletableFuture<List<String>> list(ReadTransaction tr, List<String> subpath);

    /** Whether this directory still exists. */
    default CompletableFuture<Boolean> exists(ReadTransaction tr) {
        return exists(tr, List.of());
    }

    /** Whether the directory at {@code subpath} exists. */
    CompletableFuture<Boolean> exists(ReadTransaction tr, List<String> subpath);

    /** {@link #createOrOpen(Transaction, List)} in its own committed, retried transaction. */
    default CompletableFuture<DirectorySubspace> createOrOpen(Database db, List<String> subpath) {
        return db.runAsync(tr -> createOrOpen(tr, subpath));
    }

    /** {@link #createOrOpen(Transaction, List, byte[])} in its own committed, retried transaction. */
    default CompletableFuture<DirectorySubspace> createOrOpen(Database db, List<String> subpath, byte[] layer) {
        return db.runAsync(tr -> createOrOpen(tr, subpath, layer));
    }

    /** {@link #open(ReadTransaction, List)} in its own retried read. */
    default CompletableFuture<DirectorySubspace> open(Database db, List<String> subpath) {
        return db.readAsync(tr -> open(tr, subpath));
    }

    /** {@link #open(ReadTransaction, List, byte[])} in its own retried read. */
    default CompletableFuture<DirectorySubspace> open(Database db, List<String> subpath, byte[] layer) {
        return db.readAsync(tr -> open(tr, subpath, layer));
    }

    /** {@link #create(Transaction, List)} in its own committed, retried transaction. */
    default CompletableFuture<DirectorySubspace> create(Database db, List<String> subpath) {
        return db.runAsync(tr -> create(tr, subpath));
    }

    /** {@link #create(Transaction, List, byte[], byte[])} in its own committed, retried transaction. */
    default CompletableFuture<DirectorySubspace> create(Database db, List<String> subpath, byte[] layer, byte[] prefix) {
        return db.runAsync(tr -> create(tr, subpath, layer, prefix));
    }

    /** {@link #moveTo(Transaction, List)} in its own committed, retried transaction. */
    default CompletableFuture<DirectorySubspace> moveTo(Database db, List<String> newAbsolutePath) {
        return db.runAsync(tr -> moveTo(tr, newAbsolutePath));
    }

    /** {@link #move(Transaction, List, List)} in its own committed, retried transaction. */
    default CompletableFuture<DirectorySubspace> move(Database db, List<String> oldSubpath, List<String> newSubpath) {
        return db.runAsync(tr -> move(tr, oldSubpath, newSubpath));
    }

    /** {@link #remove(Transaction, List)} in its own committed, retried transaction. */
    default CompletableFuture<Void> remove(Database db, List<String> subpath) {
        return db.runAsync(tr -> remove(tr, subpath));
    }

    /** {@link #removeIfExists(Transaction, List)} in its own committed, retried transaction. */
    default CompletableFuture<Boolean> removeIfExists(Database db, List<String> subpath) {
        return db.runAsync(tr -> removeIfExists(tr, subpath));
    }

    /** {@link #list(ReadTransaction, List)} in its own retried read. */
    default CompletableFuture<List<String>> list(Database db, List<String> subpath) {
        return db.readAsync(tr -> list(tr, subpath));
    }

    /** {@link #exists(ReadTransaction, List)} in its own retried read. */
    default CompletableFuture<Boolean> exists(Database db, List<String> subpath) {
        return db.readAsync(tr -> exists(tr, subpath));
    }
}
