package dev.txkv.lease;

/**
 * A transaction checked a fencing token that is no longer current: the lease was acquired
 * again (a newer token exists), released, or has expired. The transaction must not commit;
 * the caller has lost the lease.
 */
public final class FencingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An exception explaining why the token is stale. */
    public FencingException(String message) {
        super(message);
    }
}
