package dev.txkv.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.testkit.Seeds;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random bytes and JSON-ish bodies, random methods and query strings, sent to every endpoint:
 * every answer must be a valid HTTP status, every 4xx/5xx a JSON error, and the gateway must
 * still answer /health afterwards. Prints its seed; -Dtxkv.seed=... replays a run.
 */
class HttpGatewayFuzzTest {
    private static final int REQUESTS = 2_000;
    private static final List<String> PATHS = List.of("/v1/GetReadVersion", "/v1/Get", "/v1/GetRange", "/v1/Commit",
            "/v1/Watch", "/v1/Status", "/v1/kv/k", "/v1/kv/%C3%A9", "/v1/kv/%FF", "/v1/range", "/v1/transaction",
            "/health", "/status", "/metrics", "/nowhere", "/v1/", "/v1/kv/");
    private static final List<String> QUERIES = List.of("", "?encoding=base64", "?encoding=x", "?limit=-1",
            "?limit=10&reverse=true", "?begin=a&end=b", "?timeoutMs=1", "?timeoutMs=0", "?readVersion=1", "?readVersion=x",
            "?a=1&a=2", "?=", "?%FF=1", "?begin=%FF");
    private static final List<String> METHODS = List.of("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");
    private static final String[] FRAGMENTS = {"{", "}", "[", "]", ",", ":", "\"", "\"key\"", "\"readVersion\"", "\"mutations\"",
        "\"type\"", "\"SET_VALUE\"", "\"reads\"", "\"encoding\"", "\"base64\"", "\"rowLimit\"", "1", "-1", "1e999", "null",
        "true", "\"aGk=\"", "\"%%\"", "\\u0000", "\\ud800", "9223372036854775808", "\"protocolVersion\"", " "};

    @Test
    void everyAnswerIsWellFormedAndTheGatewaySurvives() throws Exception {
        long seed = Seeds.seed();
        Random random = new Random(seed);
        try (GatewayFixture fx = new GatewayFixture()) {
            fx.service.store.put(com.google.protobuf.ByteString.copyFromUtf8("k"), com.google.protobuf.ByteString.copyFromUtf8("v"));
            for (int i = 0; i < REQUESTS; i++) {
                String method = METHODS.get(random.nextInt(METHODS.size()));
                String path = PATHS.get(random.nextInt(PATHS.size())) + QUERIES.get(random.nextInt(QUERIES.size()));
                byte[] body = random.nextBoolean() ? jsonish(random) : bytes(random);
                HttpRequest.Builder request = HttpRequest.newBuilder(fx.uri(path))
                        .method(method, HttpRequest.BodyPublishers.ofByteArray(body));
                HttpResponse<String> response;
                try {
                    response = fx.send(request);
                } catch (java.net.http.HttpTimeoutException e) {
                    throw new AssertionError("seed " + seed + ", request " + i + ": " + method + " " + path + " with body "
                            + new String(body, StandardCharsets.ISO_8859_1) + " got no answer", e);
                }
                String what = "seed " + seed + ", request " + i + ": " + method + " " + path + " -> " + response.body();
                assertThat(response.statusCode()).as(what).isBetween(200, 599);
                if (response.statusCode() >= 400 && !(path.startsWith("/health") && response.statusCode() == 503)) {
                    assertThat(response.headers().firstValue("Content-Type")).as(what).hasValue("application/json");
                    assertThat(response.body()).as(what).startsWith("{\n  \"error\": {").contains("\"code\": ")
                            .contains("\"retryable\": ");
                }
            }
            assertThat(fx.get("/health").statusCode()).isEqualTo(200);
        }
    }

    private static byte[] jsonish(Random random) {
        StringBuilder s = new StringBuilder();
        int n = random.nextInt(40);
        for (int i = 0; i < n; i++) {
            s.append(FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
        }
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(Random random) {
        byte[] b = new byte[random.nextInt(64)];
        random.nextBytes(b);
        return b;
    }
}
