package dev.txkv.server.certs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real mutual-TLS handshakes on 127.0.0.1 with the JDK's TLS and the files of
 * {@link DevCertificates}: the node certificate serves, client and node certificates
 * authenticate, and certificates of another CA or for another host do not.
 */
class MutualTlsTest {
    private static final int TIMEOUT_MS = 10_000;

    @TempDir
    Path dir;

    private Path ca;
    private Path otherDir;
    private final ExecutorService executor = Executors.newSingleThreadExecutor();

    @BeforeEach
    void createCertificates() throws Exception {
        DevCertificates.createCa(dir, DevCertificates.CA_NAME_DEFAULT, 30, false);
        DevCertificates.createNode(dir, "n1", DevCertificates.NODE_HOSTS_DEFAULT, 30, false);
        DevCertificates.createNode(dir, "n2", DevCertificates.NODE_HOSTS_DEFAULT, 30, false);
        DevCertificates.createNode(dir, "elsewhere", List.of("db.example.com", "10.9.9.9"), 30, false);
        DevCertificates.createClient(dir, "alice", 30, false);
        ca = dir.resolve("ca.crt");
        otherDir = Files.createDirectory(dir.resolve("other"));
        DevCertificates.createCa(otherDir, "another CA", 30, false);
        DevCertificates.createClient(otherDir, "alice", 30, false);
    }

    @AfterEach
    void stopExecutor() {
        executor.shutdownNow();
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void theNodeCertificateServesAndTheClientCertificateAuthenticates(String protocol) throws Exception {
        Handshake h = handshake(protocol, node("n1"), client(dir, "alice"), "localhost");
        assertThat(h.clientError).isNull();
        assertThat(h.serverResult.get(TIMEOUT_MS, TimeUnit.MILLISECONDS)).isEqualTo("alice");
        assertThat(h.protocol).isEqualTo(protocol);
        assertThat(DevCertificates.commonName(h.serverCertificate)).isEqualTo("txkv-node:n1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void nodesAreTlsClientsOfEachOther(String protocol) throws Exception {
        Handshake h = handshake(protocol, node("n1"), node("n2"), "localhost");
        assertThat(h.clientError).isNull();
        assertThat(h.serverResult.get(TIMEOUT_MS, TimeUnit.MILLISECONDS)).isEqualTo("txkv-node:n2");
    }

    @Test
    void theIpAddressInTheNodeCertificateIsVerifiedToo() throws Exception {
        Handshake h = handshake("TLSv1.3", node("n1"), client(dir, "alice"), "127.0.0.1");
        assertThat(h.clientError).isNull();
        assertThat(h.serverResult.get(TIMEOUT_MS, TimeUnit.MILLISECONDS)).isEqualTo("alice");
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void aClientCertificateOfAnotherCaFailsTheHandshake(String protocol) throws Exception {
        // Presented although the server asked for certificates of its own CA: the server itself rejects it.
        Handshake h = handshake(protocol, node("n1"), client(otherDir, "alice"), "localhost", true);
        assertThat(h.clientError).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> h.serverResult.get(TIMEOUT_MS, TimeUnit.MILLISECONDS))
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(SSLException.class)
                .hasMessageNotContaining("Empty client certificate chain");

        // Left to the JDK, the client offers no certificate at all, which fails as well.
        Handshake none = handshake(protocol, node("n1"), client(otherDir, "alice"), "localhost");
        assertThat(none.clientError).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> none.serverResult.get(TIMEOUT_MS, TimeUnit.MILLISECONDS))
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(SSLException.class);
    }

    @Test
    void aNodeCertificateForOtherHostsIsRefusedByTheClient() throws Exception {
        Handshake h = handshake("TLSv1.3", node("elsewhere"), client(dir, "alice"), "localhost");
        assertThat(h.clientError).isInstanceOf(SSLException.class);
        assertThat(h.clientError.toString()).contains("localhost");
    }

    @Test
    void aClientCertificateCannotServe() throws Exception {
        Handshake h = handshake("TLSv1.3", client(dir, "alice"), node("n2"), "localhost");
        // The client's PKIX trust manager checks the extended key usage: clientAuth alone does not serve.
        assertThat(h.clientError).isInstanceOf(SSLException.class);
        assertThat(h.clientError.getMessage()).containsIgnoringCase("key usage");
    }

    private Identity node(String id) {
        return new Identity(DevCertificates.nodeCertificate(dir, id), DevCertificates.nodeKey(dir, id), ca);
    }

    private static Identity client(Path in, String user) {
        return new Identity(DevCertificates.clientCertificate(in, user), DevCertificates.clientKey(in, user),
                in.resolve(DevCertificates.CA_CERT));
    }

    /** A certificate, its key, and the CA that signed it (sent as the rest of the chain). */
    private record Identity(Path cert, Path key, Path ca) {
    }

    /** What a handshake left: the client's failure or the negotiated protocol and server certificate. */
    private static final class Handshake {
        Future<String> serverResult;
        Exception clientError;
        String protocol;
        X509Certificate serverCertificate;
    }

    /**
     * One connection on 127.0.0.1: a server that needs client authentication, presenting
     * {@code server} and trusting this directory's CA, answers one byte; the client presents
     * {@code client}, trusts this directory's CA and identifies the server as {@code host}. The
     * server's result is the client's subject CN.
     */
    private Handshake handshake(String protocol, Identity server, Identity client, String host) throws Exception {
        return handshake(protocol, server, client, host, false);
    }

    private Handshake handshake(String protocol, Identity server, Identity client, String host,
            boolean presentToAnyServer) throws Exception {
        SSLContext serverContext = JdkPem.context(server.cert(), server.key(), server.ca(), ca);
        SSLContext clientContext = JdkPem.context(client.cert(), client.key(), client.ca(), ca, presentToAnyServer);
        InetAddress loopback = InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
        Handshake h = new Handshake();
        try (SSLServerSocket listener = (SSLServerSocket) serverContext.getServerSocketFactory()
                .createServerSocket(0, 1, loopback)) {
            listener.setNeedClientAuth(true);
            listener.setEnabledProtocols(new String[] {protocol});
            listener.setSoTimeout(TIMEOUT_MS);
            h.serverResult = executor.submit(() -> {
                try (SSLSocket accepted = (SSLSocket) listener.accept()) {
                    accepted.setSoTimeout(TIMEOUT_MS);
                    accepted.startHandshake();
                    InputStream in = accepted.getInputStream();
                    int b = in.read();
                    OutputStream out = accepted.getOutputStream();
                    out.write(b);
                    out.flush();
                    return DevCertificates.commonName((X509Certificate) accepted.getSession().getPeerCertificates()[0]);
                }
            });
            try (Socket plain = new Socket()) {
                plain.connect(new InetSocketAddress(loopback, listener.getLocalPort()), TIMEOUT_MS);
                plain.setSoTimeout(TIMEOUT_MS);
                try (SSLSocket socket = (SSLSocket) clientContext.getSocketFactory()
                        .createSocket(plain, host, listener.getLocalPort(), false)) {
                    SSLParameters parameters = socket.getSSLParameters();
                    parameters.setEndpointIdentificationAlgorithm("HTTPS");
                    parameters.setProtocols(new String[] {protocol});
                    socket.setSSLParameters(parameters);
                    socket.startHandshake();
                    socket.getOutputStream().write(42);
                    socket.getOutputStream().flush();
                    // TLS 1.3: the server judges the client's certificate after the client's handshake ends.
                    if (socket.getInputStream().read() != 42) {
                        throw new IOException("the server closed the connection");
                    }
                    h.protocol = socket.getSession().getProtocol();
                    h.serverCertificate = (X509Certificate) socket.getSession().getPeerCertificates()[0];
                }
            } catch (IOException e) {
                h.clientError = e;
            }
            try {
                h.serverResult.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                // Inspected by the test.
            }
        }
        return h;
    }
}
