package dev.txkv.bench.compare;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A small client for etcd v3 through its HTTP/JSON gateway ({@code POST /v3/kv/range},
 * {@code /v3/kv/put}, {@code /v3/kv/deleterange}, {@code /v3/kv/txn}), which etcd serves on its
 * client port next to gRPC. Keys and values travel base64-encoded; 64-bit integers as strings.
 * Ranges are linearizable (etcd's default: {@code serializable} false).
 *
 * <p>Why not jetcd: see docs/dependencies.md. Thread-safe; one per process.
 */
public final class EtcdHttp {
    /** Per-request timeout; a request that takes longer fails the operation. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private static final Gson GSON = new Gson();
    private static final Base64.Encoder B64 = Base64.getEncoder();
    private static final Base64.Decoder B64_DECODE = Base64.getDecoder();

    private final HttpClient http;
    private final List<URI> endpoints;

    /** {@code endpoints}: comma-separated {@code http://host:port} client URLs. */
    public EtcdHttp(String endpoints) {
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        this.endpoints = new ArrayList<>();
        for (String endpoint : endpoints.split(",")) {
            this.endpoints.add(URI.create(endpoint.trim()));
        }
    }

    /** A key's value and its last modification revision (0: absent). */
    public record Versioned(byte[] value, long modRevision) {
    }

    /** One key-value pair of a range. */
    public record Entry(byte[] key, byte[] value, long modRevision) {
    }

    private JsonObject call(int endpoint, String path, JsonObject body) throws IOException {
        URI base = endpoints.get(Math.floorMod(endpoint, endpoints.size()));
        HttpRequest request = HttpRequest.newBuilder(base.resolve(path)).timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IOException("etcd " + path + ": HTTP " + response.statusCode() + " " + response.body());
            }
            return GSON.fromJson(response.body(), JsonObject.class);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static String b64(byte[] bytes) {
        return B64.encodeToString(bytes);
    }

    private static long longOf(JsonObject object, String field) {
        JsonElement e = object.get(field);
        return e == null ? 0 : e.getAsLong();
    }

    /** The value of {@code key} (linearizable), through endpoint {@code endpoint}. */
    public Versioned get(int endpoint, byte[] key) throws IOException {
        JsonObject body = new JsonObject();
        body.addProperty("key", b64(key));
        JsonObject response = call(endpoint, "/v3/kv/range", body);
        JsonArray kvs = response.getAsJsonArray("kvs");
        if (kvs == null || kvs.isEmpty()) {
            return new Versioned(null, 0);
        }
        JsonObject kv = kvs.get(0).getAsJsonObject();
        JsonElement value = kv.get("value");
        return new Versioned(value == null ? new byte[0] : B64_DECODE.decode(value.getAsString()),
                longOf(kv, "mod_revision"));
    }

    /** Up to {@code limit} pairs with keys in [{@code begin}, {@code end}), in key order. */
    public List<Entry> range(int endpoint, byte[] begin, byte[] end, int limit) throws IOException {
        JsonObject body = new JsonObject();
        body.addProperty("key", b64(begin));
        body.addProperty("range_end", b64(end));
        body.addProperty("limit", limit);
        JsonArray kvs = call(endpoint, "/v3/kv/range", body).getAsJsonArray("kvs");
        List<Entry> entries = new ArrayList<>();
        if (kvs != null) {
            for (JsonElement element : kvs) {
                JsonObject kv = element.getAsJsonObject();
                JsonElement value = kv.get("value");
                entries.add(new Entry(B64_DECODE.decode(kv.get("key").getAsString()),
                        value == null ? new byte[0] : B64_DECODE.decode(value.getAsString()),
                        longOf(kv, "mod_revision")));
            }
        }
        return entries;
    }

    public void put(int endpoint, byte[] key, byte[] value) throws IOException {
        JsonObject body = new JsonObject();
        body.addProperty("key", b64(key));
        body.addProperty("value", b64(value));
        call(endpoint, "/v3/kv/put", body);
    }

    /** Deletes every key in [{@code begin}, {@code end}). */
    public void deleteRange(int endpoint, byte[] begin, byte[] end) throws IOException {
        JsonObject body = new JsonObject();
        body.addProperty("key", b64(begin));
        body.addProperty("range_end", b64(end));
        call(endpoint, "/v3/kv/deleterange", body);
    }

    /** Deletes {@code key}; true if it existed. */
    public boolean delete(int endpoint, byte[] key) throws IOException {
        JsonObject body = new JsonObject();
        body.addProperty("key", b64(key));
        return longOf(call(endpoint, "/v3/kv/deleterange", body), "deleted") > 0;
    }

    /**
     * Compare-and-swap: puts every {@code keys[i] = values[i]} if and only if each key's
     * mod_revision still equals {@code modRevisions[i]} (0: the key must not exist). True if
     * the puts happened. With {@code modRevisions} null the puts are unconditional (one txn;
     * etcd allows 128 operations per txn by default).
     */
    public boolean putIfUnchanged(int endpoint, byte[][] keys, long[] modRevisions, byte[][] values) throws IOException {
        JsonArray compare = new JsonArray();
        JsonArray success = new JsonArray();
        for (int i = 0; i < keys.length; i++) {
            JsonObject put = new JsonObject();
            put.addProperty("key", b64(keys[i]));
            put.addProperty("value", b64(values[i]));
            JsonObject operation = new JsonObject();
            operation.add("request_put", put);
            success.add(operation);
            if (modRevisions == null) {
                continue;
            }
            JsonObject condition = new JsonObject();
            condition.addProperty("key", b64(keys[i]));
            condition.addProperty("target", "MOD");
            condition.addProperty("result", "EQUAL");
            condition.addProperty("mod_revision", Long.toString(modRevisions[i]));
            compare.add(condition);
        }
        JsonObject body = new JsonObject();
        body.add("compare", compare);
        body.add("success", success);
        JsonElement succeeded = call(endpoint, "/v3/kv/txn", body).get("succeeded");
        return succeeded != null && succeeded.getAsBoolean();
    }
}
