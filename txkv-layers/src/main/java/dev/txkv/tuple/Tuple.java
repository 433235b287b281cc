package dev.txkv.tuple;

import dev.txkv.ByteArrays;
import dev.txkv.Range;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * An ordered list of typed elements with an order-preserving binary encoding, byte for byte
 * FoundationDB's tuple layer: keys packed from tuples sort, as unsigned bytes, exactly as the
 * tuples sort by {@link #compareTo(Tuple)}. Immutable and thread-safe.
 *
 * <p>Element types: {@code null}, {@code byte[]}, {@link String}, integers ({@link Long},
 * {@link Integer}, {@link Short}, {@link Byte} and {@link BigInteger} up to 255 bytes of
 * magnitude), {@link Float}, {@link Double}, {@link Boolean}, {@link UUID},
 * {@link Versionstamp}, and nested tuples (given as {@code Tuple} or {@link List}).
 *
 * <p>Elements are stored in one canonical form so that a tuple equals its own round trip
 * through {@link #pack()} and {@link #fromBytes(byte[])}: every integer in the range of a
 * {@code long} is held as a {@link Long}, larger ones as {@link BigInteger}, and every nested
 * list as a {@code Tuple} (so {@link #get(int)} returns a {@code Tuple} for a nested element;
 * {@link #getNestedList(int)} gives a list). Byte arrays are copied in and out.
 *
 * <p>Layout of the encoding: see docs/layers.md and the table in the codec ({@code TypeCodes}).
 */
public final class Tuple implements Comparable<Tuple>, Iterable<Object> {
    private static final Tuple EMPTY = new Tuple(List.of(), false, 0);

    private final List<Object> elements;
    private final boolean incompleteVersionstamp;
    private final int nestingDepth;
    // Racy but safe, as String.hashCode: an int is written atomically and recomputes the same.
    private int hash;

    private Tuple(List<Object> elements, boolean incompleteVersionstamp, int nestingDepth) {
        this.elements = elements;
        this.incompleteVersionstamp = incompleteVersionstamp;
        this.nestingDepth = nestingDepth;
    }

    /** An empty tuple, as {@code Tuple.from()}. */
    public Tuple() {
        this(List.of(), false, 0);
    }

    /** A tuple holding {@code items} in order. */
    public static Tuple from(Object... items) {
        return items.length == 0 ? EMPTY : fromList(Arrays.asList(items));
    }

    /** A tuple holding the elements of {@code items} in order. */
    public static Tuple fromList(List<?> items) {
        List<Object> normalized = new ArrayList<>(items.size());
        for (Object item : items) {
            normalized.add(normalize(item));
        }
        return ofNormalized(normalized);
    }

    /** A tuple holding the elements of {@code items} in iteration order. */
    public static Tuple fromItems(Iterable<?> items) {
        List<Object> list = new ArrayList<>();
        for (Object item : items) {
            list.add(item);
        }
        return fromList(list);
    }

    /** A tuple holding the elements of {@code items} in encounter order. */
    public static Tuple fromStream(Stream<?> items) {
        return fromList(items.collect(Collectors.toList()));
    }

    /**
     * Decodes a packed tuple. Throws {@link IllegalArgumentException} for bytes that are not
     * the canonical encoding of a tuple (unknown type code, truncation, missing terminator,
     * invalid UTF-8, integers with redundant bytes).
     */
    public static Tuple fromBytes(byte[] bytes) {
        return fromBytes(bytes, 0, bytes.length);
    }

    /** Decodes the packed tuple in {@code bytes[offset, offset + length)}; see {@link #fromBytes(byte[])}. */
    public static Tuple fromBytes(byte[] bytes, int offset, int length) {
        Objects.requireNonNull(bytes, "bytes");
        if (offset < 0 || length < 0 || offset > bytes.length - length) {
            throw new IllegalArgumentException("Range [" + offset + ", " + offset + "+" + length
                    + ") lies outside an array of " + bytes.length + " bytes");
        }
        return ofNormalized(TupleDecoder.decode(bytes, offset, length));
    }

    /** Builds a tuple from elements that are already in canonical form. */
    static Tuple ofNormalized(List<Object> normalized) {
        boolean incomplete = false;
        int depth = 0;
        for (Object o : normalized) {
            if (o instanceof Tuple) {
                Tuple t = (Tuple) o;
                incomplete |= t.incompleteVersionstamp;
                depth = Math.max(depth, t.nestingDepth + 1);
            } else if (o instanceof Versionstamp) {
                incomplete |= !((Versionstamp) o).isComplete();
            }
        }
        if (depth > TypeCodes.NESTING_DEPTH_MAX) {
            throw new IllegalArgumentException("Tuples nest at most " + TypeCodes.NESTING_DEPTH_MAX + " deep");
        }
        return new Tuple(Collections.unmodifiableList(normalized), incomplete, depth);
    }

    private static Object normalize(Object o) {
        if (o == null || o instanceof Long || o instanceof Float || o instanceof Double || o instanceof Boolean
                || o instanceof UUID || o instanceof Versionstamp || o instanceof Tuple) {
            return o;
        } else if (o instanceof byte[]) {
            return ((byte[]) o).clone();
        } else if (o instanceof String) {
            return checkWellFormed((String) o);
        } else if (o instanceof Integer || o instanceof Short || o instanceof Byte) {
            return ((Number) o).longValue();
        } else if (o instanceof BigInteger) {
            return normalize((BigInteger) o);
        } else if (o instanceof List<?>) {
            return fromList((List<?>) o);
        }
        throw new IllegalArgumentException("Unsupported tuple element type " + o.getClass().getName());
    }

    private static Object normalize(BigInteger i) {
        if (i.bitLength() < Long.SIZE) {
            return i.longValue();
        }
        if (i.abs().bitLength() > 8 * TypeCodes.INT_BIG_BYTES_MAX) {
            throw new IllegalArgumentException("Integer magnitude exceeds " + TypeCodes.INT_BIG_BYTES_MAX + " bytes");
        }
        return i;
    }

    /** Refuses unpaired surrogates, which UTF-8 cannot carry and Java would silently replace with '?'. */
    private static String checkWellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    throw new IllegalArgumentException("String has a high surrogate without a low one at index " + i);
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                throw new IllegalArgumentException("String has a low surrogate without a high one at index " + i);
            }
        }
        return s;
    }

    private Tuple with(Object normalized) {
        List<Object> list = new ArrayList<>(elements.size() + 1);
        list.addAll(elements);
        list.add(normalized);
        return ofNormalized(list);
    }

    /** This tuple followed by {@code o}, which may be of any supported element type or null. */
    public Tuple add(Object o) {
        return with(normalize(o));
    }

    /** The same as {@link #add(Object)}, under FoundationDB's name. */
    public Tuple addObject(Object o) {
        return add(o);
    }

    /** This tuple followed by a string (null adds a null element). */
    public Tuple add(String s) {
        return with(s == null ? null : checkWellFormed(s));
    }

    /** This tuple followed by an integer. */
    public Tuple add(long l) {
        return with(l);
    }

    /** This tuple followed by a byte string (copied; null adds a null element). */
    public Tuple add(byte[] b) {
        return with(b == null ? null : b.clone());
    }

    /** This tuple followed by {@code b[offset, offset + length)} as a byte string. */
    public Tuple add(byte[] b, int offset, int length) {
        return with(Arrays.copyOfRange(b, offset, offset + length));
    }

    /** This tuple followed by a boolean. */
    public Tuple add(boolean b) {
        return with(b);
    }

    /** This tuple followed by a UUID (null adds a null element). */
    public Tuple add(UUID uuid) {
        return with(uuid);
    }

    /** This tuple followed by an integer of up to 255 bytes of magnitude; numbers cannot be null. */
    public Tuple add(BigInteger bi) {
        return with(normalize(Objects.requireNonNull(bi, "Number elements cannot be null; add null with add((Object) null)")));
    }

    /** This tuple followed by a 32-bit float (a type distinct from double). */
    public Tuple add(float f) {
        return with(f);
    }

    /** This tuple followed by a 64-bit double. */
    public Tuple add(double d) {
        return with(d);
    }

    /** This tuple followed by a versionstamp, complete or not (null adds a null element). */
    public Tuple add(Versionstamp v) {
        return with(v);
    }

    /** This tuple followed by {@code t} as one nested element (null adds a null element). */
    public Tuple add(Tuple t) {
        return with(t);
    }

    /** This tuple followed by {@code l} as one nested element (null adds a null element). */
    public Tuple add(List<?> l) {
        return with(l == null ? null : fromList(l));
    }

    /** This tuple followed by each element of {@code items}. */
    public Tuple addAll(List<?> items) {
        return addAll(fromList(items));
    }

    /** This tuple followed by each element of {@code other}. */
    public Tuple addAll(Tuple other) {
        List<Object> list = new ArrayList<>(elements.size() + other.elements.size());
        list.addAll(elements);
        list.addAll(other.elements);
        return ofNormalized(list);
    }

    /** The encoded tuple. Throws {@link IllegalArgumentException} if it holds an incomplete versionstamp. */
    public byte[] pack() {
        return TupleEncoder.encode(elements, null, TupleEncoder.Mode.PLAIN);
    }

    /** {@code prefix} followed by the encoded tuple; see {@link #pack()}. */
    public byte[] pack(byte[] prefix) {
        return TupleEncoder.encode(elements, prefix, TupleEncoder.Mode.PLAIN);
    }

    /**
     * The encoded tuple followed by the 4-byte little-endian offset of its one incomplete
     * versionstamp, the form {@code SET_VERSIONSTAMPED_KEY} expects (FoundationDB API version
     * 520 and later). Throws {@link IllegalArgumentException} unless the tuple holds exactly
     * one incomplete versionstamp (nested ones count).
     */
    public byte[] packWithVersionstamp() {
        return packWithVersionstamp(null);
    }

    /** As {@link #packWithVersionstamp()} after {@code prefix}; the offset counts the prefix. */
    public byte[] packWithVersionstamp(byte[] prefix) {
        return TupleEncoder.encode(elements, prefix, TupleEncoder.Mode.VERSIONSTAMP);
    }

    /** True when some element, at any nesting depth, is an incomplete versionstamp. */
    public boolean hasIncompleteVersionstamp() {
        return incompleteVersionstamp;
    }

    /**
     * The keys of every tuple that has this one as a proper prefix: {@code [pack() + 0x00,
     * pack() + 0xFF)}. The packed tuple itself is not in the range.
     */
    public Range range() {
        return range(null);
    }

    /** As {@link #range()} with {@code prefix} before the packed tuple. */
    public Range range(byte[] prefix) {
        byte[] packed = pack(prefix);
        return new Range(ByteArrays.concat(packed, new byte[] {0x00}), ByteArrays.concat(packed, new byte[] {(byte) 0xFF}));
    }

    /** The number of elements. */
    public int size() {
        return elements.size();
    }

    /** True when the tuple has no elements. */
    public boolean isEmpty() {
        return elements.isEmpty();
    }

    /** Element {@code index} (byte arrays are copies; nested elements are tuples). */
    public Object get(int index) {
        return copyOut(elements.get(index));
    }

    /** Element {@code index} as a string; null for a null element. */
    public String getString(int index) {
        return cast(index, String.class, "a string");
    }

    /** Element {@code index} as a byte string (a copy); null for a null element. */
    public byte[] getBytes(int index) {
        byte[] b = cast(index, byte[].class, "a byte string");
        return b == null ? null : b.clone();
    }

    /**
     * Element {@code index}, an integer, as a long. Throws {@link ArithmeticException} for an
     * integer beyond the long range rather than truncate it.
     */
    public long getLong(int index) {
        Object o = nonNull(index, "an integer");
        if (o instanceof Long) {
            return (Long) o;
        }
        if (o instanceof BigInteger) {
            return ((BigInteger) o).longValueExact();
        }
        throw wrongType(index, o, "an integer");
    }

    /** Element {@code index}, an integer, as a BigInteger. */
    public BigInteger getBigInteger(int index) {
        Object o = nonNull(index, "an integer");
        if (o instanceof Long) {
            return BigInteger.valueOf((Long) o);
        }
        if (o instanceof BigInteger) {
            return (BigInteger) o;
        }
        throw wrongType(index, o, "an integer");
    }

    /** Element {@code index}, a number, as a float (converting as {@link Number#floatValue()} does). */
    public float getFloat(int index) {
        return number(index).floatValue();
    }

    /** Element {@code index}, a number, as a double (converting as {@link Number#doubleValue()} does). */
    public double getDouble(int index) {
        return number(index).doubleValue();
    }

    /** Element {@code index} as a boolean; a null element throws {@link NullPointerException}. */
    public boolean getBoolean(int index) {
        Object o = nonNull(index, "a boolean");
        if (o instanceof Boolean) {
            return (Boolean) o;
        }
        throw wrongType(index, o, "a boolean");
    }

    /** Element {@code index} as a UUID; null for a null element. */
    public UUID getUUID(int index) {
        return cast(index, UUID.class, "a UUID");
    }

    /** Element {@code index} as a versionstamp; null for a null element. */
    public Versionstamp getVersionstamp(int index) {
        return cast(index, Versionstamp.class, "a versionstamp");
    }

    /** Element {@code index}, a nested tuple; null for a null element. */
    public Tuple getNestedTuple(int index) {
        return cast(index, Tuple.class, "a nested tuple");
    }

    /** Element {@code index}, a nested tuple, as a new list of its elements; null for a null element. */
    public List<Object> getNestedList(int index) {
        Tuple t = getNestedTuple(index);
        return t == null ? null : t.getItems();
    }

    /** A new, modifiable list of the elements (byte arrays copied). */
    public List<Object> getItems() {
        List<Object> items = new ArrayList<>(elements.size());
        for (Object o : elements) {
            items.add(copyOut(o));
        }
        return items;
    }

    /** The elements as a stream (byte arrays copied). */
    public Stream<Object> stream() {
        return elements.stream().map(Tuple::copyOut);
    }

    /** Iterates over the elements (byte arrays copied); removal is not supported. */
    @Override
    public Iterator<Object> iterator() {
        return stream().iterator();
    }

    /** This tuple without its first element. Throws {@link IllegalStateException} if empty. */
    public Tuple popFront() {
        if (elements.isEmpty()) {
            throw new IllegalStateException("The tuple has no elements");
        }
        return ofNormalized(new ArrayList<>(elements.subList(1, elements.size())));
    }

    /** This tuple without its last element. Throws {@link IllegalStateException} if empty. */
    public Tuple popBack() {
        if (elements.isEmpty()) {
            throw new IllegalStateException("The tuple has no elements");
        }
        return ofNormalized(new ArrayList<>(elements.subList(0, elements.size() - 1)));
    }

    /** The canonical elements, shared; for the codec and the order only. */
    List<Object> elements() {
        return elements;
    }

    /**
     * The order of the packed bytes: by type code first (all integers together), then by
     * value, shorter prefix first. Floats order by IEEE total order with NaNs at the ends.
     */
    @Override
    public int compareTo(Tuple other) {
        return TupleOrder.compare(elements, other.elements);
    }

    /** Equal when {@link #compareTo(Tuple)} is 0, that is when both pack to the same bytes. */
    @Override
    public boolean equals(Object o) {
        return o == this || (o instanceof Tuple && compareTo((Tuple) o) == 0);
    }

    @Override
    public int hashCode() {
        int h = hash;
        if (h == 0) {
            h = Arrays.hashCode(TupleEncoder.encode(elements, null, TupleEncoder.Mode.LENIENT));
            hash = h;
        }
        return h;
    }

    /** FoundationDB's notation, e.g. {@code ("a", b"\x00b", 3, (null, true))}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < elements.size(); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            Object o = elements.get(i);
            if (o instanceof String) {
                sb.append('"').append(o).append('"');
            } else if (o instanceof byte[]) {
                sb.append("b\"").append(ByteArrays.printable((byte[]) o)).append('"');
            } else {
                sb.append(o);
            }
        }
        return sb.append(')').toString();
    }

    private static Object copyOut(Object o) {
        return o instanceof byte[] ? ((byte[]) o).clone() : o;
    }

    private <T> T cast(int index, Class<T> type, String what) {
        Object o = elements.get(index);
        if (o == null || type.isInstance(o)) {
            return type.cast(o);
        }
        throw wrongType(index, o, what);
    }

    private Object nonNull(int index, String what) {
        Object o = elements.get(index);
        if (o == null) {
            throw new NullPointerException("Element " + index + " is null, not " + what);
        }
        return o;
    }

    private Number number(int index) {
        Object o = nonNull(index, "a number");
        if (o instanceof Number) {
            return (Number) o;
        }
        throw wrongType(index, o, "a number");
    }

    private static ClassCastException wrongType(int index, Object o, String what) {
        return new ClassCastException("Element " + index + " is a " + o.getClass().getSimpleName() + ", not " + what);
    }
}
