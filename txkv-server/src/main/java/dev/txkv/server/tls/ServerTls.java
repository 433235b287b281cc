package dev.txkv.server.tls;

import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A server's TLS: the material its client port and HTTP gateway serve (with the client
 * certificates they ask for), and the material members use between themselves (the Raft port
 * and calls to other servers), always mutual and open to member certificates only. Both reload
 * from their files ({@link TlsMaterial}).
 */
public final class ServerTls implements AutoCloseable {
    /** A member certificate's subject common name begins with this (txkv certs create-node). */
    public static final String MEMBER_NAME_PREFIX = "txkv-node:";

    /** Which client certificates the client port and the HTTP gateway ask for. */
    public enum ClientAuth {
        /** None asked: any client that trusts the server's certificate connects. */
        NONE,
        /** Asked, not required: a certificate given must be signed by the CA. */
        WANT,
        /** Required: only clients with a certificate signed by the CA connect. */
        REQUIRE
    }

    /**
     * PEM files: a certificate chain, its PKCS#8 key, and the CA certificates trusted for the
     * other side.
     */
    public record Files(Path cert, Path key, Path ca) {
    }

    private final ScheduledExecutorService reloader;
    private final TlsMaterial client;
    private final TlsMaterial peer;
    private final ClientAuth clientAuth;

    /**
     * Loads both materials ({@code peerFiles} null: the client port's), reloading them every
     * {@code reloadMs} when their files change (0: never).
     *
     * @throws dev.txkv.TxkvException invalid_option_value when a file cannot be loaded
     */
    public ServerTls(Files files, ClientAuth clientAuth, Files peerFiles, long reloadMs) {
        this.clientAuth = clientAuth;
        this.reloader = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "txkv-tls-reload");
            t.setDaemon(true);
            return t;
        });
        try {
            this.client = new TlsMaterial("client TLS", files.cert(), files.key(), files.ca(), reloadMs, reloader);
            Files p = peerFiles == null ? files : peerFiles;
            this.peer = p.equals(files) ? client
                    : new TlsMaterial("peer TLS", p.cert(), p.key(), p.ca(), reloadMs, reloader);
        } catch (RuntimeException e) {
            reloader.shutdownNow();
            throw e;
        }
    }

    /** The client port's credentials: TLS 1.2 or 1.3, the client certificates {@link ClientAuth} asks for. */
    public ServerCredentials grpcCredentials() {
        return TlsServerCredentials.newBuilder().keyManager(client.keyManager()).trustManager(client.trustManager())
                .clientAuth(switch (clientAuth) {
                    case NONE -> TlsServerCredentials.ClientAuth.NONE;
                    case WANT -> TlsServerCredentials.ClientAuth.OPTIONAL;
                    case REQUIRE -> TlsServerCredentials.ClientAuth.REQUIRE;
                }).build();
    }

    /** The HTTP gateway's SSL context. */
    public SSLContext httpContext() {
        return client.sslContext();
    }

    /** The HTTP gateway's handshake parameters: TLS 1.2 or 1.3, client certificates as asked. */
    public SSLParameters httpParameters(SSLContext context) {
        SSLParameters p = context.getDefaultSSLParameters();
        p.setProtocols(TlsMaterial.PROTOCOLS);
        if (clientAuth == ClientAuth.REQUIRE) {
            p.setNeedClientAuth(true);
        } else if (clientAuth == ClientAuth.WANT) {
            p.setWantClientAuth(true);
        }
        return p;
    }

    /** What members present to each other. */
    public javax.net.ssl.KeyManager peerKeyManager() {
        return peer.keyManager();
    }

    /** What members accept from each other: the peer CA's certificates named as members. */
    public X509ExtendedTrustManager peerTrustManager() {
        return peer.trustManagerForNames(MEMBER_NAME_PREFIX);
    }

    /**
     * Credentials for this server's calls to other servers' client ports: it presents its member
     * certificate, and accepts the other server's client-port certificate when the client CA
     * signed it and it names a member ({@value #MEMBER_NAME_PREFIX}).
     */
    public ChannelCredentials peerChannelCredentials() {
        return TlsChannelCredentials.newBuilder().keyManager(peer.keyManager())
                .trustManager(client.trustManagerForNames(MEMBER_NAME_PREFIX)).build();
    }

    @Override
    public void close() {
        client.close();
        peer.close();
        reloader.shutdownNow();
    }
}
