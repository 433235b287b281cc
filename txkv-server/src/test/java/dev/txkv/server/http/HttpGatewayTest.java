package dev.txkv.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.testkit.Poll;
import java.time.Duration;
import com.google.protobuf.ByteString;
import dev.txkv.proto.CommitRequest;
import dev.txkv.proto.MutationType;
import java.net.Socket;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The gateway against a scripted service: transcoding, conveniences, error mapping, limits. */
class HttpGatewayTest {
    private GatewayFixture fx;

    @BeforeEach
    void start() throws Exception {
        fx = new GatewayFixture();
    }

    @AfterEach
    void stop() throws Exception {
        fx.close();
    }

    @Test
    void transcodesUnaryCallsWithProto3Json() throws Exception {
        HttpResponse<String> grv = fx.post("/v1/GetReadVersion", "");
        assertThat(grv.statusCode()).isEqualTo(200);
        assertThat(grv.body()).contains("\"readVersion\": \"" + FakeTxkvService.READ_VERSION + "\"");
        assertThat(grv.headers().firstValue("Content-Type")).hasValue("application/json");

        fx.service.store.put(ByteString.copyFromUtf8("k"), ByteString.copyFromUtf8("v"));
        HttpResponse<String> get = fx.post("/v1/Get", "{\"key\":\"aw==\",\"readVersion\":\"5\"}");
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.body()).contains("\"present\": true").contains("\"value\": \"dg==\"");
        // protocol_version defaults to 1 when the body leaves it out.
        assertThat(fx.service.gets.get(0).getProtocolVersion()).isEqualTo(1);
        assertThat(fx.service.gets.get(0).getReadVersion()).isEqualTo(5);
    }

    @Test
    void mergesAServerStreamIntoOneDocument() throws Exception {
        HttpResponse<String> range = fx.post("/v1/GetRange", "{\"begin\":\"\",\"end\":\"/w==\"}");
        assertThat(range.statusCode()).isEqualTo(200);
        assertThat(range.body()).contains("\"key\": \"YQ==\"").contains("\"key\": \"Yg==\"").contains("\"more\": true");
    }

    @Test
    void watchLongPollsUntilItFiresOrTimesOut() throws Exception {
        HttpResponse<String> fired = fx.post("/v1/Watch", "{\"key\":\"" + b64("fires") + "\"}");
        assertThat(fired.statusCode()).isEqualTo(200);
        assertThat(fired.body()).contains("\"changed\": true");
        long start = System.nanoTime();
        HttpResponse<String> quiet = fx.post("/v1/Watch?timeoutMs=200", "{\"key\":\"" + b64("quiet") + "\"}");
        assertThat(quiet.statusCode()).isEqualTo(200);
        assertThat(quiet.body()).contains("\"changed\": false");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(150);
        assertError(fx.post("/v1/Watch?timeoutMs=999999", "{}"), 400, 2006);
        assertError(fx.post("/v1/Watch?timeoutMs=abc", "{}"), 400, 2000);
    }

    @Test
    void watchesDoNotHoldWorkerThreads() throws Exception {
        // More quiet watches than worker threads: the gateway must still answer at once.
        CompletableFuture<?>[] watches = new CompletableFuture<?>[HttpGateway.WORKER_THREADS * 2];
        for (int i = 0; i < watches.length; i++) {
            watches[i] = fx.client.sendAsync(HttpRequest.newBuilder(fx.uri("/v1/Watch?timeoutMs=2000"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"key\":\"" + b64("quiet") + "\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
        }
        Thread.sleep(200);
        assertThat(fx.get("/health").statusCode()).isEqualTo(200);
        CompletableFuture.allOf(watches).get(10, TimeUnit.SECONDS);
    }

    @Test
    void statusAndHealthAndMetrics() throws Exception {
        HttpResponse<String> status = fx.get("/status");
        assertThat(status.statusCode()).isEqualTo(200);
        // The proto's own field names, and fields without presence printed even when empty.
        assertThat(status.body()).contains("\"answered_by\": \"fake\"", "\"processes\": []");
        assertThat(fx.get("/health").body()).contains("\"status\": \"ok\"");
        fx.ready.set(false);
        assertThat(fx.get("/health").statusCode()).isEqualTo(503);
        HttpResponse<String> metrics = fx.get("/metrics");
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
        assertThat(metrics.body()).contains("txkv_http_requests_total");
        // The transcoded RPC prints the gateway's way: lowerCamelCase names, as every /v1/ call.
        assertThat(fx.post("/v1/Status", "").body()).contains("\"status\":", "\"answeredBy\": \"fake\"");
    }

    @Test
    void keyValueConveniences() throws Exception {
        HttpResponse<String> put = fx.send(HttpRequest.newBuilder(fx.uri("/v1/kv/caf%C3%A9%2Fx"))
                .PUT(HttpRequest.BodyPublishers.ofString("hello")));
        assertThat(put.statusCode()).isEqualTo(200);
        assertThat(put.headers().firstValue(KeyValueEndpoints.COMMIT_VERSION_HEADER)).isPresent();
        CommitRequest commit = fx.service.commits.get(0);
        assertThat(commit.getReadVersion()).isEqualTo(-1);
        assertThat(commit.getMutations(0).getKey().toStringUtf8()).isEqualTo("café/x");
        assertThat(commit.getMutations(0).getParam().toStringUtf8()).isEqualTo("hello");
        // The service records what the mutations write; the gateway adds no write conflicts.
        assertThat(commit.getWriteConflictsCount()).isZero();

        fx.service.store.put(ByteString.copyFromUtf8("café/x"), ByteString.copyFromUtf8("hello"));
        HttpResponse<String> raw = fx.get("/v1/kv/caf%C3%A9%2Fx");
        assertThat(raw.statusCode()).isEqualTo(200);
        assertThat(raw.body()).isEqualTo("hello");
        assertThat(raw.headers().firstValue(KeyValueEndpoints.READ_VERSION_HEADER)).hasValue(Long.toString(FakeTxkvService.READ_VERSION));
        // Without ?readVersion= the read takes the version itself: one Get with read version -1.
        assertThat(fx.service.gets.get(fx.service.gets.size() - 1).getReadVersion()).isEqualTo(-1);
        HttpResponse<String> json = fx.send(HttpRequest.newBuilder(fx.uri("/v1/kv/" + b64("café/x").replace("/", "%2F")
                + "?encoding=base64&readVersion=77")).header("Accept", "application/json").GET());
        assertThat(json.body()).contains("\"value\": \"aGVsbG8=\"").contains("\"readVersion\": \"77\"");
        assertError(fx.get("/v1/kv/absent"), 404, 404);

        HttpResponse<String> delete = fx.send(HttpRequest.newBuilder(fx.uri("/v1/kv/gone")).DELETE());
        assertThat(delete.statusCode()).isEqualTo(200);
        CommitRequest clear = fx.service.commits.get(1);
        assertThat(clear.getMutations(0).getType()).isEqualTo(MutationType.CLEAR_RANGE);
    }

    @Test
    void rangeConvenience() throws Exception {
        HttpResponse<String> rows = fx.get("/v1/range?begin=a&end=c&limit=10&encoding=base64".replace("begin=a", "begin=YQ==").replace("end=c", "end=Yw=="));
        assertThat(rows.statusCode()).isEqualTo(200);
        assertThat(rows.body()).contains("\"more\": true").contains("\"value\": \"/w==\"");
        // A stored value that is not UTF-8 is never printed as text.
        assertError(fx.get("/v1/range?begin=a&end=c"), 406, 2000);
        assertError(fx.get("/v1/range?begin=z&end=a"), 400, 2005);
        assertError(fx.get("/v1/range?limit=0"), 400, 2012);
        assertError(fx.get("/v1/range?limit=99999999999999999999"), 400, 2012);
        assertError(fx.get("/v1/range?reverse=maybe"), 400, 2000);
        assertError(fx.get("/v1/range?encoding=base64&begin=!!!"), 400, 2000);
        assertError(fx.get("/v1/range?bogus=1"), 400, 2000);
    }

    @Test
    void oneShotTransactionDocument() throws Exception {
        HttpResponse<String> ok = fx.post("/v1/transaction", "{\"readVersion\":\"123\",\"reads\":[\"x\"],"
                + "\"readConflicts\":[{\"begin\":\"p\",\"end\":\"q\"}],"
                + "\"writeConflicts\":[{\"begin\":\"s\",\"end\":\"t\"}],"
                + "\"mutations\":[{\"type\":\"SET_VALUE\",\"key\":\"x\",\"param\":\"2\"},"
                + "{\"type\":\"CLEAR_RANGE\",\"key\":\"m\",\"param\":\"n\"},{\"type\":\"ADD\",\"key\":\"c\",\"param\":\"\\u0001\"}],"
                + "\"idempotencyId\":\"abc\"}");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).contains("\"version\": \"" + (FakeTxkvService.READ_VERSION + 1) + "\"");
        CommitRequest c = fx.service.commits.get(0);
        assertThat(c.getReadVersion()).isEqualTo(123);
        assertThat(c.getReadConflictsCount()).isEqualTo(2);
        // Only the explicit write conflicts: the service adds those the mutations imply.
        assertThat(c.getWriteConflictsCount()).isEqualTo(1);
        assertThat(c.getWriteConflicts(0).getEnd().toStringUtf8()).isEqualTo("t");
        assertThat(c.getMutationsCount()).isEqualTo(3);
        assertThat(c.getIdempotencyId().toStringUtf8()).isEqualTo("abc");

        HttpResponse<String> conflict = fx.post("/v1/transaction", "{\"readVersion\":1,\"mutations\":[{\"key\":\"conflict\"}]}");
        assertError(conflict, 409, 1020);
        assertThat(conflict.body()).contains("\"retryable\": true").contains("not_committed");
        assertThat(conflict.headers().firstValue("Retry-After")).isPresent();

        assertError(fx.post("/v1/transaction", "{\"mutations\":[{\"type\":\"NOPE\"}]}"), 400, 2000);
        assertError(fx.post("/v1/transaction", "{\"unknown\":1}"), 400, 2000);
        assertError(fx.post("/v1/transaction", "{\"reads\":\"notalist\"}"), 400, 2000);
        assertError(fx.post("/v1/transaction", "{\"readVersion\":\"x\"}"), 400, 2000);
        assertError(fx.post("/v1/transaction", "{\"encoding\":\"base64\",\"reads\":[\"***\"]}"), 400, 2000);
        assertError(fx.post("/v1/transaction", "{\"reads\":[\"x\"]}"), 400, 2000);
        assertError(fx.post("/v1/transaction", "{"), 400, 2000);
    }

    @Test
    void serviceErrorsMapToHttpStatuses() throws Exception {
        assertError(fx.post("/v1/Get", "{\"key\":\"" + b64("overloaded") + "\"}"), 503, 1042);
        assertError(fx.post("/v1/Get", "{\"key\":\"" + b64("too_old") + "\"}"), 409, 1007);
        assertError(fx.post("/v1/Get", "{\"key\":\"" + b64("internal") + "\"}"), 500, 4100);
        assertError(fx.post("/v1/Get", "{\"protocolVersion\":7}"), 400, 2200);
    }

    @Test
    void badRequestsAreJsonErrors() throws Exception {
        assertError(fx.get("/nope"), 404, 404);
        assertError(fx.post("/v1/NoSuchMethod", "{}"), 404, 404);
        HttpResponse<String> wrongMethod = fx.get("/v1/Get");
        assertError(wrongMethod, 405, 405);
        assertThat(wrongMethod.headers().firstValue("Allow")).hasValue("POST");
        assertError(fx.send(HttpRequest.newBuilder(fx.uri("/v1/kv/x")).POST(HttpRequest.BodyPublishers.noBody())), 405, 405);
        assertError(fx.post("/v1/Get", "{\"key\":5}"), 400, 2000);
        assertError(fx.post("/v1/Get", "{\"key\":\"%%%\"}"), 400, 2000);
        assertError(fx.post("/v1/Get", "{\"nope\":true}"), 400, 2000);
        assertError(fx.post("/v1/Get", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[".repeat(1000)), 400, 2000);
        assertError(fx.send(HttpRequest.newBuilder(fx.uri("/v1/Get"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {'{', (byte) 0xc3, '}'}))), 400, 2000);
        assertError(fx.get("/v1/kv/%FF%FE"), 400, 2000);
        assertError(fx.get("/v1/kv/x?readVersion=soon"), 400, 2011);
        assertError(fx.get("/v1/kv/x?readVersion=-1"), 400, 2011);
    }

    @Test
    void oversizedBodyIsRefusedWithoutReadingIt() throws Exception {
        // Declares 1 GiB but sends almost nothing: the answer must come from the header alone.
        try (Socket socket = new Socket("127.0.0.1", fx.gateway.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("PUT /v1/kv/big HTTP/1.1\r\nHost: x\r\nContent-Length: " + (1L << 30) + "\r\n\r\nabc")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // The server keeps the connection until its request timer cuts the missing body off:
            // read just the response, which ends with the JSON document's closing brace.
            InputStream in = socket.getInputStream();
            StringBuilder received = new StringBuilder();
            while (!received.toString().endsWith("\n}")) {
                int b = in.read();
                if (b < 0) {
                    break;
                }
                received.append((char) b);
            }
            String response = received.toString();
            assertThat(response).startsWith("HTTP/1.1 413").contains("\"code\": 413");
        }
        byte[] big = new byte[(int) HttpGateway.BODY_BYTES_MAX + 1];
        HttpResponse<String> chunked = fx.send(HttpRequest.newBuilder(fx.uri("/v1/kv/big"))
                .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big))));
        assertError(chunked, 413, 413);
        assertThat(fx.get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void fullQueueAnswers503() throws Exception {
        fx.close();
        fx = new GatewayFixture(1, 1);
        CompletableFuture<HttpResponse<String>> running = fx.client.sendAsync(
                HttpRequest.newBuilder(fx.uri("/v1/kv/slow")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(fx.service.slowEntered.await(10, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<HttpResponse<String>> queued = fx.client.sendAsync(
                HttpRequest.newBuilder(fx.uri("/health")).GET().build(), HttpResponse.BodyHandlers.ofString());
        Poll.until("the second request to queue", Duration.ofSeconds(10), () -> fx.gateway.queuedRequests() >= 1);
        HttpResponse<String> shed = fx.get("/health");
        assertError(shed, 503, 1042);
        assertThat(shed.body()).contains("\"retryable\": true");
        fx.service.slowRelease.countDown();
        assertThat(running.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(404);
        assertThat(queued.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }

    static void assertError(HttpResponse<String> response, int httpStatus, int code) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(httpStatus);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(response.body()).contains("\"error\": {").contains("\"code\": " + code + ",");
    }

    static String b64(String text) {
        return java.util.Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }
}
