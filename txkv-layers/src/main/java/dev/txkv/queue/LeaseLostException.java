package dev.txkv.queue;

/**
 * The lease given to ack, nack or extend no longer holds its item: it expired and another
 * consumer took the item, or the item was already acked or rejected under it.
 */
public final class LeaseLostException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An exception with a message naming the lost lease. */
    public LeaseLostException(String message) {
        super(message);
    }
}
