package dev.txkv.remote;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.Database;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.replication.ReplicationConfig;
import dev.txkv.server.ServerConfig;
import dev.txkv.server.TxkvServer;
import dev.txkv.server.certs.DevCertificates;
import dev.txkv.server.tls.ServerTls;
import dev.txkv.testkit.Poll;
import dev.txkv.testkit.Ports;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS end to end, with certificates from {@code txkv certs}: the client port and the gateway
 * serve TLS, clients without the CA or without a required certificate are refused, members
 * speak mutual TLS and refuse a certificate that is not a member's, a changed certificate is
 * served without a restart, and a server beyond loopback refuses plaintext.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TlsTest {
    @TempDir
    static Path certs;
    @TempDir
    static Path otherCa;
    @TempDir
    Path dir;
    private final List<TxkvServer> servers = new ArrayList<>();
    private final List<Database> databases = new ArrayList<>();

    @BeforeAll
    static void issue() throws Exception {
        DevCertificates.createCa(certs, "txkv test CA", 30, false);
        for (String id : new String[] {"a", "b", "c"}) {
            DevCertificates.createNode(certs, id, List.of("localhost", "127.0.0.1"), 30, false);
        }
        DevCertificates.createClient(certs, "orders", 30, false);
        DevCertificates.createCa(otherCa, "another CA", 30, false);
        DevCertificates.createClient(otherCa, "orders", 30, false);
    }

    @AfterEach
    void stop() {
        databases.forEach(Database::close);
        servers.forEach(TxkvServer::close);
    }

    private static ServerTls.Files node(String id) {
        return new ServerTls.Files(DevCertificates.nodeCertificate(certs, id), DevCertificates.nodeKey(certs, id),
                certs.resolve(DevCertificates.CA_CERT));
    }

    private TxkvServer start(ServerConfig config) throws Exception {
        TxkvServer s = TxkvServer.start(config);
        servers.add(s);
        return s;
    }

    private static RemoteSettings quick() {
        return new RemoteSettings().warmUpCalls(0).requestTimeout(Duration.ofSeconds(3))
                .commitTimeout(Duration.ofSeconds(3)).connectTimeout(Duration.ofSeconds(2));
    }

    private Database open(String connection, RemoteSettings settings) {
        Database db = Txkv.open(RemoteBackend.connect(connection, settings), new TxkvConfig());
        databases.add(db);
        return db;
    }

    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    @Test
    void theClientPortServesTlsAndRefusesPlaintextAndStrangeCas() throws Exception {
        TxkvServer server = start(new ServerConfig().dataDir(dir.resolve("d")).grpcAddress("127.0.0.1", 0)
                .httpAddress("127.0.0.1", 0).tls(node("a"), ServerTls.ClientAuth.NONE));
        String address = "127.0.0.1:" + server.grpcPort();
        Database tls = open(address, quick().tls(certs.resolve("ca.crt"), null, null));
        tls.run(tr -> {
            tr.set(b("k"), b("v"));
            return null;
        });
        byte[] got = tls.read(tr -> tr.get(b("k")).join());
        assertThat(got).isEqualTo(b("v"));
        // The name in the certificate is checked: "localhost" is in it too.
        Database byName = open("localhost:" + server.grpcPort(), quick().tls(certs.resolve("ca.crt"), null, null));
        byte[] byNameGot = byName.read(tr -> tr.get(b("k")).join());
        assertThat(byNameGot).isEqualTo(b("v"));

        Database plaintext = open(address, quick());
        assertRefused(plaintext);
        Database strangeCa = open(address, quick().tls(otherCa.resolve("ca.crt"), null, null));
        assertRefused(strangeCa);

        // The gateway serves HTTPS with the same certificate, and no plain HTTP.
        HttpClient https = HttpClient.newBuilder().sslContext(trusting(certs.resolve("ca.crt")))
                .connectTimeout(Duration.ofSeconds(2)).build();
        HttpResponse<String> health = https.send(HttpRequest.newBuilder(
                URI.create("https://localhost:" + server.httpPort() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
        HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        assertThatThrownBy(() -> plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort()
                + "/health")).timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(java.io.IOException.class);
    }

    @Test
    void requiredClientCertificatesMustBeSignedByTheCa() throws Exception {
        TxkvServer server = start(new ServerConfig().dataDir(dir.resolve("d")).grpcAddress("127.0.0.1", 0)
                .httpAddress("127.0.0.1", 0).tls(node("a"), ServerTls.ClientAuth.REQUIRE));
        String address = "127.0.0.1:" + server.grpcPort();
        Database withCert = open(address, quick().tls(certs.resolve("ca.crt"),
                DevCertificates.clientCertificate(certs, "orders"), DevCertificates.clientKey(certs, "orders")));
        withCert.run(tr -> {
            tr.set(b("orders/1"), b("x"));
            return null;
        });
        Database without = open(address, quick().tls(certs.resolve("ca.crt"), null, null));
        assertRefused(without);
        Database otherCert = open(address, quick().tls(certs.resolve("ca.crt"),
                DevCertificates.clientCertificate(otherCa, "orders"), DevCertificates.clientKey(otherCa, "orders")));
        assertRefused(otherCert);
    }

    @Test
    void anExpiredClientCertificateIsRefusedInTheHandshake() throws Exception {
        TxkvServer server = start(new ServerConfig().dataDir(dir.resolve("d")).grpcAddress("127.0.0.1", 0)
                .tls(node("a"), ServerTls.ClientAuth.REQUIRE));
        String address = "127.0.0.1:" + server.grpcPort();
        // Signed by the right CA, with the right name, but its last day was yesterday.
        java.security.cert.X509Certificate ca = DevCertificates.readCertificate(certs.resolve(DevCertificates.CA_CERT));
        java.security.PrivateKey caKey = DevCertificates.readPrivateKey(certs.resolve(DevCertificates.CA_KEY));
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        java.security.KeyPair pair = g.generateKeyPair();
        long now = System.currentTimeMillis();
        org.bouncycastle.cert.X509v3CertificateBuilder builder = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(
                ca, BigInteger.valueOf(now), new java.util.Date(now - 10 * 86_400_000L), new java.util.Date(now - 86_400_000L),
                new javax.security.auth.x500.X500Principal("CN=orders"), pair.getPublic());
        java.security.cert.X509Certificate expired = new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter()
                .getCertificate(builder.build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder(
                        DevCertificates.SIGNATURE_ALGORITHM).build(caKey)));
        Path certFile = dir.resolve("expired.crt");
        Path keyFile = dir.resolve("expired.key");
        Files.writeString(certFile, pem("CERTIFICATE", expired.getEncoded()));
        Files.writeString(keyFile, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
        assertRefused(open(address, quick().tls(certs.resolve("ca.crt"), certFile, keyFile)));
        // The same client with a valid certificate is served.
        Database valid = open(address, quick().tls(certs.resolve("ca.crt"), DevCertificates.clientCertificate(certs, "orders"),
                DevCertificates.clientKey(certs, "orders")));
        byte[] got = valid.read(tr -> tr.get(b("k")).join());
        assertThat(got).isNull();
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + java.util.Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    @Test
    void membersSpeakMutualTlsAndRefuseACertificateThatIsNotAMembers() throws Exception {
        Map<String, String> clients = startMembers(ServerTls.ClientAuth.NONE, (id, config) -> {
            if (id.equals("c")) {
                // Member c presents a client's certificate (same CA, not a member's name) to the others.
                config.peerTls(new ServerTls.Files(DevCertificates.clientCertificate(certs, "orders"),
                        DevCertificates.clientKey(certs, "orders"), certs.resolve("ca.crt")));
            }
        });
        Database db = open(String.join(",", clients.values()), quick().tls(certs.resolve("ca.crt"), null, null)
                .commitTimeout(Duration.ofSeconds(20)).requestTimeout(Duration.ofSeconds(20)));
        Poll.until("a and b commit over mutual TLS", Duration.ofSeconds(60), () -> {
            try {
                db.run(tr -> {
                    tr.set(b("replicated"), b("yes"));
                    return null;
                });
                return true;
            } catch (TxkvException e) {
                return false;
            }
        });
        TxkvServer a = servers.get(0);
        TxkvServer b = servers.get(1);
        TxkvServer c = servers.get(2);
        Poll.until("a and b apply the commit", Duration.ofSeconds(30),
                () -> a.engine().counters().versionCommitted() > 0 && b.engine().counters().versionCommitted() > 0);
        Thread.sleep(2_000);
        assertThat(c.engine().counters().versionCommitted()).as("member c, refused by the others").isZero();
    }

    @Test
    void aShardedClusterForwardsBetweenServersOverMutualTls() throws Exception {
        // One replica per shard: most calls through one server are forwarded to another.
        Map<String, String> clients = startMembers(ServerTls.ClientAuth.REQUIRE, (id, config) -> config.shards(3, 1));
        RemoteSettings settings = quick().shardRouting(false).commitTimeout(Duration.ofSeconds(20))
                .requestTimeout(Duration.ofSeconds(20)).tls(certs.resolve("ca.crt"),
                        DevCertificates.clientCertificate(certs, "orders"), DevCertificates.clientKey(certs, "orders"));
        Database viaA = open(clients.get("a"), settings);
        byte[][] keys = {{0x10, 'k'}, {(byte) 0x60, 'k'}, {(byte) 0xB0, 'k'}};
        Poll.until("a transaction over the three shards through one server", Duration.ofSeconds(60), () -> {
            try {
                viaA.run(tr -> {
                    for (byte[] k : keys) {
                        tr.set(k, b("across"));
                    }
                    return null;
                });
                return true;
            } catch (TxkvException e) {
                return false;
            }
        });
        for (byte[] k : keys) {
            byte[] got = viaA.read(tr -> tr.get(k).join());
            assertThat(got).isEqualTo(b("across"));
        }
    }

    @Test
    void withAuthorizationOnMembersAreKnownByTheirCertificatesAndUsersByTheirs() throws Exception {
        // One replica per shard: most calls through one server are forwarded to another member,
        // which must be let through as a member; the client's certificate names its user.
        Map<String, String> clients = startMembers(ServerTls.ClientAuth.WANT, (id, config) -> config.shards(3, 1));
        String all = String.join(",", clients.values());
        RemoteSettings anonymous = quick().tls(certs.resolve("ca.crt"), null, null).commitTimeout(Duration.ofSeconds(20))
                .requestTimeout(Duration.ofSeconds(20));
        Poll.until("the cluster takes changes to users", Duration.ofSeconds(60), () -> {
            try {
                changeAuth(all, anonymous, auth().setUserAdd(dev.txkv.proto.UserAdd.newBuilder().setName("root")
                        .setPassword("root password 1").addRoles("root")));
                return true;
            } catch (TxkvException e) {
                return false;
            }
        });
        changeAuth(all, anonymous, auth().setRoleAdd("orders"));
        changeAuth(all, anonymous, auth().setRoleGrant(dev.txkv.proto.RoleChange.newBuilder().setRole("orders")
                .setPermission(dev.txkv.proto.Permission.newBuilder().setMode(dev.txkv.proto.Permission.Mode.READWRITE)
                        .setBegin(com.google.protobuf.ByteString.copyFrom(new byte[] {0}))
                        .setEnd(com.google.protobuf.ByteString.copyFrom(new byte[] {(byte) 0xC0})))));
        // A user known only by its certificate.
        changeAuth(all, anonymous, auth().setUserAdd(dev.txkv.proto.UserAdd.newBuilder().setName("orders")
                .addRoles("orders")));
        changeAuth(all, anonymous, auth().setSetEnabled(true));
        RemoteSettings orders = quick().shardRouting(false).commitTimeout(Duration.ofSeconds(20))
                .requestTimeout(Duration.ofSeconds(20)).tls(certs.resolve("ca.crt"),
                        DevCertificates.clientCertificate(certs, "orders"), DevCertificates.clientKey(certs, "orders"));
        Database viaA = open(clients.get("a"), orders);
        byte[][] keys = {{0x10, 'k'}, {(byte) 0x60, 'k'}, {(byte) 0xB0, 'k'}};
        // Each member enforces the change once its replica of the control group has it
        // (docs/security.md, "how fast a change applies"): ask every one.
        for (String member : List.of("a", "b", "c")) {
            Poll.until("member " + member + " enforces authorization", Duration.ofSeconds(10), () -> {
                try {
                    open(clients.get(member), anonymous).read(tr -> {
                        tr.options().setRetryLimit(1);
                        return tr.get(keys[0]).join();
                    });
                    return false;
                } catch (TxkvException e) {
                    return e.getError() == dev.txkv.ErrorCode.UNAUTHORIZED_ATTEMPT;
                }
            });
        }
        viaA.run(tr -> {
            for (byte[] k : keys) {
                tr.set(k, b("across"));
            }
            return null;
        });
        for (byte[] k : keys) {
            byte[] got = viaA.read(tr -> tr.get(k).join());
            assertThat(got).isEqualTo(b("across"));
        }
        assertThatThrownBy(() -> viaA.read(tr -> tr.get(new byte[] {(byte) 0xD0}).join()))
                .isInstanceOfSatisfying(TxkvException.class, e -> assertThat(e.getError())
                        .isEqualTo(dev.txkv.ErrorCode.PERMISSION_DENIED));
        // The cluster's status still gathers every member (members ask each other), for root.
        RemoteSettings root = quick().tls(certs.resolve("ca.crt"), null, null).credentials("root", "root password 1");
        try (RemoteBackend backend = RemoteBackend.connect(all, root)) {
            assertThat(backend.status(io.grpc.Deadline.after(20, TimeUnit.SECONDS)).join().getProcessesCount()).isEqualTo(3);
        }
    }

    @Test
    void authorizationCannotBeTurnedOnForMembersWithoutTls() throws Exception {
        int[] ports = Ports.freePorts(2);
        TxkvServer server = start(new ServerConfig().dataDir(dir.resolve("plain")).grpcAddress("127.0.0.1", ports[1])
                .replication(new ReplicationConfig("a", Map.of("a", "127.0.0.1:" + ports[0])).electionTimeoutMs(300, 600)));
        String address = "127.0.0.1:" + server.grpcPort();
        Poll.until("the member leads and takes a user", Duration.ofSeconds(30), () -> {
            try {
                changeAuth(address, quick(), auth().setUserAdd(dev.txkv.proto.UserAdd.newBuilder().setName("root")
                        .setPassword("root password 1").addRoles("root")));
                return true;
            } catch (TxkvException e) {
                return false;
            }
        });
        assertThatThrownBy(() -> changeAuth(address, quick(), auth().setSetEnabled(true)))
                .isInstanceOfSatisfying(TxkvException.class, e -> assertThat(e.getMessage()).contains("TLS"));
    }

    private static dev.txkv.proto.ChangeAuthRequest.Builder auth() {
        return dev.txkv.proto.ChangeAuthRequest.newBuilder().setProtocolVersion(1);
    }

    private static void changeAuth(String connection, RemoteSettings settings, dev.txkv.proto.ChangeAuthRequest.Builder c) {
        try (RemoteBackend backend = RemoteBackend.connect(connection, settings)) {
            backend.changeAuth(c.build(), Duration.ofSeconds(10)).join();
        } catch (java.util.concurrent.CompletionException e) {
            throw (RuntimeException) GrpcErrors.unwrap(e);
        }
    }

    @Test
    void aChangedCertificateIsServedWithoutARestartAndABadOneIsIgnored() throws Exception {
        Path own = Files.createDirectories(dir.resolve("own"));
        Files.copy(DevCertificates.nodeCertificate(certs, "a"), own.resolve("node.crt"));
        Files.copy(DevCertificates.nodeKey(certs, "a"), own.resolve("node.key"));
        TxkvServer server = start(new ServerConfig().dataDir(dir.resolve("d")).grpcAddress("127.0.0.1", 0)
                .httpAddress("127.0.0.1", 0).tlsReloadMs(100).tls(new ServerTls.Files(own.resolve("node.crt"),
                        own.resolve("node.key"), certs.resolve("ca.crt")), ServerTls.ClientAuth.NONE));
        BigInteger first = servedSerial(server.httpPort());
        // Load through the rotation: one long-lived client, and clients that connect anew each
        // time (a handshake each) while the files change under them. No request may fail.
        String address = "127.0.0.1:" + server.grpcPort();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        Database steady = open(address, quick().tls(certs.resolve("ca.crt"), null, null));
        java.util.concurrent.ExecutorService load = java.util.concurrent.Executors.newFixedThreadPool(3);
        for (int t = 0; t < 3; t++) {
            int thread = t;
            load.submit(() -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                for (int i = 0; !stop.get() && System.nanoTime() < deadline; i++) {
                    byte[] key = b("rotate/" + thread + "/" + i);
                    try {
                        if (thread == 0) {
                            steady.run(tr -> {
                                tr.set(key, key);
                                return null;
                            });
                        } else {
                            try (Database fresh = Txkv.open(RemoteBackend.connect(address,
                                    quick().tls(certs.resolve("ca.crt"), null, null)), new TxkvConfig())) {
                                fresh.run(tr -> {
                                    tr.set(key, key);
                                    return null;
                                });
                            }
                        }
                        done.incrementAndGet();
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }
            });
        }
        // A new certificate for the same member, written over the files.
        Path fresh = Files.createDirectories(dir.resolve("fresh"));
        Files.copy(certs.resolve("ca.crt"), fresh.resolve("ca.crt"));
        Files.copy(certs.resolve("ca.key"), fresh.resolve("ca.key"));
        DevCertificates.createNode(fresh, "a", List.of("localhost", "127.0.0.1"), 30, false);
        Files.copy(DevCertificates.nodeKey(fresh, "a"), own.resolve("node.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(DevCertificates.nodeCertificate(fresh, "a"), own.resolve("node.crt"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        BigInteger second = ((X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(Files.newInputStream(own.resolve("node.crt")))).getSerialNumber();
        assertThat(second).isNotEqualTo(first);
        Poll.until("the new certificate served", Duration.ofSeconds(10), () -> {
            try {
                return servedSerial(server.httpPort()).equals(second);
            } catch (Exception e) {
                return false;
            }
        });
        // Another member's key beside this certificate (a half-done rotation): refused whole.
        Files.copy(DevCertificates.nodeKey(certs, "b"), own.resolve("node.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Thread.sleep(500);
        assertThat(servedSerial(server.httpPort())).isEqualTo(second);
        // A garbage certificate file: the one in use stays.
        Files.writeString(own.resolve("node.crt"), "not a certificate");
        Thread.sleep(500);
        assertThat(servedSerial(server.httpPort())).isEqualTo(second);
        Database db = open("127.0.0.1:" + server.grpcPort(), quick().tls(certs.resolve("ca.crt"), null, null));
        byte[] none = db.read(tr -> tr.get(b("none")).join());
        assertThat(none).isNull();
        stop.set(true);
        load.shutdown();
        assertThat(load.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        assertThat(failures).as("requests failed during the rotation").isEmpty();
        assertThat(done.get()).as("commits during the rotation").isGreaterThan(5);
    }

    @Test
    void connectionsThatNeverFinishTheirHandshakeAreClosedWhileOthersAreServed() throws Exception {
        TxkvServer server = start(new ServerConfig().dataDir(dir.resolve("d")).grpcAddress("127.0.0.1", 0)
                .httpAddress(null, 0).tls(node("a"), ServerTls.ClientAuth.NONE));
        long started = System.nanoTime();
        List<java.net.Socket> stalled = new ArrayList<>();
        try {
            for (int i = 0; i < 50; i++) {
                java.net.Socket s = new java.net.Socket("127.0.0.1", server.grpcPort());
                s.setSoTimeout(30_000);
                stalled.add(s);
            }
            // A real client is served meanwhile.
            Database db = open("127.0.0.1:" + server.grpcPort(), quick().tls(certs.resolve("ca.crt"), null, null));
            byte[] none = db.read(tr -> tr.get(b("none")).join());
            assertThat(none).isNull();
            for (java.net.Socket s : stalled) {
                int read;
                try {
                    read = s.getInputStream().read();
                } catch (java.net.SocketException reset) {
                    read = -1;
                }
                assertThat(read).as("the server closes the connection").isEqualTo(-1);
            }
        } finally {
            for (java.net.Socket s : stalled) {
                s.close();
            }
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
        assertThat(seconds).as("closed after the handshake timeout (10 s)").isBetween(5L, 25L);
    }

    @Test
    void aServerBeyondLoopbackRefusesPlaintextUnlessToldInsecure() {
        ServerConfig exposed = new ServerConfig().dataDir(dir.resolve("d")).grpcAddress("0.0.0.0", 0).httpAddress("127.0.0.1", 0);
        assertThatThrownBy(() -> TxkvServer.start(exposed)).isInstanceOf(TxkvException.class)
                .hasMessageContaining("Refusing to serve the client port 0.0.0.0:0 beyond this machine in plaintext")
                .hasMessageContaining("--insecure");
        ServerConfig gateway = new ServerConfig().dataDir(dir.resolve("d")).grpcAddress("127.0.0.1", 0).httpAddress("0.0.0.0", 0);
        assertThatThrownBy(() -> TxkvServer.start(gateway)).isInstanceOf(TxkvException.class)
                .hasMessageContaining("the HTTP gateway 0.0.0.0:0");
        assertThat(Files.exists(dir.resolve("d"))).as("nothing opened").isFalse();
    }

    /**
     * Starts members a, b and c on 127.0.0.1 with TLS (their own node certificates, client
     * certificates as {@code clientAuth} says), {@code more} adding to each one's settings;
     * returns their client addresses by id.
     */
    private Map<String, String> startMembers(ServerTls.ClientAuth clientAuth,
            java.util.function.BiConsumer<String, ServerConfig> more) throws Exception {
        int[] ports = Ports.freePorts(6);
        Map<String, String> raft = new LinkedHashMap<>();
        Map<String, String> clients = new LinkedHashMap<>();
        String[] ids = {"a", "b", "c"};
        for (int i = 0; i < 3; i++) {
            raft.put(ids[i], "127.0.0.1:" + ports[i]);
            clients.put(ids[i], "127.0.0.1:" + ports[3 + i]);
        }
        for (int i = 0; i < 3; i++) {
            ServerConfig config = new ServerConfig().dataDir(dir.resolve(ids[i])).grpcAddress("127.0.0.1", ports[3 + i])
                    .httpAddress("127.0.0.1", 0).replication(new ReplicationConfig(ids[i], raft).electionTimeoutMs(500, 1000))
                    .peerClientAddresses(clients).tls(node(ids[i]), clientAuth);
            more.accept(ids[i], config);
            start(config);
        }
        return clients;
    }

    /** A read through {@code db} fails with connection_failed (1026): the handshake is refused. */
    private static void assertRefused(Database db) {
        assertThatThrownBy(() -> db.read(tr -> {
            tr.options().setRetryLimit(2);
            return tr.get(b("k")).join();
        })).isInstanceOf(TxkvException.class).satisfies(e -> assertThat(((TxkvException) e).getError())
                .as(e.getMessage()).isEqualTo(dev.txkv.ErrorCode.CONNECTION_FAILED));
    }

    /** The serial number of the certificate the HTTPS gateway on {@code port} presents. */
    private static BigInteger servedSerial(int port) throws Exception {
        SSLContext context = trusting(certs.resolve("ca.crt"));
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(3_000);
            socket.startHandshake();
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
        }
    }

    private static SSLContext trusting(Path caFile) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        try (var in = Files.newInputStream(caFile)) {
            store.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }
}
