package dev.txkv.server.tls;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A certificate, its key and a CA from PEM files, loaded into key and trust managers that every
 * transport of a server shares (gRPC, the HTTP gateway, the Raft port, calls to other servers),
 * and reloaded when the files change: a server rotates its certificate or CA without a restart.
 * A file that fails to load keeps the material in use and logs an error; the next change is
 * tried again.
 *
 * <p>Implementation notes. grpc-util's {@link AdvancedTlsX509KeyManager} and
 * {@link AdvancedTlsX509TrustManager} hold the material and swap it atomically; this class
 * decides when (the files' modification times, checked every {@code reloadMs}) and reports
 * failures through SLF4J and the audit logger. Connections already open keep the certificate
 * they were made with; new ones get the new one.
 */
public final class TlsMaterial implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TlsMaterial.class);

    /** The only protocols served or spoken. */
    public static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final String name;
    private final Path cert;
    private final Path key;
    private final Path ca;
    private final AdvancedTlsX509KeyManager keyManager = new AdvancedTlsX509KeyManager();
    private final AdvancedTlsX509TrustManager trustManager;
    private long loadedStamp;
    private final java.util.concurrent.ScheduledFuture<?> reloads;

    /**
     * Loads {@code cert} (PEM, the chain from this server's certificate up) and {@code key}
     * (PEM, PKCS#8), and {@code ca} (PEM, one or more certificates this side trusts to sign its
     * peers'), then checks them for changes every {@code reloadMs} on {@code scheduler} (0: never).
     *
     * @param name what the material is for, in messages ("client TLS", "peer TLS")
     * @throws TxkvException invalid_option_value when a file is missing, unreadable, not PEM,
     *     or the key does not match the certificate
     */
    public TlsMaterial(String name, Path cert, Path key, Path ca, long reloadMs, ScheduledExecutorService scheduler) {
        this.name = name;
        this.cert = cert;
        this.key = key;
        this.ca = ca;
        try {
            this.trustManager = AdvancedTlsX509TrustManager.newBuilder()
                    .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION).build();
            load();
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, name + ": cannot load " + cert + ", " + key
                    + " and " + ca + ": " + describe(e), e);
        }
        reloads = reloadMs <= 0 || scheduler == null ? null
                : scheduler.scheduleWithFixedDelay(this::reloadIfChanged, reloadMs, reloadMs, TimeUnit.MILLISECONDS);
    }

    private static String describe(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private long stamp() throws IOException {
        long s = 17;
        for (Path p : new Path[] {cert, key, ca}) {
            s = 31 * s + Files.getLastModifiedTime(p).toMillis();
            s = 31 * s + Files.size(p);
        }
        return s;
    }

    /**
     * Reads all three files, checks them (a certificate in date whose public key matches the
     * key, at least one CA certificate), and only then swaps them in: a half-written rotation
     * (a new certificate beside the old key) is refused whole. Returns the certificate loaded.
     */
    private synchronized X509Certificate load() throws IOException, GeneralSecurityException {
        long stamp = stamp();
        X509Certificate[] loaded;
        java.security.PrivateKey privateKey;
        X509Certificate[] authorities;
        try (java.io.InputStream in = Files.newInputStream(cert)) {
            loaded = io.grpc.util.CertificateUtils.getX509Certificates(in);
        }
        try (java.io.InputStream in = Files.newInputStream(key)) {
            privateKey = io.grpc.util.CertificateUtils.getPrivateKey(in);
        }
        try (java.io.InputStream in = Files.newInputStream(ca)) {
            authorities = io.grpc.util.CertificateUtils.getX509Certificates(in);
        }
        if (loaded.length == 0) {
            throw new GeneralSecurityException(cert + " holds no certificate");
        }
        if (authorities.length == 0) {
            throw new GeneralSecurityException(ca + " holds no CA certificate");
        }
        loaded[0].checkValidity();
        checkKeyMatches(loaded[0], privateKey);
        keyManager.updateIdentityCredentials(loaded, privateKey);
        trustManager.updateTrustCredentials(authorities);
        loadedStamp = stamp;
        return loaded[0];
    }

    /** Signs a random challenge with {@code key} and verifies it with the certificate's public key (JCA). */
    private void checkKeyMatches(X509Certificate certificate, java.security.PrivateKey privateKey)
            throws GeneralSecurityException {
        String algorithm = switch (privateKey.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null) {
            return; // An algorithm this check does not know: the handshake will tell.
        }
        byte[] challenge = new byte[32];
        new java.security.SecureRandom().nextBytes(challenge);
        java.security.Signature signer = java.security.Signature.getInstance(algorithm);
        signer.initSign(privateKey);
        signer.update(challenge);
        byte[] signature = signer.sign();
        java.security.Signature verifier = java.security.Signature.getInstance(algorithm);
        verifier.initVerify(certificate.getPublicKey());
        verifier.update(challenge);
        if (!verifier.verify(signature)) {
            throw new GeneralSecurityException("the key in " + key + " does not belong to the certificate in " + cert);
        }
    }

    /** Reloads the files if any changed since the last load; a failure keeps what is in use. */
    void reloadIfChanged() {
        try {
            if (stamp() == loadedStamp) {
                return;
            }
        } catch (IOException e) {
            LOG.error("{}: cannot check {}, {} and {} for changes (the loaded certificate stays in use): {}", name, cert,
                    key, ca, describe(e));
            return;
        }
        try {
            X509Certificate leaf = load();
            LOG.info("{}: reloaded {} (subject {}, valid until {}) and {}", name, cert, leaf.getSubjectX500Principal(),
                    leaf.getNotAfter().toInstant(), ca);
            Audit.event("certificate_reloaded", "material", name, "subject", leaf.getSubjectX500Principal().getName(),
                    "not_after", leaf.getNotAfter().toInstant().toString(), "sha256", Audit.fingerprint(leaf));
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            LOG.error("{}: reloading {}, {} and {} failed; the certificate loaded before stays in use: {}", name, cert,
                    key, ca, describe(e));
            Audit.event("certificate_reload_failed", "material", name, "reason", describe(e));
            try {
                loadedStamp = stamp(); // tried: wait for the next change
            } catch (IOException ignored) {
                // The next check reports it.
            }
        }
    }

    /** Presents this side's certificate (reloaded in place). */
    public KeyManager keyManager() {
        return keyManager;
    }

    /** Trusts certificates signed by the CA (reloaded in place); no name check. */
    public X509ExtendedTrustManager trustManager() {
        return trustManager;
    }

    /**
     * Trusts only certificates signed by the CA whose subject common name begins with
     * {@code prefix}, in both directions (as a server and as a client): for the Raft port and
     * calls between servers, where only members may connect.
     */
    public X509ExtendedTrustManager trustManagerForNames(String prefix) {
        return new NameCheckingTrustManager(trustManager, prefix);
    }

    /** An SSL context with this material (TLS 1.2 and 1.3), for servers outside gRPC. */
    public SSLContext sslContext() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {keyManager}, new TrustManager[] {trustManager}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new TxkvException(ErrorCode.INTERNAL_ERROR, name + ": cannot make a TLS context: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (reloads != null) {
            reloads.cancel(false);
        }
    }

    @Override
    public String toString() {
        return name + " (" + cert + ", " + key + ", CA " + ca + ")";
    }
}
