package dev.txkv.replication;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;

/**
 * Raft snapshots of a replica: RocksDB checkpoints (hard links of its files, so taking one
 * is cheap) in the state machine directory, one folder per snapshot. Ratis sends a snapshot's
 * files to a member that lags behind the purged log, replacing that member's state machine
 * directory with them, and then asks the state machine to load it.
 *
 * <pre>
 * raft/GROUP/sm/snapshot.TERM_INDEX/   a RocksDB checkpoint at log index INDEX
 *                        .../MD5SUMS   "md5  file" per line; written last, marks it complete
 * </pre>
 */
final class SnapshotStore implements StateMachineStorage {
    private static final Pattern NAME = Pattern.compile("snapshot\\.(\\d+)_(\\d+)");
    static final String COMPLETE_MARKER = "MD5SUMS";
    private static final int KEEP = 2;

    private volatile Path smDir;
    private volatile SnapshotInfo latest;

    @Override
    public void init(RaftStorage raftStorage) throws IOException {
        smDir = raftStorage.getStorageDir().getStateMachineDir().toPath();
        Files.createDirectories(smDir);
        latest = scan();
    }

    @Override
    public SnapshotInfo getLatestSnapshot() {
        SnapshotInfo s = latest;
        if (s == null && smDir != null) {
            try {
                s = scan();
                latest = s;
            } catch (IOException e) {
                return null;
            }
        }
        return s;
    }

    /** Rescans after Ratis installed a snapshot from the leader into the directory. */
    SnapshotInfo rescan() throws IOException {
        latest = scan();
        return latest;
    }

    /** The checkpoint folder of a snapshot. */
    Path folder(SnapshotInfo info) {
        return smDir.resolve("snapshot." + info.getTerm() + "_" + info.getIndex());
    }

    @Override
    public void format() {
        // Nothing to prepare: snapshots are created on demand.
    }

    @Override
    public void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
        deleteAllBut(KEEP);
    }

    /** Whether a file of a snapshot folder belongs to the storage checkpoint (not to this store's bookkeeping). */
    static boolean isCheckpointFile(Path file) {
        String name = file.getFileName().toString();
        return !name.equals(COMPLETE_MARKER) && !name.endsWith(".md5");
    }

    /** Takes a checkpoint of storage, written by {@code checkpoint} into a new folder, as the snapshot at {@code termIndex}. */
    SnapshotInfo take(java.util.function.Consumer<Path> checkpoint, TermIndex termIndex) throws IOException {
        Path target = smDir.resolve("snapshot." + termIndex.getTerm() + "_" + termIndex.getIndex());
        if (Files.exists(target.resolve(COMPLETE_MARKER))) {
            return latest;
        }
        Path tmp = smDir.resolve(".tmp-" + target.getFileName());
        deleteTree(tmp);
        deleteTree(target);
        try {
            checkpoint.accept(tmp);
        } catch (RuntimeException e) {
            throw new IOException("Cannot create a checkpoint for snapshot " + termIndex + ": " + e.getMessage(), e);
        }
        StringBuilder sums = new StringBuilder();
        try (Stream<Path> files = Files.list(tmp)) {
            for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                sums.append(md5(f)).append("  ").append(f.getFileName()).append('\n');
            }
        }
        Files.writeString(tmp.resolve(COMPLETE_MARKER), sums.toString(), StandardCharsets.UTF_8);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        latest = scan();
        deleteAllBut(KEEP);
        return latest;
    }

    private SnapshotInfo scan() throws IOException {
        List<Path> complete = completeSnapshots();
        if (complete.isEmpty()) {
            return null;
        }
        Path newest = complete.get(complete.size() - 1);
        Matcher m = NAME.matcher(newest.getFileName().toString());
        if (!m.matches()) {
            return null;
        }
        List<FileInfo> files = new ArrayList<>();
        for (String line : Files.readAllLines(newest.resolve(COMPLETE_MARKER), StandardCharsets.UTF_8)) {
            int sep = line.indexOf("  ");
            if (sep > 0) {
                files.add(new FileInfo(newest.resolve(line.substring(sep + 2)), MD5Hash.newInstance(line.substring(0, sep))));
            }
        }
        Path marker = newest.resolve(COMPLETE_MARKER);
        files.add(new FileInfo(marker, MD5Hash.newInstance(md5(marker))));
        return new FileListSnapshotInfo(files, Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
    }

    /** Complete snapshot folders, oldest first (ordered by log index). */
    private List<Path> completeSnapshots() throws IOException {
        List<Path> out = new ArrayList<>();
        if (smDir == null || !Files.isDirectory(smDir)) {
            return out;
        }
        try (Stream<Path> entries = Files.list(smDir)) {
            entries.filter(p -> NAME.matcher(p.getFileName().toString()).matches())
                    .filter(p -> Files.exists(p.resolve(COMPLETE_MARKER)))
                    .forEach(out::add);
        }
        out.sort(Comparator.comparingLong(p -> {
            Matcher m = NAME.matcher(p.getFileName().toString());
            return m.matches() ? Long.parseLong(m.group(2)) : -1;
        }));
        return out;
    }

    private void deleteAllBut(int keep) throws IOException {
        List<Path> complete = completeSnapshots();
        for (int i = 0; i < complete.size() - keep; i++) {
            deleteTree(complete.get(i));
        }
    }

    static String md5(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IOException(e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        StringBuilder hex = new StringBuilder();
        for (byte b : digest.digest()) {
            hex.append(String.format("%02x", b));
        }
        return hex.toString();
    }

    static void deleteTree(Path p) throws IOException {
        dev.txkv.engine.DataDirectory.deleteTree(p);
    }
}
