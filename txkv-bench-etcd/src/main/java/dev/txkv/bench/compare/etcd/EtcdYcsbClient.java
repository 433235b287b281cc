package dev.txkv.bench.compare.etcd;

import dev.txkv.bench.compare.FieldCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.Vector;
import site.ycsb.ByteIterator;
import site.ycsb.DB;
import site.ycsb.DBException;
import site.ycsb.Status;

/**
 * YCSB binding for etcd v3 through jetcd over gRPC ({@link EtcdKv}). Reads and scans are
 * linearizable; an update is a read then a compare-and-swap on the key's mod_revision, retried
 * when another writer got in between, so updates are read-modify-write as in the other bindings.
 *
 * <p>Properties: {@code etcd.endpoints}, comma-separated {@code http://host:port}. All YCSB
 * threads share one jetcd client, which spreads their requests over the members.
 */
public final class EtcdYcsbClient extends DB {
    /** Compare-and-swap attempts per update before reporting an error. */
    static final int CAS_ATTEMPTS_MAX = 1_000;

    private static final Object SHARED_LOCK = new Object();
    private static EtcdKv shared;
    private static int users;

    private EtcdKv etcd;

    @Override
    public void init() throws DBException {
        String endpoints = getProperties().getProperty("etcd.endpoints");
        if (endpoints == null) {
            throw new DBException("set -p etcd.endpoints=http://127.0.0.1:2379[,...]");
        }
        synchronized (SHARED_LOCK) {
            if (shared == null) {
                shared = new EtcdKv(endpoints);
            }
            users++;
            etcd = shared;
        }
    }

    @Override
    public void cleanup() {
        synchronized (SHARED_LOCK) {
            if (--users == 0) {
                shared.close();
                shared = null;
            }
        }
    }

    private static byte[] key(String table, String key) {
        return (table + "/" + key).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public Status read(String table, String key, Set<String> fields, Map<String, ByteIterator> result) {
        try {
            EtcdKv.Versioned found = etcd.get(key(table, key));
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
            for (byte[] value : etcd.range(key(table, startKey), end, recordCount)) {
                HashMap<String, ByteIterator> fieldsOfRow = new HashMap<>();
                FieldCodec.decode(value, fields, fieldsOfRow);
                result.add(fieldsOfRow);
            }
            return Status.OK;
        } catch (IOException e) {
            return failed(e);
        }
    }

    @Override
    public Status update(String table, String key, Map<String, ByteIterator> values) {
        byte[] k = key(table, key);
        try {
            for (int attempt = 0; attempt < CAS_ATTEMPTS_MAX; attempt++) {
                EtcdKv.Versioned current = etcd.get(k);
                if (current.value() == null) {
                    return Status.NOT_FOUND;
                }
                if (etcd.putIfUnchanged(new byte[][] {k}, new long[] {current.modRevision()},
                        new byte[][] {FieldCodec.merge(current.value(), values)})) {
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
            etcd.put(key(table, key), FieldCodec.encode(values));
            return Status.OK;
        } catch (IOException e) {
            return failed(e);
        }
    }

    @Override
    public Status delete(String table, String key) {
        try {
            return etcd.delete(key(table, key)) ? Status.OK : Status.NOT_FOUND;
        } catch (IOException e) {
            return failed(e);
        }
    }

    private static Status failed(IOException e) {
        System.err.println("etcd: " + e.getMessage());
        return Status.ERROR;
    }
}
