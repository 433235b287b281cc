package dev.txkv.server.http;

import static dev.txkv.server.http.HttpGatewayTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.server.ServerConfig;
import dev.txkv.server.TxkvServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway of a real server (engine, gRPC service) through HTTP only. */
class HttpGatewayEndToEndTest {
    @TempDir
    Path dataDir;
    private TxkvServer server;
    private final HttpClient client = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        server = TxkvServer.start(new ServerConfig().dataDir(dataDir)
                .grpcAddress("127.0.0.1", 0).httpAddress("127.0.0.1", 0));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + path))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void putGetDeleteRange() throws Exception {
        assertThat(send("PUT", "/v1/kv/fruit/apple", "red").statusCode()).isEqualTo(200);
        assertThat(send("PUT", "/v1/kv/fruit/banana", "yellow").statusCode()).isEqualTo(200);
        HttpResponse<String> get = send("GET", "/v1/kv/fruit/apple", null);
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.body()).isEqualTo("red");
        HttpResponse<String> range = send("GET", "/v1/range?begin=fruit/&end=fruit0&limit=10", null);
        assertThat(range.body()).contains("\"fruit/apple\"").contains("\"yellow\"").contains("\"more\": false");
        HttpResponse<String> limited = send("GET", "/v1/range?begin=fruit/&end=fruit0&limit=1&reverse=true", null);
        assertThat(limited.body()).contains("\"fruit/banana\"").doesNotContain("apple").contains("\"more\": true");
        assertThat(send("DELETE", "/v1/kv/fruit/apple", null).statusCode()).isEqualTo(200);
        assertError(send("GET", "/v1/kv/fruit/apple", null), 404, 404);
        assertError(send("GET", "/v1/range?begin=z&end=a", null), 400, 2005);
    }

    @Test
    void readModifyWriteConflictsOnAConcurrentWrite() throws Exception {
        send("PUT", "/v1/kv/counter", "1");
        HttpResponse<String> read = send("GET", "/v1/kv/counter", null);
        String readVersion = read.headers().firstValue(KeyValueEndpoints.READ_VERSION_HEADER).orElseThrow();
        // Another client writes the key after our read...
        assertThat(send("PUT", "/v1/kv/counter", "5").statusCode()).isEqualTo(200);
        String rmw = "{\"readVersion\":\"" + readVersion + "\",\"reads\":[\"counter\"],"
                + "\"mutations\":[{\"type\":\"SET_VALUE\",\"key\":\"counter\",\"param\":\"2\"}]}";
        // ...so our commit, which read the old value, must fail with not_committed.
        HttpResponse<String> conflict = send("POST", "/v1/transaction", rmw);
        assertError(conflict, 409, 1020);
        // The retry reads again at a fresh version and succeeds.
        HttpResponse<String> reread = send("GET", "/v1/kv/counter", null);
        assertThat(reread.body()).isEqualTo("5");
        String fresh = reread.headers().firstValue(KeyValueEndpoints.READ_VERSION_HEADER).orElseThrow();
        HttpResponse<String> ok = send("POST", "/v1/transaction", rmw.replace(readVersion, fresh).replace("\"2\"", "\"6\""));
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        assertThat(send("GET", "/v1/kv/counter?readVersion=" + fresh, null).body()).isEqualTo("5");
        assertThat(send("GET", "/v1/kv/counter", null).body()).isEqualTo("6");
    }

    @Test
    void transcodedCallsHealthStatusMetrics() throws Exception {
        HttpResponse<String> grv = send("POST", "/v1/GetReadVersion", "{}");
        assertThat(grv.statusCode()).isEqualTo(200);
        assertThat(grv.body()).contains("readVersion");
        HttpResponse<String> commit = send("POST", "/v1/Commit", "{\"readVersion\":\"-1\",\"mutations\":[{\"key\":\"aw==\",\"param\":\"dg==\"}],"
                + "\"writeConflicts\":[{\"begin\":\"aw==\",\"end\":\"awA=\"}]}");
        assertThat(commit.statusCode()).as(commit.body()).isEqualTo(200);
        String readVersion = send("POST", "/v1/GetReadVersion", "").body().replaceAll("(?s).*\"readVersion\": \"(\\d+)\".*", "$1");
        assertThat(send("POST", "/v1/Get", "{\"key\":\"aw==\",\"readVersion\":\"" + readVersion + "\"}").body())
                .contains("\"value\": \"dg==\"");
        // Without a read version the service refuses the read, and says so in JSON.
        assertError(send("POST", "/v1/Get", "{\"key\":\"aw==\"}"), 409, 1007);
        HttpResponse<String> watch = send("POST", "/v1/Watch?timeoutMs=100", "{\"key\":\"aw==\",\"version\":\"" + readVersion + "\"}");
        assertThat(watch.statusCode()).as(watch.body()).isEqualTo(200);
        assertThat(watch.body()).contains("\"changed\": false");
        assertThat(send("GET", "/health", null).body()).contains("ok");
        HttpResponse<String> status = send("GET", "/status", null);
        assertThat(status.statusCode()).isEqualTo(200);
        assertThat(status.body()).startsWith("{").contains("\"role\": \"standalone\"", "\"engine\": \"RocksDB\"");
        HttpResponse<String> metrics = send("GET", "/metrics", null);
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("txkv_http_requests_total");
    }
}
