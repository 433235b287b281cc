package dev.txkv.testkit;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An immutable recorded history: operations ordered by id (invocation order) and free-form
 * metadata that makes a history self-describing for a checker run in another process (the
 * workload, its parameters).
 */
public final class History {
    private final List<Operation> operations;
    private final Map<String, String> metadata;

    /** A history of {@code operations} (any order; ids must be unique) and {@code metadata}. */
    public History(List<Operation> operations, Map<String, String> metadata) {
        List<Operation> sorted = new ArrayList<>(operations);
        sorted.sort(Comparator.comparingLong(Operation::id));
        Set<Long> ids = new HashSet<>();
        for (Operation op : sorted) {
            if (!ids.add(op.id())) {
                throw new IllegalArgumentException("Duplicate operation id " + op.id());
            }
        }
        this.operations = List.copyOf(sorted);
        this.metadata = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** A history without metadata. */
    public History(List<Operation> operations) {
        this(operations, Map.of());
    }

    /** The operations in id order. */
    public List<Operation> operations() {
        return operations;
    }

    /** The metadata, in insertion order. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Number of operations of type {@code type}. */
    public long count(OpType type) {
        return operations.stream().filter(op -> op.type() == type).count();
    }

    /** Writes this history in the text format of {@link HistoryFormat}. */
    public void writeTo(Writer out) throws IOException {
        HistoryFormat.write(this, out);
    }

    /** Writes this history to {@code file}, replacing it. */
    public void writeTo(Path file) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            writeTo(w);
        }
    }

    /** Reads a history written by {@link #writeTo(Writer)} or streamed by a {@link HistoryRecorder}. */
    public static History readFrom(Reader in) throws IOException {
        return HistoryFormat.read(in);
    }

    /** Reads a history file; tolerates a last line cut short by a crash. */
    public static History readFrom(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return readFrom(r);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof History && operations.equals(((History) o).operations)
                && metadata.equals(((History) o).metadata);
    }

    @Override
    public int hashCode() {
        return operations.hashCode() * 31 + metadata.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("History").append(metadata).append('\n');
        for (Operation op : operations) {
            sb.append("  ").append(op).append('\n');
        }
        return sb.toString();
    }
}
