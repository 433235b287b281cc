package dev.txkv.saga;

/** Thrown by a step's action when retrying cannot help (e.g. a payment was declined): compensation starts at once. */
public class PermanentStepFailure extends Exception {
    private static final long serialVersionUID = 1L;

    /** A permanent failure explained by {@code message}. */
    public PermanentStepFailure(String message) {
        super(message);
    }
}
