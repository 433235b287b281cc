package dev.txkv.server.certs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DevCertificatesTest {
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final String KEY_USAGE = "2.5.29.15";
    private static final String BASIC_CONSTRAINTS = "2.5.29.19";
    private static final int SAN_DNS = 2;
    private static final int SAN_IP = 7;

    @TempDir
    Path dir;

    private DevCertificates.Issued ca;
    private DevCertificates.Issued node;
    private DevCertificates.Issued client;

    @BeforeEach
    void createCaNodeAndClient() throws Exception {
        ca = DevCertificates.createCa(dir, DevCertificates.CA_NAME_DEFAULT, DevCertificates.CA_DAYS_DEFAULT, false);
        node = DevCertificates.createNode(dir, "n1", DevCertificates.NODE_HOSTS_DEFAULT,
                DevCertificates.LEAF_DAYS_DEFAULT, false);
        client = DevCertificates.createClient(dir, "alice", DevCertificates.LEAF_DAYS_DEFAULT, false);
    }

    @Test
    void filesAreNamedByConventionAndReadByTheJdk() throws Exception {
        assertThat(ca.certificate()).isEqualTo(dir.resolve("ca.crt"));
        assertThat(ca.key()).isEqualTo(dir.resolve("ca.key"));
        assertThat(node.certificate()).isEqualTo(dir.resolve("node-n1.crt"));
        assertThat(node.key()).isEqualTo(dir.resolve("node-n1.key"));
        assertThat(client.certificate()).isEqualTo(dir.resolve("client-alice.crt"));
        assertThat(client.key()).isEqualTo(dir.resolve("client-alice.key"));
        for (DevCertificates.Issued issued : List.of(ca, node, client)) {
            assertThat(Files.readString(issued.key(), StandardCharsets.US_ASCII))
                    .startsWith("-----BEGIN PRIVATE KEY-----").contains("-----END PRIVATE KEY-----");
            assertThat(Files.readString(issued.certificate(), StandardCharsets.US_ASCII))
                    .startsWith("-----BEGIN CERTIFICATE-----");
            X509Certificate cert = JdkPem.certificate(issued.certificate());
            assertThat(cert).isEqualTo(issued.x509());
            assertThat(cert.getSigAlgName()).isEqualTo("SHA256withECDSA");
            ECPublicKey publicKey = (ECPublicKey) cert.getPublicKey();
            assertThat(publicKey.getParams().getCurve().getField().getFieldSize()).isEqualTo(256);
            ECPrivateKey privateKey = (ECPrivateKey) JdkPem.privateKey(issued.key());
            assertThat(privateKey.getParams().getOrder()).isEqualTo(publicKey.getParams().getOrder());
            assertThat(cert.getSerialNumber().signum()).isPositive();
            assertThat(cert.getSerialNumber().bitLength()).isLessThanOrEqualTo(159);
            assertThat(issued.warnings()).isEmpty();
        }
        assertThat(node.x509().getSerialNumber()).isNotEqualTo(client.x509().getSerialNumber());
    }

    @Test
    void keysAre0600AndCertificates0644() throws Exception {
        for (DevCertificates.Issued issued : List.of(ca, node, client)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(issued.key()))).isEqualTo("rw-------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(issued.certificate())))
                    .isEqualTo("rw-r--r--");
        }
    }

    @Test
    void theCaIsAConstrainedSelfSignedCa() throws Exception {
        X509Certificate cert = ca.x509();
        assertThat(DevCertificates.commonName(cert)).isEqualTo("txkv development CA");
        assertThat(cert.getSubjectX500Principal()).isEqualTo(cert.getIssuerX500Principal());
        cert.verify(cert.getPublicKey());
        assertThat(cert.getBasicConstraints()).isZero(); // CA:true, path length 0
        assertThat(cert.getKeyUsage()[5]).as("keyCertSign").isTrue();
        assertThat(cert.getKeyUsage()[6]).as("cRLSign").isTrue();
        assertThat(cert.getKeyUsage()[0]).as("digitalSignature").isFalse();
        assertThat(cert.getCriticalExtensionOIDs()).contains(KEY_USAGE, BASIC_CONSTRAINTS);
        assertThat(cert.getExtensionValue(Extension.subjectKeyIdentifier.getId())).isNotNull();
        assertValidity(cert, DevCertificates.CA_DAYS_DEFAULT);
    }

    @Test
    void theNodeCertificateServesAndAuthenticatesForItsHosts() throws Exception {
        X509Certificate cert = node.x509();
        assertThat(DevCertificates.commonName(cert)).isEqualTo("txkv-node:n1");
        assertThat(cert.getSubjectAlternativeNames())
                .containsExactly(List.of(SAN_DNS, "localhost"), List.of(SAN_IP, "127.0.0.1"));
        assertThat(cert.getExtendedKeyUsage()).containsExactlyInAnyOrder(SERVER_AUTH, CLIENT_AUTH);
        assertLeaf(cert);
        assertValidity(cert, DevCertificates.LEAF_DAYS_DEFAULT);
    }

    @Test
    void theClientCertificateOnlyAuthenticates() throws Exception {
        X509Certificate cert = client.x509();
        assertThat(DevCertificates.commonName(cert)).isEqualTo("alice");
        assertThat(cert.getSubjectAlternativeNames()).isNull();
        assertThat(cert.getExtendedKeyUsage()).containsExactly(CLIENT_AUTH);
        assertLeaf(cert);
        assertValidity(cert, DevCertificates.LEAF_DAYS_DEFAULT);
    }

    @Test
    void ipLiteralsBecomeIpAddressesAndTheRestDnsNames() throws Exception {
        X509Certificate cert = DevCertificates.createNode(dir, "n2",
                List.of("db-1.example.com", "10.1.2.3", "::1", "[fe80::1]", "DB-1.example.com", "*.nodes.local"),
                30, false).x509();
        assertThat(DevCertificates.subjectAltNames(cert)).containsExactly("DNS:db-1.example.com", "IP:10.1.2.3",
                "IP:0:0:0:0:0:0:0:1", "IP:fe80:0:0:0:0:0:0:1", "DNS:*.nodes.local");
        assertValidity(cert, 30);
    }

    @Test
    void thePkixChainValidatesWithTheCaAsTrustAnchor() throws Exception {
        X509Certificate caCert = JdkPem.certificate(ca.certificate());
        validate(JdkPem.certificate(node.certificate()), caCert);
        validate(JdkPem.certificate(client.certificate()), caCert);

        Path other = Files.createDirectory(dir.resolve("other"));
        DevCertificates.createCa(other, "another CA", 10, false);
        X509Certificate stranger = DevCertificates.createClient(other, "mallory", 10, false).x509();
        assertThatThrownBy(() -> validate(stranger, caCert)).isInstanceOf(CertPathValidatorException.class);
        assertThat(DevCertificates.signedBy(stranger, caCert)).isFalse();
        assertThat(DevCertificates.signedBy(node.x509(), caCert)).isTrue();
    }

    @Test
    void existingFilesAreNotOverwrittenWithoutForce() throws Exception {
        byte[] caBefore = Files.readAllBytes(ca.certificate());
        byte[] nodeKeyBefore = Files.readAllBytes(node.key());
        assertThatThrownBy(() -> DevCertificates.createCa(dir, "x", 10, false))
                .isInstanceOf(CertsRefusedException.class)
                .hasMessageContaining(ca.certificate().toString()).hasMessageContaining("--force");
        assertThatThrownBy(() -> DevCertificates.createNode(dir, "n1", List.of("localhost"), 10, false))
                .isInstanceOf(CertsRefusedException.class).hasMessageContaining("node-n1.crt");
        // Only the key is there: still refused, naming the key.
        Files.delete(client.certificate());
        assertThatThrownBy(() -> DevCertificates.createClient(dir, "alice", 10, false))
                .isInstanceOf(CertsRefusedException.class).hasMessageContaining("client-alice.key");
        assertThat(Files.readAllBytes(ca.certificate())).isEqualTo(caBefore);
        assertThat(Files.readAllBytes(node.key())).isEqualTo(nodeKeyBefore);

        DevCertificates.Issued again = DevCertificates.createNode(dir, "n1", List.of("db.local"), 10, true);
        assertThat(Files.readAllBytes(node.key())).isNotEqualTo(nodeKeyBefore);
        assertThat(DevCertificates.subjectAltNames(JdkPem.certificate(again.certificate())))
                .containsExactly("DNS:db.local");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(again.key()))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(again.certificate())))
                .isEqualTo("rw-r--r--");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }

        DevCertificates.Issued newCa = DevCertificates.createCa(dir, "replacement CA", 10, true);
        assertThat(newCa.warnings()).anySatisfy(w -> assertThat(w).contains("replaced"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(newCa.key()))).isEqualTo("rw-------");
        assertThat(DevCertificates.signedBy(again.x509(), newCa.x509())).isFalse();
    }

    @Test
    void aCaKeyReadableByGroupOrOthersIsRefused() throws Exception {
        for (String mode : List.of("rw-r-----", "rw----r--", "rw--w----")) {
            Files.setPosixFilePermissions(ca.key(), PosixFilePermissions.fromString(mode));
            assertThatThrownBy(() -> DevCertificates.createClient(dir, "bob", 10, false))
                    .isInstanceOf(CertsRefusedException.class)
                    .hasMessageContaining("chmod 600 " + ca.key());
        }
        assertThat(dir.resolve("client-bob.crt")).doesNotExist();
        assertThat(dir.resolve("client-bob.key")).doesNotExist();
        Files.setPosixFilePermissions(ca.key(), PosixFilePermissions.fromString("rw-------"));
        DevCertificates.createClient(dir, "bob", 10, false);
        Files.setPosixFilePermissions(ca.key(), PosixFilePermissions.fromString("r--------"));
        DevCertificates.createClient(dir, "carol", 10, false);
    }

    @Test
    void withoutACaNothingIsSigned() throws Exception {
        Path empty = dir.resolve("empty");
        assertThatThrownBy(() -> DevCertificates.createNode(empty, "n1", List.of("localhost"), 10, false))
                .isInstanceOf(CertsRefusedException.class)
                .hasMessageContaining("no CA in " + empty).hasMessageContaining("create-ca");
        assertThat(empty).doesNotExist();
    }

    @Test
    void aCaKeyThatDoesNotMatchItsCertificateIsAnError() throws Exception {
        Files.copy(node.key(), ca.key(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> DevCertificates.createClient(dir, "bob", 10, false))
                .isInstanceOf(java.io.IOException.class).hasMessageContaining("is not the private key of");
        Files.writeString(ca.key(), "not a key\n");
        assertThatThrownBy(() -> DevCertificates.createClient(dir, "bob", 10, false))
                .isInstanceOf(java.io.IOException.class).hasMessageContaining(ca.key().toString());
    }

    @Test
    void badNamesHostsAndDaysAreRejected() {
        for (String id : List.of("", "a b", "../x", "x/y", "é", "x".repeat(65))) {
            assertThatThrownBy(() -> DevCertificates.createNode(dir, id, List.of("localhost"), 10, false))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("node id");
            assertThatThrownBy(() -> DevCertificates.createClient(dir, id, 10, false))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("user name");
        }
        assertThat(DevCertificates.generalNames(List.of("x".repeat(63) + ".example"))).hasSize(1);
        for (String host : List.of("", "a b", "a..b", "a.", "-a.b", "999.1.2.3", "1.2.3", "::zz", "a_b c", "x".repeat(64))) {
            assertThatThrownBy(() -> DevCertificates.createNode(dir, "n9", List.of("localhost", host), 10, false))
                    .as(host).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("host");
        }
        assertThatThrownBy(() -> DevCertificates.createNode(dir, "n9", List.of(), 10, false))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DevCertificates.createClient(dir, "bob", 0, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("days");
        assertThatThrownBy(() -> DevCertificates.createCa(dir.resolve("c"), " ", 10, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CA name");
        assertThat(dir.resolve("node-n9.crt")).doesNotExist();
    }

    @Test
    void listShowsEachCertificateAndWhetherTheCaSignedIt() throws Exception {
        Path other = Files.createDirectory(dir.resolve("other"));
        DevCertificates.createCa(other, "another CA", 10, false);
        Files.copy(DevCertificates.createClient(other, "mallory", 10, false).certificate(),
                dir.resolve("stranger.crt"));
        Files.writeString(dir.resolve("broken.crt"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");

        List<DevCertificates.Listed> listed = DevCertificates.list(dir);
        assertThat(listed).extracting(l -> l.file().getFileName().toString()).containsExactly(
                "broken.crt", "ca.crt", "client-alice.crt", "node-n1.crt", "stranger.crt");
        assertThat(listed.get(0).x509()).isNull();
        assertThat(listed.get(0).problem()).contains("broken.crt");
        assertThat(listed.subList(1, 5)).extracting(DevCertificates.Listed::ca).containsExactly(
                DevCertificates.CaCheck.SIGNED, DevCertificates.CaCheck.SIGNED, DevCertificates.CaCheck.SIGNED,
                DevCertificates.CaCheck.NOT_SIGNED);
        assertThat(DevCertificates.list(other)).extracting(DevCertificates.Listed::ca)
                .containsOnly(DevCertificates.CaCheck.SIGNED);
        Files.delete(other.resolve("ca.crt"));
        assertThat(DevCertificates.list(other)).extracting(DevCertificates.Listed::ca)
                .containsOnly(DevCertificates.CaCheck.NO_CA);

        String fingerprint = DevCertificates.sha256Fingerprint(node.x509());
        assertThat(fingerprint).matches("([0-9A-F]{2}:){31}[0-9A-F]{2}");
        byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(node.x509().getEncoded());
        assertThat(fingerprint.replace(":", "")).isEqualToIgnoringCase(java.util.HexFormat.of().formatHex(digest));
    }

    private void assertLeaf(X509Certificate cert) throws Exception {
        assertThat(cert.getBasicConstraints()).isEqualTo(-1);
        assertThat(cert.getKeyUsage()[0]).as("digitalSignature").isTrue();
        assertThat(cert.getKeyUsage()[5]).as("keyCertSign").isFalse();
        assertThat(cert.getCriticalExtensionOIDs()).contains(KEY_USAGE, BASIC_CONSTRAINTS);
        assertThat(cert.getIssuerX500Principal()).isEqualTo(ca.x509().getSubjectX500Principal());
        cert.verify(ca.x509().getPublicKey());
        byte[] aki = AuthorityKeyIdentifier.getInstance(JcaX509ExtensionUtils.parseExtensionValue(
                cert.getExtensionValue(Extension.authorityKeyIdentifier.getId()))).getKeyIdentifierOctets();
        byte[] caSki = SubjectKeyIdentifier.getInstance(JcaX509ExtensionUtils.parseExtensionValue(
                ca.x509().getExtensionValue(Extension.subjectKeyIdentifier.getId()))).getKeyIdentifier();
        assertThat(aki).isEqualTo(caSki);
    }

    private static void assertValidity(X509Certificate cert, int days) throws Exception {
        Instant now = Instant.now();
        Instant notBefore = cert.getNotBefore().toInstant();
        Instant notAfter = cert.getNotAfter().toInstant();
        assertThat(notBefore).isBetween(now.minus(Duration.ofHours(1)).minusSeconds(60),
                now.minus(Duration.ofHours(1)));
        assertThat(notAfter).isBetween(now.plus(Duration.ofDays(days)).minusSeconds(60), now.plus(Duration.ofDays(days)));
        cert.checkValidity();
        cert.checkValidity(java.util.Date.from(now.minus(Duration.ofMinutes(59))));
    }

    private static void validate(X509Certificate cert, X509Certificate trusted) throws Exception {
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(trusted, null)));
        parameters.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(
                CertificateFactory.getInstance("X.509").generateCertPath(List.of(cert)), parameters);
    }
}
