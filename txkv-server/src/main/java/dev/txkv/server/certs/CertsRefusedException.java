package dev.txkv.server.certs;

/**
 * Thrown when {@link DevCertificates} refuses to do what it was asked: a file it would write
 * already exists and overwriting was not asked for, the directory holds no CA, or the CA's
 * private key file is readable by group or others. Nothing failed and nothing was changed;
 * the message says what to do instead. {@code txkv certs} exits with 2 on it.
 */
public final class CertsRefusedException extends Exception {
    /** A refusal with a message for the user that names the file concerned. */
    public CertsRefusedException(String message) {
        super(message);
    }
}
