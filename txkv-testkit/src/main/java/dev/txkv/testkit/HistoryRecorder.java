package dev.txkv.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Records operations as workers invoke and complete them. Thread-safe: every method takes one
 * lock, which is cheap next to a database round trip.
 *
 * <p>Optionally streams every event to a {@link Writer} in the {@link HistoryFormat} as it
 * happens (flushed per line), so that if this process is killed the history up to the kill can
 * still be read back: operations in flight then read as INFO.
 */
public final class HistoryRecorder implements AutoCloseable {
    private final LongSupplier nanoClock;
    private final Writer sink;
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<Long, Operation> pending = new LinkedHashMap<>();
    private final List<Operation> completed = new ArrayList<>();
    private long nextId;

    /** An in-memory recorder on {@link System#nanoTime()}. */
    public HistoryRecorder() {
        this(System::nanoTime, null);
    }

    /**
     * A recorder on {@code nanoClock} (monotonic; comparable across all workers of the history)
     * that also streams to {@code sinkOrNull} when not null. The recorder closes the sink.
     */
    public HistoryRecorder(LongSupplier nanoClock, Writer sinkOrNull) {
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        this.sink = sinkOrNull;
        emit(HistoryFormat.HEADER + "\n");
    }

    /** A recorder on {@link System#nanoTime()} that streams to {@code file} (created or replaced). */
    public static HistoryRecorder streamingTo(Path file) throws IOException {
        return new HistoryRecorder(System::nanoTime, Files.newBufferedWriter(file, StandardCharsets.UTF_8));
    }

    /** Adds a metadata entry (e.g. workload parameters) that checkers may read. */
    public synchronized void putMetadata(String key, String value) {
        metadata.put(HistoryFormat.clean(key), HistoryFormat.clean(value));
        emit(HistoryFormat.metaLine(key, value));
    }

    /**
     * Records that {@code process} begins an attempt that plans {@code planned} (reads with
     * unknown results); returns the operation id to pass to {@link #complete}.
     */
    public synchronized long invoke(int process, List<MicroOp> planned) {
        long id = nextId++;
        long now = nanoClock.getAsLong();
        Operation op = new Operation(id, process, OpType.INFO, now, Operation.NEVER, planned, null);
        pending.put(id, op);
        emit(HistoryFormat.invokeLine(id, process, now, op.ops()));
        return id;
    }

    /** Records how operation {@code id} ended, with its observed micro-operations. */
    public synchronized Operation complete(long id, OpType type, List<MicroOp> observed, String errorOrNull) {
        Operation invoked = pending.remove(id);
        if (invoked == null) {
            throw new IllegalStateException("Operation " + id + " is not in flight");
        }
        long now = Math.max(nanoClock.getAsLong(), invoked.invokeNanos());
        Operation op = new Operation(id, invoked.process(), type, invoked.invokeNanos(), now, observed, errorOrNull);
        completed.add(op);
        emit(HistoryFormat.completeLine(op));
        return op;
    }

    /** Number of operations invoked and not yet completed. */
    public synchronized int inFlight() {
        return pending.size();
    }

    /** The history so far; operations still in flight appear as INFO that never completed. */
    public synchronized History history() {
        List<Operation> all = new ArrayList<>(completed);
        all.addAll(pending.values());
        return new History(all, metadata);
    }

    /** Closes the sink, if any. */
    @Override
    public synchronized void close() {
        if (sink != null) {
            try {
                sink.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private void emit(String line) {
        if (sink == null) {
            return;
        }
        try {
            sink.write(line);
            sink.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot stream the history", e);
        }
    }
}
