package dev.txkv.remote;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static dev.txkv.remote.AuthClients.assertCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.MutationType;
import dev.txkv.TxkvException;
import dev.txkv.proto.AuthDescription;
import dev.txkv.proto.ChangeAuthRequest;
import dev.txkv.proto.GetRequest;
import dev.txkv.proto.Permission;
import dev.txkv.proto.RoleChange;
import dev.txkv.proto.TxkvGrpc;
import dev.txkv.proto.UserAdd;
import dev.txkv.proto.UserPassword;
import dev.txkv.proto.UserRole;
import dev.txkv.server.ServerConfig;
import dev.txkv.server.TxkvServer;
import dev.txkv.testkit.Poll;
import dev.txkv.wire.WireErrors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Authorization end to end on one server, the attacks docs/security.md's "Proof" lists:
 * user {@code orders} may read and write {@code orders/} and read {@code catalog/}; user
 * {@code payments} has {@code payments/}. Every side path is tried: reads, range reads,
 * clear ranges, conflict ranges, versionstamped keys, idempotency ids, watches, status,
 * metrics, the gateway, tokens tampered with, and the internal header from the network.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AuthTest {
    private static final String ROOT_PASSWORD = "root password 1";
    private static final String ORDERS_PASSWORD = "orders password 1";
    private static final String PAYMENTS_PASSWORD = "payments password 1";
    @TempDir
    static Path dir;
    private static TxkvServer server;
    private static String address;
    private static AuthClients clients;

    @BeforeAll
    static void start() throws Exception {
        server = TxkvServer.start(new ServerConfig().dataDir(dir.resolve("d")).grpcAddress("127.0.0.1", 0)
                .httpAddress("127.0.0.1", 0));
        address = "127.0.0.1:" + server.grpcPort();
        clients = new AuthClients(address, ROOT_PASSWORD);
        // Enabling needs a root first.
        assertCode(() -> change(ChangeAuthRequest.newBuilder().setSetEnabled(true)), ErrorCode.INVALID_OPTION_VALUE);
        change(ChangeAuthRequest.newBuilder().setUserAdd(UserAdd.newBuilder().setName("root")
                .setPassword(ROOT_PASSWORD).addRoles("root")));
        change(ChangeAuthRequest.newBuilder().setRoleAdd("orders"));
        change(grant("orders", Permission.Mode.READWRITE, "orders/", ""));
        change(grant("orders", Permission.Mode.READ, "catalog/", ""));
        change(ChangeAuthRequest.newBuilder().setRoleAdd("payments"));
        change(grant("payments", Permission.Mode.READWRITE, "payments/", ""));
        change(ChangeAuthRequest.newBuilder().setUserAdd(UserAdd.newBuilder().setName("orders")
                .setPassword(ORDERS_PASSWORD).addRoles("orders")));
        change(ChangeAuthRequest.newBuilder().setUserAdd(UserAdd.newBuilder().setName("payments")
                .setPassword(PAYMENTS_PASSWORD).addRoles("payments")));
        change(ChangeAuthRequest.newBuilder().setUserAdd(UserAdd.newBuilder().setName("watcher")
                .setPassword("watcher password").addRoles("monitor")));
        // Passwords too short are refused before anything is stored.
        assertCode(() -> change(ChangeAuthRequest.newBuilder().setUserAdd(UserAdd.newBuilder().setName("x")
                .setPassword("short"))), ErrorCode.INVALID_OPTION_VALUE);
        open(null, null).run(tr -> {
            tr.set(b("catalog/1"), b("book"));
            tr.set(b("payments/p"), b("100"));
            return null;
        });
        // A client set up with credentials while authorization is off (its sign-in answers an empty token).
        early = open("orders", ORDERS_PASSWORD);
        early.run(tr -> {
            tr.set(b("orders/early"), b("before"));
            return null;
        });
        change(ChangeAuthRequest.newBuilder().setSetEnabled(true));
        clients.enabled();
    }

    private static Database early;

    @Test
    void aClientThatSignedInWhileAuthorizationWasOffSignsInForRealAfterwards() {
        byte[] got = early.read(tr -> tr.get(b("orders/early")).join());
        assertThat(got).isEqualTo(b("before"));
        assertCode(() -> getOnce(early, "payments/p"), ErrorCode.PERMISSION_DENIED);
    }

    @AfterAll
    static void stop() {
        if (clients != null) {
            clients.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static ChangeAuthRequest.Builder grant(String role, Permission.Mode mode, String begin, String end) {
        return ChangeAuthRequest.newBuilder().setRoleGrant(RoleChange.newBuilder().setRole(role)
                .setPermission(Permission.newBuilder().setMode(mode).setBegin(ByteString.copyFromUtf8(begin))
                        .setEnd(ByteString.copyFromUtf8(end))));
    }

    private static AuthDescription change(ChangeAuthRequest.Builder change) {
        return clients.change(change);
    }

    private static AuthDescription changeAs(ChangeAuthRequest.Builder change, String user, String password) {
        return clients.changeAs(change, user, password);
    }

    private static RemoteSettings quick() {
        return AuthClients.quick();
    }

    private static Database open(String user, String password) {
        return clients.open(user, password);
    }

    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    /** One transaction, no retries: the first error is the answer. */
    private static void once(Database db, java.util.function.Consumer<dev.txkv.Transaction> body) {
        try (dev.txkv.Transaction tr = db.createTransaction()) {
            body.accept(tr);
            tr.commit().join();
        } catch (java.util.concurrent.CompletionException e) {
            throw (RuntimeException) GrpcErrors.unwrap(e);
        }
    }

    private static byte[] getOnce(Database db, String key) {
        try (dev.txkv.Transaction tr = db.createTransaction()) {
            return tr.get(b(key)).join();
        } catch (java.util.concurrent.CompletionException e) {
            throw (RuntimeException) GrpcErrors.unwrap(e);
        }
    }

    @Test
    void withoutCredentialsOrWithAWrongPasswordNothingIsServed() {
        assertCode(() -> getOnce(open(null, null), "orders/x"), ErrorCode.UNAUTHORIZED_ATTEMPT);
        assertCode(() -> getOnce(open("orders", "not the password"), "orders/x"), ErrorCode.UNAUTHORIZED_ATTEMPT);
        assertCode(() -> getOnce(open("nobody", "not the password"), "orders/x"), ErrorCode.UNAUTHORIZED_ATTEMPT);
    }

    @Test
    void aServiceReadsAndWritesItsPrefixAndNothingElse() {
        Database orders = open("orders", ORDERS_PASSWORD);
        once(orders, tr -> tr.set(b("orders/1"), b("one")));
        assertThat(getOnce(orders, "orders/1")).isEqualTo(b("one"));
        assertThat(getOnce(orders, "catalog/1")).isEqualTo(b("book"));
        // Reads outside: a key, a range that crosses into another prefix, never clamped.
        assertCode(() -> getOnce(orders, "payments/p"), ErrorCode.PERMISSION_DENIED);
        assertCode(() -> orders.read(tr -> tr.getRange(b("orders/"), b("payments/z")).asList().join()),
                ErrorCode.PERMISSION_DENIED);
        // Read only where it only reads.
        assertCode(() -> once(orders, tr -> tr.set(b("catalog/2"), b("x"))), ErrorCode.PERMISSION_DENIED);
        // A clear range across another prefix applies nothing, not even the part inside.
        assertCode(() -> once(orders, tr -> {
            tr.set(b("orders/2"), b("two"));
            tr.clear(b("orders/"), b("payments/zz"));
        }), ErrorCode.PERMISSION_DENIED);
        assertThat(getOnce(orders, "orders/1")).isEqualTo(b("one"));
        assertThat(getOnce(orders, "orders/2")).isNull();
        // Conflict ranges on another's keys: a read conflict leaks a bit, a write conflict aborts others.
        assertCode(() -> once(orders, tr -> {
            tr.set(b("orders/3"), b("x"));
            tr.addReadConflictKey(b("payments/p"));
        }), ErrorCode.PERMISSION_DENIED);
        assertCode(() -> once(orders, tr -> {
            tr.set(b("orders/3"), b("x"));
            tr.addWriteConflictRange(b("payments/"), b("payments0"));
        }), ErrorCode.PERMISSION_DENIED);
        // Atomic operations are writes of their key.
        once(orders, tr -> tr.mutate(MutationType.ADD, b("orders/n"), new byte[] {1, 0, 0, 0, 0, 0, 0, 0}));
        assertCode(() -> once(orders, tr -> tr.mutate(MutationType.ADD, b("payments/n"), new byte[8])),
                ErrorCode.PERMISSION_DENIED);
    }

    @Test
    void aVersionstampedKeyMustStayInsideThePrefixWhateverTheStamp() {
        Database orders = open("orders", ORDERS_PASSWORD);
        // "orders/evt/" then 10 stamp bytes at offset 11: every possible key is under orders/.
        once(orders, tr -> tr.mutate(MutationType.SET_VERSIONSTAMPED_KEY, stamped("orders/evt/", 11), b("e")));
        // The stamp over the prefix itself (offset 6 overwrites "/"; offset 0 the whole prefix).
        assertCode(() -> once(orders, tr -> tr.mutate(MutationType.SET_VERSIONSTAMPED_KEY, stamped("orders", 6), b("e"))),
                ErrorCode.PERMISSION_DENIED);
        assertCode(() -> once(orders, tr -> tr.mutate(MutationType.SET_VERSIONSTAMPED_KEY, stamped("", 0), b("e"))),
                ErrorCode.PERMISSION_DENIED);
    }

    /** {@code prefix}, 10 placeholder bytes at {@code offset}, and the 4-byte little-endian offset. */
    private static byte[] stamped(String prefix, int offset) {
        byte[] p = b(prefix);
        byte[] key = new byte[Math.max(p.length, offset + 10) + 4];
        System.arraycopy(p, 0, key, 0, p.length);
        int n = key.length - 4;
        key[n] = (byte) offset;
        key[n + 1] = (byte) (offset >>> 8);
        key[n + 2] = (byte) (offset >>> 16);
        key[n + 3] = (byte) (offset >>> 24);
        return key;
    }

    @Test
    void oneServiceCanNeitherLearnNorShadowAnothersIdempotencyId() {
        Database orders = open("orders", ORDERS_PASSWORD);
        Database payments = open("payments", PAYMENTS_PASSWORD);
        byte[] id = b("same-id");
        once(orders, tr -> {
            tr.options().setIdempotencyId(id);
            tr.set(b("orders/idem"), b("a"));
        });
        // Payments uses the same id: its commit is its own, not orders' remembered outcome.
        once(payments, tr -> {
            tr.options().setIdempotencyId(id);
            tr.set(b("payments/idem"), b("b"));
        });
        assertThat(getOnce(payments, "payments/idem")).isEqualTo(b("b"));
    }

    @Test
    void statusMetricsAndAdminNeedTheirRights() throws Exception {
        RemoteSettings orders = quick().credentials("orders", ORDERS_PASSWORD);
        try (RemoteBackend backend = RemoteBackend.connect(address, orders)) {
            assertCode(() -> backend.status(io.grpc.Deadline.after(5, TimeUnit.SECONDS)).join(), ErrorCode.PERMISSION_DENIED);
        }
        try (RemoteBackend backend = RemoteBackend.connect(address, quick().credentials("watcher", "watcher password"))) {
            assertThat(backend.status(io.grpc.Deadline.after(5, TimeUnit.SECONDS)).join().getAnsweredBy()).isNotEmpty();
        }
        // A user cannot grant itself a role; the last root cannot go while authorization is on.
        assertCode(() -> changeAs(ChangeAuthRequest.newBuilder().setUserGrant(UserRole.newBuilder().setUser("orders")
                .setRole("root")), "orders", ORDERS_PASSWORD), ErrorCode.PERMISSION_DENIED);
        assertCode(() -> change(ChangeAuthRequest.newBuilder().setUserDelete("root")), ErrorCode.INVALID_OPTION_VALUE);
        assertCode(() -> change(ChangeAuthRequest.newBuilder().setUserRevoke(UserRole.newBuilder().setUser("root")
                .setRole("root"))), ErrorCode.INVALID_OPTION_VALUE);
        assertCode(() -> change(grant("root", Permission.Mode.READ, "a", "")), ErrorCode.INVALID_OPTION_VALUE);

        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + server.httpPort();
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(metrics.statusCode()).isEqualTo(401);
        assertThat(metrics.body()).contains("6001");
        String token = token(http, base, "watcher", "watcher password");
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).header("Authorization", "Bearer " + token)
                .build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        HttpResponse<String> kv = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/kv/payments/p"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(kv.statusCode()).isEqualTo(403);
        assertThat(kv.body()).contains("6000");
        String ordersToken = token(http, base, "orders", ORDERS_PASSWORD);
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/kv/orders/h"))
                .header("Authorization", "Bearer " + ordersToken).PUT(HttpRequest.BodyPublishers.ofString("v")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isBetween(200, 299);
    }

    @Test
    void theGatewayRefusesBadAuthorizationHeadersAndInjectsNoHeader() throws Exception {
        int port = server.httpPort();
        // A control character in the header, and two Authorization headers: 401 with a challenge.
        String bad = raw(port, "GET /v1/kv/orders/x HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer abc\u0001def\r\n"
                + "Connection: close\r\n\r\n");
        assertThat(bad).startsWith("HTTP/1.1 401").containsIgnoringCase("WWW-Authenticate: Bearer");
        String twice = raw(port, "GET /v1/kv/orders/x HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\n"
                + "Authorization: Bearer b\r\nConnection: close\r\n\r\n");
        assertThat(twice).startsWith("HTTP/1.1 401");
        // An encoded CR LF in the path ends up in no response header.
        String injected = raw(port, "GET /v1/kv/a%0d%0aSet-Cookie:x=y HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        String head = injected.substring(0, Math.max(0, injected.indexOf("\r\n\r\n")));
        assertThat(head).doesNotContainIgnoringCase("Set-Cookie");
        assertThat(injected).startsWith("HTTP/1.1 401");
    }

    /** Sends {@code request} as it is and returns the whole answer. */
    private static String raw(int port, String request) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
        }
    }

    private static String token(HttpClient http, String base, String user, String password) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/Authenticate"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"protocolVersion\":1,\"user\":\"" + user + "\",\"password\":\""
                        + password + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return com.google.gson.JsonParser.parseString(r.body()).getAsJsonObject().get("token").getAsString();
    }

    @Test
    void badTokensAndTheInternalHeaderAreRefused() throws Exception {
        ManagedChannel channel = NettyChannelBuilder.forTarget(address).usePlaintext().build();
        String good = dev.txkv.proto.AuthGrpc.newBlockingStub(channel).authenticate(
                dev.txkv.proto.AuthenticateRequest.newBuilder().setProtocolVersion(1).setUser("orders")
                        .setPassword(ORDERS_PASSWORD).build()).getToken();
        String[] parts = good.split("\\.");
        Base64.Encoder url = Base64.getUrlEncoder().withoutPadding();
        String noneHeader = url.encodeToString(b("{\"alg\":\"none\"}"));
        String otherClaims = url.encodeToString(b("{\"sub\":\"root\",\"aud\":\"txkv\",\"epoch\":1,\"exp\":9999999999}"));
        String forged = nimbusOtherKey();
        try {
            assertThat(callWith(channel, "Bearer " + good, null)).isNull();
            assertThat(callWith(channel, "Bearer " + parts[0] + "." + otherClaims + "." + parts[2], null)).isEqualTo("6003");
            assertThat(callWith(channel, "Bearer " + noneHeader + "." + parts[1] + ".", null)).isEqualTo("6003");
            assertThat(callWith(channel, "Bearer " + good.substring(0, good.length() - 4) + "AAAA", null)).isEqualTo("6003");
            assertThat(callWith(channel, "Bearer " + forged, null)).isEqualTo("6003");
            assertThat(callWith(channel, "Basic cm9vdDpy", null)).isEqualTo("6001");
            // The empty token of a sign-in made while authorization was off: sign in again.
            assertThat(callWith(channel, "Bearer ", null)).isEqualTo("6003");
            assertThat(callWith(channel, "Bearer", null)).isEqualTo("6003");
            // Only the server's own gateway may say which certificate a caller presented.
            assertThat(callWith(channel, null, "root")).isEqualTo("6001");
            assertThat(callWith(channel, "Bearer " + good, "root")).isEqualTo("6001");
            Metadata address = new Metadata();
            address.put(Metadata.Key.of("txkv-internal-address", Metadata.ASCII_STRING_MARSHALLER), "10.0.0.1");
            address.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + good);
            assertThatThrownBy(() -> TxkvGrpc.newBlockingStub(channel).withInterceptors(
                    MetadataUtils.newAttachHeadersInterceptor(address)).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .get(GetRequest.newBuilder().setProtocolVersion(1).setKey(ByteString.copyFromUtf8("orders/x"))
                            .setReadVersion(-1).build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getTrailers().get(WireErrors.ERROR_CODE)).isEqualTo("6001"));
        } finally {
            channel.shutdownNow();
        }
    }

    /** A token that looks right but is signed by another key. */
    private static String nimbusOtherKey() throws Exception {
        com.nimbusds.jose.jwk.ECKey other = new com.nimbusds.jose.jwk.gen.ECKeyGenerator(com.nimbusds.jose.jwk.Curve.P_256)
                .keyIDFromThumbprint(true).generate();
        com.nimbusds.jwt.SignedJWT jwt = new com.nimbusds.jwt.SignedJWT(new com.nimbusds.jose.JWSHeader.Builder(
                com.nimbusds.jose.JWSAlgorithm.ES256).keyID(other.getKeyID()).build(),
                new com.nimbusds.jwt.JWTClaimsSet.Builder().subject("root").audience("txkv").claim("epoch", 1L)
                        .expirationTime(new java.util.Date(System.currentTimeMillis() + 60_000)).build());
        jwt.sign(new com.nimbusds.jose.crypto.ECDSASigner(other));
        return jwt.serialize();
    }

    /** A Get of orders/x with the given headers: null when it succeeded, else the error code. */
    private static String callWith(ManagedChannel channel, String authorization, String internal) {
        Metadata m = new Metadata();
        if (authorization != null) {
            m.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), authorization);
        }
        if (internal != null) {
            m.put(Metadata.Key.of("txkv-internal-principal", Metadata.ASCII_STRING_MARSHALLER), internal);
        }
        try {
            TxkvGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m))
                    .withDeadlineAfter(5, TimeUnit.SECONDS)
                    .get(GetRequest.newBuilder().setProtocolVersion(1).setKey(ByteString.copyFromUtf8("orders/x"))
                            .setReadVersion(-1).build());
            return null;
        } catch (StatusRuntimeException e) {
            return e.getTrailers() == null ? e.getStatus().toString() : e.getTrailers().get(WireErrors.ERROR_CODE);
        }
    }

    @Test
    void aRevokedGrantEndsTheWatchesItAllowedAndAPasswordChangeEndsTokens() throws Exception {
        change(ChangeAuthRequest.newBuilder().setRoleAdd("temp"));
        change(grant("temp", Permission.Mode.READ, "temp/", ""));
        change(ChangeAuthRequest.newBuilder().setUserAdd(UserAdd.newBuilder().setName("temp")
                .setPassword("temp password 1").addRoles("temp")));
        Database temp = open("temp", "temp password 1");
        assertCode(() -> temp.run(tr -> tr.watch(b("orders/k"))).join(), ErrorCode.PERMISSION_DENIED);
        CompletableFuture<Void> watch = temp.run(tr -> tr.watch(b("temp/k")));
        Thread.sleep(300);
        assertThat(watch).isNotDone();
        change(ChangeAuthRequest.newBuilder().setRoleRevoke(RoleChange.newBuilder().setRole("temp")
                .setPermission(Permission.newBuilder().setMode(Permission.Mode.READ).setBegin(ByteString.copyFromUtf8("temp/")))));
        assertThatThrownBy(() -> watch.get(5, TimeUnit.SECONDS)).satisfies(t -> {
            Throwable c = GrpcErrors.unwrap(t);
            assertThat(c).isInstanceOf(TxkvException.class);
            assertThat(((TxkvException) c).getError()).isEqualTo(ErrorCode.PERMISSION_DENIED);
        });
        // A password change ends the old tokens: the client with the old password cannot sign in again.
        change(grant("temp", Permission.Mode.READ, "temp/", ""));
        assertThat(getOnce(temp, "temp/k")).isNull();
        change(ChangeAuthRequest.newBuilder().setUserPassword(UserPassword.newBuilder().setName("temp")
                .setPassword("temp password 2")));
        assertCode(() -> temp.read(tr -> tr.get(b("temp/k")).join()), ErrorCode.UNAUTHORIZED_ATTEMPT);
        assertThat(getOnce(open("temp", "temp password 2"), "temp/k")).isNull();
    }

    @Test
    void repeatedWrongPasswordsAreThrottled() {
        // Failed sign-ins count per user and address, unknown users included: the 11th in a minute is refused unseen.
        assertCode(() -> getOnce(open("stranger", "wrong password 0"), "x"), ErrorCode.UNAUTHORIZED_ATTEMPT);
        int attempts = 1;
        TxkvException last = null;
        while (attempts <= 10) {
            String wrong = "wrong password " + attempts++;
            try {
                getOnce(open("stranger", wrong), "x");
            } catch (TxkvException e) {
                last = e;
                if (e.getError() == ErrorCode.TAG_THROTTLED) {
                    break;
                }
                assertThat(e.getError()).isEqualTo(ErrorCode.UNAUTHORIZED_ATTEMPT);
            }
        }
        assertThat(last).isNotNull();
        assertThat(last.getError()).isEqualTo(ErrorCode.TAG_THROTTLED);
        assertThat(last.isRetryable()).isTrue();
        // Another user from the same address is not held back.
        assertThat(getOnce(open("orders", ORDERS_PASSWORD), "orders/none")).isNull();
    }

    @Test
    void aUserThatNeverReadsItsAnswersIsRefusedMoreBeforeTheServerBuffersThem() throws Exception {
        // 20 values of 100 KB: each range answer is about 2 MB; 64 MiB of unread answers is the limit.
        Database root = open("root", ROOT_PASSWORD);
        root.run(tr -> {
            for (int i = 0; i < 20; i++) {
                tr.set(b(String.format("orders/big/%02d", i)), new byte[100_000]);
            }
            return null;
        });
        String token;
        ManagedChannel channel = NettyChannelBuilder.forTarget(address).usePlaintext().build();
        List<io.grpc.ClientCall<dev.txkv.proto.GetRangeRequest, dev.txkv.proto.GetRangeResponse>> open = new ArrayList<>();
        try {
            token = dev.txkv.proto.AuthGrpc.newBlockingStub(channel).authenticate(dev.txkv.proto.AuthenticateRequest
                    .newBuilder().setProtocolVersion(1).setUser("orders").setPassword(ORDERS_PASSWORD).build()).getToken();
            Metadata headers = new Metadata();
            headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
            dev.txkv.proto.GetRangeRequest request = dev.txkv.proto.GetRangeRequest.newBuilder().setProtocolVersion(1)
                    .setBegin(ByteString.copyFromUtf8("orders/big/")).setEnd(ByteString.copyFromUtf8("orders/big0"))
                    .setReadVersion(server.engine().getReadVersion().join()).build();
            CompletableFuture<String> refused = new CompletableFuture<>();
            for (int i = 0; i < 80 && !refused.isDone(); i++) {
                io.grpc.ClientCall<dev.txkv.proto.GetRangeRequest, dev.txkv.proto.GetRangeResponse> call =
                        channel.newCall(TxkvGrpc.getGetRangeMethod(), io.grpc.CallOptions.DEFAULT);
                call.start(new io.grpc.ClientCall.Listener<>() {
                    @Override
                    public void onClose(io.grpc.Status status, Metadata trailers) {
                        String code = trailers == null ? null : trailers.get(WireErrors.ERROR_CODE);
                        if (code != null) {
                            refused.complete(code);
                        }
                    }
                }, headers);
                // Never asks for a message: the answer stays with the server.
                call.sendMessage(request);
                call.halfClose();
                open.add(call);
                Thread.sleep(20);
            }
            assertThat(refused.get(10, TimeUnit.SECONDS)).isEqualTo("1213");
            // About 32 answers of 2 MB fit in 64 MiB; the refusal reaches this loop a few calls later.
            assertThat(open.size()).as("calls held before the refusal").isBetween(20, 79);
            // Another user is not held back; and once the calls end, orders reads again.
            assertThat(getOnce(open("payments", PAYMENTS_PASSWORD), "payments/p")).isEqualTo(b("100"));
            open.forEach(c -> c.cancel("done", null));
            Poll.until("the held answers are given back", Duration.ofSeconds(10), () -> {
                try {
                    return open("orders", ORDERS_PASSWORD).read(tr -> tr.getRange(b("orders/big/"), b("orders/big0"))
                            .asList().join()).size() == 20;
                } catch (TxkvException e) {
                    return false;
                }
            });
        } finally {
            open.forEach(c -> c.cancel("done", null));
            channel.shutdownNow();
        }
    }

    @Test
    void noPasswordIsStoredInTheClear() throws Exception {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        for (Path f : files) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(f);
            } catch (java.io.IOException e) {
                continue;
            }
            String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
            for (String secret : List.of(ROOT_PASSWORD, ORDERS_PASSWORD, PAYMENTS_PASSWORD)) {
                assertThat(text).as(f.toString()).doesNotContain(secret);
            }
        }
    }
}
