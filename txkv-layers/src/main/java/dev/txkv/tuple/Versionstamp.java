package dev.txkv.tuple;

import dev.txkv.ByteArrays;
import java.util.Arrays;
import java.util.Objects;

/**
 * A 12-byte versionstamp as stored by the tuple layer (type code 0x33): the 10-byte
 * transaction version that the database assigns at commit, followed by a 2-byte big-endian
 * user version that orders several stamps written by one transaction.
 *
 * <pre>
 * offset  0                                   10        12
 *         +-----------------------------------+---------+
 *         | transaction version (big-endian)  | user    |
 *         | 8 bytes commit version + 2 batch  | version |
 *         +-----------------------------------+---------+
 * </pre>
 *
 * <p>An <em>incomplete</em> versionstamp has ten 0xFF bytes as its transaction version; the
 * {@code SET_VERSIONSTAMPED_KEY}/{@code SET_VERSIONSTAMPED_VALUE} mutations overwrite them
 * at commit (see {@link Tuple#packWithVersionstamp()}). Because that marker is reserved, a
 * complete versionstamp may not have ten 0xFF bytes as its transaction version. Immutable.
 */
public final class Versionstamp implements Comparable<Versionstamp> {
    /** Length of a tuple-layer versionstamp in bytes. */
    public static final int LENGTH = 12;
    /** Length of the transaction version that the database fills in at commit. */
    public static final int TRANSACTION_VERSION_LENGTH = 10;
    /** Largest user version: it is stored in two unsigned bytes. */
    public static final int USER_VERSION_MAX = 0xFFFF;

    private final byte[] bytes;
    private final boolean complete;

    private Versionstamp(byte[] bytes, boolean complete) {
        this.bytes = bytes;
        this.complete = complete;
    }

    /**
     * The versionstamp stored in {@code bytes} (exactly 12). A transaction version of ten
     * 0xFF bytes yields an incomplete versionstamp, as FoundationDB's bindings do.
     */
    public static Versionstamp fromBytes(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        if (bytes.length != LENGTH) {
            throw new IllegalArgumentException("A versionstamp has " + LENGTH + " bytes, got " + bytes.length);
        }
        return new Versionstamp(bytes.clone(), !isIncompleteMarker(bytes));
    }

    /** A complete versionstamp with user version 0. */
    public static Versionstamp complete(byte[] transactionVersion) {
        return complete(transactionVersion, 0);
    }

    /** A complete versionstamp from a 10-byte transaction version and a user version (0 to 65535). */
    public static Versionstamp complete(byte[] transactionVersion, int userVersion) {
        Objects.requireNonNull(transactionVersion, "transactionVersion");
        if (transactionVersion.length != TRANSACTION_VERSION_LENGTH) {
            throw new IllegalArgumentException("A transaction version has " + TRANSACTION_VERSION_LENGTH
                    + " bytes, got " + transactionVersion.length);
        }
        // Allowing the marker here would make a "complete" stamp that decodes as incomplete.
        if (isIncompleteMarker(transactionVersion)) {
            throw new IllegalArgumentException("Ten 0xFF bytes mark an incomplete versionstamp; use incomplete()");
        }
        return new Versionstamp(withUserVersion(transactionVersion, userVersion), true);
    }

    /** An incomplete versionstamp with user version 0. */
    public static Versionstamp incomplete() {
        return incomplete(0);
    }

    /** An incomplete versionstamp, to be completed at commit, with a user version (0 to 65535). */
    public static Versionstamp incomplete(int userVersion) {
        byte[] marker = new byte[TRANSACTION_VERSION_LENGTH];
        Arrays.fill(marker, (byte) 0xFF);
        return new Versionstamp(withUserVersion(marker, userVersion), false);
    }

    private static byte[] withUserVersion(byte[] transactionVersion, int userVersion) {
        if (userVersion < 0 || userVersion > USER_VERSION_MAX) {
            throw new IllegalArgumentException("User version must be 0 to " + USER_VERSION_MAX + ", got " + userVersion);
        }
        byte[] r = Arrays.copyOf(transactionVersion, LENGTH);
        r[TRANSACTION_VERSION_LENGTH] = (byte) (userVersion >>> 8);
        r[TRANSACTION_VERSION_LENGTH + 1] = (byte) userVersion;
        return r;
    }

    private static boolean isIncompleteMarker(byte[] bytes) {
        for (int i = 0; i < TRANSACTION_VERSION_LENGTH; i++) {
            if (bytes[i] != (byte) 0xFF) {
                return false;
            }
        }
        return true;
    }

    /** False until the database has filled in the transaction version. */
    public boolean isComplete() {
        return complete;
    }

    /** All 12 bytes (a copy). */
    public byte[] getBytes() {
        return bytes.clone();
    }

    /** The 10-byte transaction version (a copy); ten 0xFF bytes when incomplete. */
    public byte[] getTransactionVersion() {
        return Arrays.copyOf(bytes, TRANSACTION_VERSION_LENGTH);
    }

    /** The user version, 0 to 65535. */
    public int getUserVersion() {
        return ((bytes[TRANSACTION_VERSION_LENGTH] & 0xFF) << 8) | (bytes[TRANSACTION_VERSION_LENGTH + 1] & 0xFF);
    }

    /** Writes the 12 bytes into {@code dest} at {@code offset}; avoids a copy when encoding. */
    void copyTo(byte[] dest, int offset) {
        System.arraycopy(bytes, 0, dest, offset, LENGTH);
    }

    /**
     * Unsigned byte order. Since complete stamps never carry the 0xFF marker, an incomplete
     * stamp sorts after every complete one, as in FoundationDB.
     */
    @Override
    public int compareTo(Versionstamp other) {
        return Arrays.compareUnsigned(bytes, other.bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Versionstamp && Arrays.equals(bytes, ((Versionstamp) o).bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        if (complete) {
            return "Versionstamp(" + ByteArrays.printable(getTransactionVersion()) + " " + getUserVersion() + ")";
        }
        return "Versionstamp(<incomplete> " + getUserVersion() + ")";
    }
}
