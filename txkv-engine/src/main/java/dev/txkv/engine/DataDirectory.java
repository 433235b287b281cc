package dev.txkv.engine;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;

/**
 * The data directory's identity and ownership: a FORMAT file that names the on-disk format
 * version, and an exclusive lock held while the engine runs. A directory of another format,
 * or one that is not txkv's, is refused with a clear error and never rewritten or wiped.
 *
 * <pre>
 * DIR/FORMAT      "txkv-data-format 1\n"
 * DIR/txkv.lock   locked (fcntl) by the owning process
 * DIR/rocksdb/    the RocksDB database
 * </pre>
 */
public final class DataDirectory implements AutoCloseable {
    static final int FORMAT_VERSION = 1;
    private static final String FORMAT_LINE = "txkv-data-format " + FORMAT_VERSION;

    private final Path dir;
    private final FileChannel lockChannel;
    private final FileLock lock;

    private DataDirectory(Path dir, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    Path rocksDir() {
        return dir.resolve("rocksdb");
    }

    static DataDirectory open(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new TxkvException(ErrorCode.IO_ERROR, "Cannot create data directory " + dir + ": " + e, e);
        }
        FileChannel channel;
        FileLock lock;
        try {
            channel = FileChannel.open(dir.resolve("txkv.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new TxkvException(ErrorCode.IO_ERROR, "Cannot open lock file in " + dir + ": " + e, e);
        }
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException | IOException e) {
            lock = null;
        }
        if (lock == null) {
            closeQuietly(channel);
            throw new TxkvException(ErrorCode.DATA_DIRECTORY_LOCKED,
                    "Data directory " + dir + " is in use by another txkv process (or another database in this one)");
        }
        try {
            checkOrWriteFormat(dir);
        } catch (RuntimeException e) {
            try {
                lock.release();
            } catch (IOException ignored) {
                // Closing the channel below releases it anyway.
            }
            closeQuietly(channel);
            throw e;
        }
        return new DataDirectory(dir, channel, lock);
    }

    /**
     * Makes {@code dir} a new, empty data directory (its FORMAT file and an empty rocksdb/
     * folder), into whose rocksdb/ folder a storage copy can then be placed before an engine
     * opens it.
     */
    public static void initialize(Path dir) {
        open(dir).close();
    }

    private static void checkOrWriteFormat(Path dir) {
        Path format = dir.resolve("FORMAT");
        try {
            if (Files.exists(format)) {
                String line = Files.readString(format, StandardCharsets.UTF_8).trim();
                if (!line.equals(FORMAT_LINE)) {
                    throw new TxkvException(ErrorCode.DATA_DIRECTORY_INVALID, "Data directory " + dir + " has format '"
                            + abbreviate(line) + "' but this txkv reads '" + FORMAT_LINE + "'; it was left untouched");
                }
                if (!Files.isDirectory(dir.resolve("rocksdb"))) {
                    throw new TxkvException(ErrorCode.DATA_DIRECTORY_INVALID,
                            "Data directory " + dir + " has a FORMAT file but no rocksdb/ folder; it was left untouched");
                }
                return;
            }
            try (Stream<Path> entries = Files.list(dir)) {
                // A crash during creation may leave the lock, a temporary FORMAT and an empty rocksdb/.
                boolean foreign = entries.anyMatch(p -> !isLeftOverFromCreation(p));
                if (foreign) {
                    throw new TxkvException(ErrorCode.DATA_DIRECTORY_INVALID, "Directory " + dir
                            + " is not empty and is not a txkv data directory (no FORMAT file); it was left untouched");
                }
            }
            Files.createDirectories(dir.resolve("rocksdb"));
            Path tmp = dir.resolve("FORMAT.tmp");
            Files.writeString(tmp, FORMAT_LINE + "\n", StandardCharsets.UTF_8);
            try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                c.force(true);
            }
            Files.move(tmp, format, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new TxkvException(ErrorCode.IO_ERROR, "Cannot read or write " + format + ": " + e, e);
        }
    }

    private static boolean isLeftOverFromCreation(Path p) {
        String name = p.getFileName().toString();
        if (name.equals("txkv.lock") || name.equals("FORMAT.tmp")) {
            return true;
        }
        if (name.equals("rocksdb") && Files.isDirectory(p)) {
            try (Stream<Path> inside = Files.list(p)) {
                return inside.findAny().isEmpty();
            } catch (IOException e) {
                return false;
            }
        }
        return false;
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    private static void closeQuietly(FileChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // Nothing more to release.
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // Closing the channel releases the lock too.
        }
        closeQuietly(lockChannel);
    }

    /** Deletes {@code p} and everything under it; nothing when it does not exist. */
    public static void deleteTree(Path p) throws java.io.IOException {
        if (!java.nio.file.Files.exists(p)) {
            return;
        }
        try (java.util.stream.Stream<Path> walk = java.nio.file.Files.walk(p)) {
            for (Path f : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
                java.nio.file.Files.deleteIfExists(f);
            }
        }
    }
}
