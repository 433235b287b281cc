package dev.txkv.subspace;

import dev.txkv.ByteArrays;
import dev.txkv.Range;
import dev.txkv.tuple.Tuple;
import java.util.Arrays;
import java.util.Objects;

/**
 * A part of the key space: every key that begins with one raw prefix, typically itself a
 * packed tuple. Keys inside are that prefix followed by a packed tuple, so a subspace keeps an
 * application's keys together and in tuple order, as FoundationDB's {@code Subspace} does.
 * Immutable and thread-safe.
 */
public class Subspace {
    private static final Tuple EMPTY_TUPLE = new Tuple();

    private final byte[] rawPrefix;

    /** The whole key space: the empty prefix. */
    public Subspace() {
        this(EMPTY_TUPLE, ByteArrays.EMPTY);
    }

    /** The subspace whose prefix is {@code prefix} packed. */
    public Subspace(Tuple prefix) {
        this(prefix, ByteArrays.EMPTY);
    }

    /** The subspace whose prefix is the raw bytes {@code rawPrefix}. */
    public Subspace(byte[] rawPrefix) {
        this(EMPTY_TUPLE, rawPrefix);
    }

    /** The subspace whose prefix is {@code rawPrefix} followed by {@code prefix} packed. */
    public Subspace(Tuple prefix, byte[] rawPrefix) {
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(rawPrefix, "rawPrefix");
        this.rawPrefix = prefix.pack(rawPrefix);
    }

    /** The subspace of keys that continue with {@code item} (one tuple element). */
    public Subspace get(Object item) {
        return get(Tuple.from(item));
    }

    /** The subspace of keys that continue with the elements of {@code tuple}. */
    public Subspace get(Tuple tuple) {
        return subspace(tuple);
    }

    /** The subspace of keys that continue with the elements of {@code tuple}. */
    public Subspace subspace(Tuple tuple) {
        return new Subspace(tuple, rawPrefix);
    }

    /** The prefix of this subspace (a copy). */
    public byte[] getKey() {
        return rawPrefix.clone();
    }

    /** The prefix of this subspace (a copy): the key of the empty tuple. */
    public byte[] pack() {
        return rawPrefix.clone();
    }

    /** The key of the one-element tuple {@code item} in this subspace. */
    public byte[] pack(Object item) {
        return pack(Tuple.from(item));
    }

    /** The key of {@code tuple} in this subspace: the prefix followed by the packed tuple. */
    public byte[] pack(Tuple tuple) {
        return tuple.pack(rawPrefix);
    }

    /**
     * The key of {@code tuple}, which holds one incomplete versionstamp, followed by the
     * 4-byte little-endian offset of that stamp (counting the prefix), ready for
     * {@code SET_VERSIONSTAMPED_KEY}.
     */
    public byte[] packWithVersionstamp(Tuple tuple) {
        return tuple.packWithVersionstamp(rawPrefix);
    }

    /**
     * The tuple that {@code key} encodes after this subspace's prefix. Throws
     * {@link IllegalArgumentException} if the key is not in this subspace or is not a tuple.
     */
    public Tuple unpack(byte[] key) {
        if (!contains(key)) {
            throw new IllegalArgumentException("Key " + ByteArrays.printable(key) + " is not in " + this);
        }
        return Tuple.fromBytes(key, rawPrefix.length, key.length - rawPrefix.length);
    }

    /**
     * The keys of every non-empty tuple in this subspace: {@code [prefix + 0x00, prefix + 0xFF)}.
     * The prefix itself is outside this range, as in FoundationDB.
     */
    public Range range() {
        return range(EMPTY_TUPLE);
    }

    /** The keys of every tuple in this subspace that extends {@code tuple} by at least one element. */
    public Range range(Tuple tuple) {
        return tuple.range(rawPrefix);
    }

    /** True when {@code key} begins with this subspace's prefix (the prefix itself included). */
    public boolean contains(byte[] key) {
        return ByteArrays.startsWith(key, rawPrefix);
    }

    /** Equal when the other object is a {@code Subspace} of the same class with the same prefix. */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (o == null || getClass() != o.getClass()) {
            return false;
        }
        return Arrays.equals(rawPrefix, ((Subspace) o).rawPrefix);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(rawPrefix);
    }

    @Override
    public String toString() {
        return "Subspace(rawPrefix=" + ByteArrays.printable(rawPrefix) + ")";
    }
}
