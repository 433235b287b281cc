package dev.txkv.saga;

/** Where a saga stands. RUNNING and COMPENSATING sagas are picked up by runners; the others are final. */
public enum SagaStatus {
    /** Steps are being executed in order. */
    RUNNING,
    /** A step failed for good; completed steps are being compensated in reverse order. */
    COMPENSATING,
    /** Every step succeeded. */
    COMPLETED,
    /** A step failed and compensation finished, or a compensation itself failed for good (see {@link Saga#failure()}). */
    FAILED
}
