package dev.txkv.bench.compare;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.Vector;
import java.util.concurrent.atomic.AtomicInteger;
import site.ycsb.ByteIterator;
import site.ycsb.DB;
import site.ycsb.DBException;
import site.ycsb.Status;

/**
 * YCSB binding for etcd v3 over its HTTP/JSON gateway ({@link EtcdHttp}). Reads and scans are
 * linearizable; an update is a read then a compare-and-swap on the key's mod_revision, retried
 * when another writer got in between, so updates are read-modify-write as in the other bindings.
 *
 * <p>Properties: {@code etcd.endpoints}, comma-separated {@code http://host:port}; each YCSB
 * thread talks to one member, spread round-robin.
 */
public final class EtcdYcsbClient extends DB {
    /** Compare-and-swap attempts per update before reporting an error. */
    static final int CAS_ATTEMPTS_MAX = 1_000;

    private static final AtomicInteger NEXT_ENDPOINT = new AtomicInteger();
    private static final Object SHARED_LOCK = new Object();
    private static EtcdHttp shared;

    private EtcdHttp etcd;
    private int endpoint;

    @Override
    public void init() throws DBException {
        String endpoints = getProperties().getProperty("etcd.endpoints");
        if (endpoints == null) {
            throw new DBException("set -p etcd.endpoints=http://127.0.0.1:2379[,...]");
        }
        synchronized (SHARED_LOCK) {
            if (shared == null) {
                shared = new EtcdHttp(endpoints);
            }
            etcd = shared;
        }
        endpoint = NEXT_ENDPOINT.getAndIncrement();
    }

    private static byte[] key(String table, String key) {
        return (table + "/" + key).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public Status read(String table, String key, Set<String> fields, Map<String, ByteIterator> result) {
        try {
            EtcdHttp.Versioned found = etcd.get(endpoint, key(table, key));
            if (found.value() == null) {
                return Status.NOT_FOUND;
            }
            FieldCodec.decode(found.value(), fields, result);
            return Status.OK;
        } catch (IOException e) {
            return failed(e);
        }
    }

    @Override
    public Status scan(String table, String startKey, int recordCount, Set<String> fields,
            Vector<HashMap<String, ByteIterator>> result) {
        try {
            byte[] end = (table + "0").getBytes(StandardCharsets.UTF_8);
            for (EtcdHttp.Entry entry : etcd.range(endpoint, key(table, startKey), end, recordCount)) {
                HashMap<String, ByteIterator> fieldsOfRow = new HashMap<>();
                FieldCodec.decode(entry.value(), fields, fieldsOfRow);
                result.add(fieldsOfRow);
            }
            return Status.OK;
        } catch (IOException e) {
            return failed(e);
        }
    }

    @Override
    public Status update(String table, String key, Map<String, ByteIterator> values) {
        byte[] updates = FieldCodec.encode(values);
        byte[] k = key(table, key);
        try {
            for (int attempt = 0; attempt < CAS_ATTEMPTS_MAX; attempt++) {
                EtcdHttp.Versioned current = etcd.get(endpoint, k);
                if (current.value() == null) {
                    return Status.NOT_FOUND;
                }
                Map<String, ByteIterator> merged = new LinkedHashMap<>();
                FieldCodec.decode(current.value(), null, merged);
                FieldCodec.decode(updates, null, merged);
                if (etcd.putIfUnchanged(endpoint, new byte[][] {k}, new long[] {current.modRevision()},
                        new byte[][] {FieldCodec.encode(merged)})) {
                    return Status.OK;
                }
            }
            return Status.ERROR;
        } catch (IOException e) {
            return failed(e);
        }
    }

    @Override
    public Status insert(String table, String key, Map<String, ByteIterator> values) {
        try {
            etcd.put(endpoint, key(table, key), FieldCodec.encode(values));
            return Status.OK;
        } catch (IOException e) {
            return failed(e);
        }
    }

    @Override
    public Status delete(String table, String key) {
        try {
            return etcd.delete(endpoint, key(table, key)) ? Status.OK : Status.NOT_FOUND;
        } catch (IOException e) {
            return failed(e);
        }
    }

    private static Status failed(IOException e) {
        System.err.println("etcd: " + e.getMessage());
        return Status.ERROR;
    }
}
