package dev.txkv;

/**
 * How eagerly a range read fetches rows, as in FoundationDB. Results are the same in every
 * mode; only the size of the batches fetched from the database differs.
 */
public enum StreamingMode {
    /** Fetch the whole range (up to the limit) at once. */
    WANT_ALL(0),
    /** Start with small batches and grow them as the caller keeps iterating. The default. */
    ITERATOR(-1),
    /** Fetch exactly the limit in one batch; a limit is required. */
    EXACT(1),
    /** Small batches. */
    SMALL(2),
    /** Medium batches. */
    MEDIUM(3),
    /** Large batches. */
    LARGE(4),
    /** Batches as large as possible, for a caller that will read everything. */
    SERIAL(5);

    private final int code;

    StreamingMode(int code) {
        this.code = code;
    }

    /** FoundationDB's numeric code for this mode. */
    public int code() {
        return code;
    }
}
