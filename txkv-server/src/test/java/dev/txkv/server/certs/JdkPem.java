package dev.txkv.server.certs;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.net.Socket;
import java.security.Principal;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Reads the PEM files of {@code txkv certs} with the JDK alone (no Bouncy Castle), the way a
 * TLS user of them would, and builds SSL contexts from them.
 */
final class JdkPem {
    private static final char[] PASSWORD = "in-memory".toCharArray();

    private JdkPem() {
    }

    static X509Certificate certificate(Path file) throws Exception {
        try (ByteArrayInputStream in = new ByteArrayInputStream(Files.readAllBytes(file))) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    /** A PKCS#8 PEM EC key: strips the armour, decodes Base64, KeyFactory "EC". */
    static PrivateKey privateKey(Path file) throws Exception {
        String pem = Files.readString(file, StandardCharsets.US_ASCII);
        if (!pem.startsWith("-----BEGIN PRIVATE KEY-----")) {
            throw new IllegalArgumentException(file + " is not PKCS#8 PEM: " + pem.lines().findFirst().orElse(""));
        }
        String base64 = pem.replace("-----BEGIN PRIVATE KEY-----", "").replace("-----END PRIVATE KEY-----", "")
                .replaceAll("\\s", "");
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
    }

    /**
     * An SSLContext "TLS" whose key manager presents {@code certFile} with {@code keyFile} (chain:
     * the certificate, then {@code caFile}) and whose trust manager trusts {@code trustedCaFile}
     * only; both from PKCS12 key stores built in memory.
     */
    static SSLContext context(Path certFile, Path keyFile, Path caFile, Path trustedCaFile) throws Exception {
        return context(certFile, keyFile, caFile, trustedCaFile, false);
    }

    /**
     * As {@link #context(Path, Path, Path, Path)}; with {@code presentToAnyServer}, the client
     * side presents its certificate even to a server that names other CAs as acceptable
     * issuers, so that the server has to reject it itself.
     */
    static SSLContext context(Path certFile, Path keyFile, Path caFile, Path trustedCaFile, boolean presentToAnyServer)
            throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("self", privateKey(keyFile), PASSWORD,
                new X509Certificate[] {certificate(certFile), certificate(caFile)});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
        kmf.init(keys, PASSWORD);
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("ca", certificate(trustedCaFile));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        KeyManager[] keyManagers = kmf.getKeyManagers();
        if (presentToAnyServer) {
            keyManagers = new KeyManager[] {new IgnoringIssuers((X509ExtendedKeyManager) keyManagers[0])};
        }
        context.init(keyManagers, tmf.getTrustManagers(), null);
        return context;
    }

    /** A key manager that chooses a client certificate whatever issuers the server asked for. */
    private static final class IgnoringIssuers extends X509ExtendedKeyManager {
        private final X509ExtendedKeyManager delegate;

        IgnoringIssuers(X509ExtendedKeyManager delegate) {
            this.delegate = delegate;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return delegate.chooseClientAlias(keyType, null, socket);
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return delegate.chooseEngineClientAlias(keyType, null, engine);
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return delegate.getClientAliases(keyType, null);
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return delegate.getServerAliases(keyType, issuers);
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return delegate.chooseServerAlias(keyType, issuers, socket);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return delegate.getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return delegate.getPrivateKey(alias);
        }
    }
}
