package dev.txkv;

/**
 * Atomic mutations, with FoundationDB's names, codes and semantics. None adds a read conflict:
 * the operation is applied to whatever value the key holds at commit time.
 */
public enum MutationType {
    /** Little-endian integer addition; the shorter operand is zero-extended, the result has the parameter's length. */
    ADD(2),
    /** Bitwise AND; an absent key becomes the parameter (FoundationDB 6.0+ semantics). */
    BIT_AND(6),
    /** Bitwise OR. */
    BIT_OR(7),
    /** Bitwise XOR. */
    BIT_XOR(8),
    /** Appends the parameter if the result stays within the value size limit; otherwise leaves the value unchanged. */
    APPEND_IF_FITS(9),
    /** Larger of the two as little-endian unsigned integers. */
    MAX(12),
    /** Smaller of the two as little-endian unsigned integers; an absent key becomes the parameter. */
    MIN(13),
    /** Sets a key containing the commit's 10-byte versionstamp at the offset given by the key's last 4 bytes (little-endian). */
    SET_VERSIONSTAMPED_KEY(14),
    /** Sets a value containing the commit's 10-byte versionstamp at the offset given by the value's last 4 bytes (little-endian). */
    SET_VERSIONSTAMPED_VALUE(15),
    /** Lexicographically smaller of the two byte strings; an absent key becomes the parameter. */
    BYTE_MIN(16),
    /** Lexicographically larger of the two byte strings. */
    BYTE_MAX(17),
    /** Clears the key if its value equals the parameter. */
    COMPARE_AND_CLEAR(20);

    private final int code;

    MutationType(int code) {
        this.code = code;
    }

    /** FoundationDB's numeric code for this mutation. */
    public int code() {
        return code;
    }

    /** The mutation with FoundationDB code {@code code}. */
    public static MutationType ofCode(int code) {
        for (MutationType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        throw new TxkvException(ErrorCode.INVALID_MUTATION_TYPE, "Unknown mutation type code " + code);
    }
}
