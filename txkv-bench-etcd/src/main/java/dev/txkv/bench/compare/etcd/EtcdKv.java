package dev.txkv.bench.compare.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The few etcd v3 KV calls the benchmark makes, through jetcd (etcd's gRPC client for Java),
 * each waited for with a bound. One jetcd client holds one HTTP/2 connection to each member and
 * spreads the calls over them (jetcd's default round-robin). Reads are linearizable (etcd's
 * default: {@code serializable} false). Thread-safe; one per process.
 */
final class EtcdKv implements AutoCloseable {
    /** Per-request bound; a request that takes longer fails the operation. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private final String endpoints;
    private final Client client;
    private final KV kv;

    /** {@code endpoints}: comma-separated {@code http://host:port} client URLs. */
    EtcdKv(String endpoints) {
        this.endpoints = endpoints;
        this.client = Client.builder().endpoints(endpoints.split(",")).build();
        this.kv = client.getKVClient();
    }

    /** A key's value (null: absent) and its last modification revision (0: absent). */
    record Versioned(byte[] value, long modRevision) {
    }

    String endpoints() {
        return endpoints;
    }

    private static ByteSequence bytes(byte[] b) {
        return ByteSequence.from(b);
    }

    private static <T> T await(CompletableFuture<T> call, Duration timeout) throws IOException {
        try {
            return call.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IOException(cause.getMessage() != null ? cause.getMessage() : cause.toString(), cause);
        } catch (TimeoutException e) {
            call.cancel(true);
            throw new IOException("no answer within " + timeout.toMillis() + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            call.cancel(true);
            throw new IOException("interrupted", e);
        }
    }

    private static <T> T await(CompletableFuture<T> call) throws IOException {
        return await(call, REQUEST_TIMEOUT);
    }

    /** The value of {@code key}, waiting at most {@code timeout}. */
    Versioned get(byte[] key, Duration timeout) throws IOException {
        return versioned(await(kv.get(bytes(key)), timeout));
    }

    /** The value of {@code key}. */
    Versioned get(byte[] key) throws IOException {
        return get(key, REQUEST_TIMEOUT);
    }

    /** The values of {@code first} and {@code second}, both requests in flight at once. */
    Versioned[] get(byte[] first, byte[] second) throws IOException {
        CompletableFuture<GetResponse> a = kv.get(bytes(first));
        CompletableFuture<GetResponse> b = kv.get(bytes(second));
        return new Versioned[] {versioned(await(a)), versioned(await(b))};
    }

    private static Versioned versioned(GetResponse response) {
        if (response.getKvs().isEmpty()) {
            return new Versioned(null, 0);
        }
        KeyValue found = response.getKvs().get(0);
        return new Versioned(found.getValue().getBytes(), found.getModRevision());
    }

    /** The values of up to {@code limit} keys in [{@code begin}, {@code end}), in key order (0: no limit). */
    List<byte[]> range(byte[] begin, byte[] end, int limit) throws IOException {
        GetOption option = GetOption.builder().withRange(bytes(end)).withLimit(limit).build();
        List<byte[]> values = new ArrayList<>();
        for (KeyValue entry : await(kv.get(bytes(begin), option)).getKvs()) {
            values.add(entry.getValue().getBytes());
        }
        return values;
    }

    void put(byte[] key, byte[] value) throws IOException {
        await(kv.put(bytes(key), bytes(value)));
    }

    /** Deletes {@code key}; true if it existed. */
    boolean delete(byte[] key) throws IOException {
        return await(kv.delete(bytes(key))).getDeleted() > 0;
    }

    /** Deletes every key in [{@code begin}, {@code end}). */
    void deleteRange(byte[] begin, byte[] end) throws IOException {
        await(kv.delete(bytes(begin), DeleteOption.builder().withRange(bytes(end)).build()));
    }

    /**
     * Compare-and-swap in one txn: puts every {@code keys[i] = values[i]} if and only if each
     * key's mod_revision still equals {@code modRevisions[i]} (0: the key must not exist). True if
     * the puts happened. With {@code modRevisions} null the puts are unconditional (etcd allows
     * 128 operations per txn by default).
     */
    boolean putIfUnchanged(byte[][] keys, long[] modRevisions, byte[][] values) throws IOException {
        List<Cmp> compares = new ArrayList<>();
        Op[] puts = new Op[keys.length];
        for (int i = 0; i < keys.length; i++) {
            puts[i] = Op.put(bytes(keys[i]), bytes(values[i]), PutOption.DEFAULT);
            if (modRevisions != null) {
                compares.add(new Cmp(bytes(keys[i]), Cmp.Op.EQUAL, CmpTarget.modRevision(modRevisions[i])));
            }
        }
        return await(kv.txn().If(compares.toArray(Cmp[]::new)).Then(puts).commit()).isSucceeded();
    }

    @Override
    public void close() {
        client.close();
    }
}
