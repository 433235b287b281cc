package dev.txkv.server;

import com.google.protobuf.ByteString;
import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.engine.DataDirectory;
import dev.txkv.engine.Engine;
import dev.txkv.proto.CopyChunkRequest;
import dev.txkv.proto.CopyChunkResponse;
import dev.txkv.proto.CopyFile;
import dev.txkv.proto.ShardPeerGrpc;
import dev.txkv.proto.StartCopyRequest;
import dev.txkv.proto.StartCopyResponse;
import dev.txkv.wire.WireCommits;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Copies of shard replicas between the members of a sharded cluster, for moves: a member that
 * takes a replica of a shard fetches a storage checkpoint of another member's replica
 * ({@link #fetch}), places it in its data directory, and only then joins the shard's Raft group,
 * which catches it up from the log past the copy.
 *
 * <p>The serving side ({@link #start}, {@link #chunk}) keeps each copy in {@code DATA/copies/ID}
 * until the fetching member releases it, or for {@value #IDLE_MS} ms after its last use.
 */
final class ReplicaCopies implements AutoCloseable {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ReplicaCopies.class);
    /** The most bytes of one CopyChunk answer. */
    static final int CHUNK_BYTES = 1 << 20;
    /** A copy not read for this long is deleted. */
    static final long IDLE_MS = 300_000;
    /** Deadline of one copy call. */
    static final long CALL_MS = 60_000;

    private record Copy(Path dir, Map<String, Long> files, long[] lastUseNanos) {
    }

    private final Path root;
    private final Map<String, Copy> served = new ConcurrentHashMap<>();

    /** Copies are made under {@code dataDir/copies}; what a crash left there is deleted. */
    ReplicaCopies(Path dataDir) {
        this.root = dataDir.resolve("copies");
        deleteQuietly(root);
    }

    /** Makes a copy of {@code engine}'s storage and answers its files. */
    StartCopyResponse start(int shard, Engine engine) {
        String id = UUID.randomUUID().toString();
        Path dir = root.resolve(id);
        try {
            Files.createDirectories(root);
            engine.writeCheckpoint(dir);
            Map<String, Long> files = new LinkedHashMap<>();
            try (Stream<Path> list = Files.list(dir)) {
                for (Path f : (Iterable<Path>) list.sorted()::iterator) {
                    if (Files.isRegularFile(f)) {
                        files.put(f.getFileName().toString(), Files.size(f));
                    }
                }
            }
            served.put(id, new Copy(dir, files, new long[] {System.nanoTime()}));
            StartCopyResponse.Builder b = StartCopyResponse.newBuilder().setCopyId(id);
            files.forEach((name, size) -> b.addFiles(CopyFile.newBuilder().setName(name).setSize(size)));
            log.info("copy {} of shard {} made for another member: {} files, {}", id, shard, files.size(),
                    ShardedNode.bytesText(files.values().stream().mapToLong(Long::longValue).sum()));
            return b.build();
        } catch (IOException | RuntimeException e) {
            deleteQuietly(dir);
            if (e instanceof TxkvException t) {
                throw t;
            }
            throw new TxkvException(ErrorCode.IO_ERROR, "Cannot copy shard " + shard + "'s replica: " + e, e);
        }
    }

    /** Up to {@value #CHUNK_BYTES} bytes of one file of copy {@code id}, or ends the copy. */
    CopyChunkResponse chunk(String id, String name, long offset, boolean release) {
        Copy c = served.get(id);
        if (release) {
            if (c != null && served.remove(id, c)) {
                deleteQuietly(c.dir());
            }
            return CopyChunkResponse.getDefaultInstance();
        }
        if (c == null) {
            throw new TxkvException(ErrorCode.OPERATION_FAILED, "No replica copy " + id + " here (it ended, or expired"
                    + " after " + IDLE_MS / 1000 + " s unused); start another");
        }
        Long size = c.files().get(name);
        if (size == null) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Replica copy " + id + " has no file '" + name + "'");
        }
        if (offset < 0 || offset > size) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Offset " + offset + " is outside file " + name
                    + " of " + size + " bytes");
        }
        c.lastUseNanos()[0] = System.nanoTime();
        int n = (int) Math.min(CHUNK_BYTES, size - offset);
        ByteBuffer buf = ByteBuffer.allocate(n);
        try (FileChannel ch = FileChannel.open(c.dir().resolve(name), StandardOpenOption.READ)) {
            while (buf.hasRemaining()) {
                if (ch.read(buf, offset + buf.position()) < 0) {
                    break;
                }
            }
        } catch (IOException e) {
            throw new TxkvException(ErrorCode.IO_ERROR, "Cannot read " + name + " of replica copy " + id + ": " + e, e);
        }
        buf.flip();
        return CopyChunkResponse.newBuilder().setData(ByteString.copyFrom(buf)).build();
    }

    /** Deletes the copies nobody read for {@value #IDLE_MS} ms. */
    void expire() {
        long now = System.nanoTime();
        for (Map.Entry<String, Copy> e : served.entrySet()) {
            if (now - e.getValue().lastUseNanos()[0] > TimeUnit.MILLISECONDS.toNanos(IDLE_MS)
                    && served.remove(e.getKey(), e.getValue())) {
                log.info("replica copy {} expired unused; deleted", e.getKey());
                deleteQuietly(e.getValue().dir());
            }
        }
    }

    /**
     * Fetches a copy of shard {@code shard}'s replica from the member behind {@code stub} into
     * the new data directory {@code into} (which must not exist), file by file, synced to disk,
     * at most {@code bytesPerSecond} (0: as fast as it can).
     *
     * @return the bytes copied
     */
    static long fetch(ShardPeerGrpc.ShardPeerBlockingStub stub, int shard, Path into, long bytesPerSecond) {
        long startedNanos = System.nanoTime();
        StartCopyResponse started = stub.withDeadlineAfter(CALL_MS, TimeUnit.MILLISECONDS).startCopy(
                StartCopyRequest.newBuilder().setProtocolVersion(WireCommits.PROTOCOL_VERSION).setShard(shard).build());
        String id = started.getCopyId();
        long total = 0;
        try {
            DataDirectory.initialize(into);
            Path rocks = into.resolve("rocksdb");
            for (CopyFile f : started.getFilesList()) {
                String name = f.getName();
                if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.equals(".") || name.equals("..")) {
                    throw new TxkvException(ErrorCode.INTERNAL_ERROR, "A replica copy names a file '" + name + "'");
                }
                try (FileChannel out = FileChannel.open(rocks.resolve(name), StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE)) {
                    long offset = 0;
                    while (offset < f.getSize()) {
                        ByteString data = stub.withDeadlineAfter(CALL_MS, TimeUnit.MILLISECONDS).copyChunk(
                                CopyChunkRequest.newBuilder().setProtocolVersion(WireCommits.PROTOCOL_VERSION)
                                        .setCopyId(id).setName(name).setOffset(offset).build()).getData();
                        if (data.isEmpty()) {
                            throw new TxkvException(ErrorCode.IO_ERROR, "File " + name + " of a replica copy of shard "
                                    + shard + " ended at " + offset + " of " + f.getSize() + " bytes");
                        }
                        for (ByteBuffer b : data.asReadOnlyByteBufferList()) {
                            while (b.hasRemaining()) {
                                out.write(b);
                            }
                        }
                        offset += data.size();
                        pace(startedNanos, total + offset, bytesPerSecond);
                    }
                    out.force(true);
                    total += offset;
                }
            }
            return total;
        } catch (IOException e) {
            throw new TxkvException(ErrorCode.IO_ERROR, "Cannot write the replica copy of shard " + shard + " into " + into
                    + ": " + e, e);
        } finally {
            try {
                stub.withDeadlineAfter(CALL_MS, TimeUnit.MILLISECONDS).copyChunk(CopyChunkRequest.newBuilder()
                        .setProtocolVersion(WireCommits.PROTOCOL_VERSION).setCopyId(id).setRelease(true).build());
            } catch (RuntimeException e) {
                // The serving member deletes it once it expires.
            }
        }
    }

    /**
     * Waits until {@code bytes} are due at {@code bytesPerSecond} since {@code startedNanos}
     * (no wait when 0): a copy taken at a bounded rate takes that much less disk, network and
     * CPU from the traffic at any moment.
     */
    static void pace(long startedNanos, long bytes, long bytesPerSecond) {
        if (bytesPerSecond <= 0) {
            return;
        }
        long dueNanos = startedNanos + (long) (bytes * 1e9 / bytesPerSecond);
        long wait = dueNanos - System.nanoTime();
        if (wait > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(wait);
        }
    }

    static void deleteQuietly(Path p) {
        try {
            if (Files.exists(p)) {
                DataDirectory.deleteTree(p);
            }
        } catch (IOException e) {
            log.warn("cannot delete {}: {}", p, e.toString());
        }
    }

    @Override
    public void close() {
        for (String id : served.keySet()) {
            Copy c = served.remove(id);
            if (c != null) {
                deleteQuietly(c.dir());
            }
        }
    }
}
