package dev.txkv.server.tls;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;

/** Small helpers for audit lines: a string as JSON, a certificate's fingerprint. */
final class Audit {
    private Audit() {
    }

    /** {@code s} as the inside of a JSON string (Gson escapes it). */
    static String json(String s) {
        String quoted = new com.google.gson.JsonPrimitive(s).toString();
        return quoted.substring(1, quoted.length() - 1);
    }

    /** The certificate's SHA-256 fingerprint in hex. */
    static String fingerprint(X509Certificate c) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            return "unknown";
        }
    }
}
