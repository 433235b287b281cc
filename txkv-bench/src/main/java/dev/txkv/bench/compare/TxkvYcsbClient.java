package dev.txkv.bench.compare;

import dev.txkv.Database;
import dev.txkv.KeyValue;
import dev.txkv.Txkv;
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
 * YCSB binding for txkv through the public client: each operation is one {@code db.run}
 * (or {@code db.read}) transaction, so every read is strictly serializable.
 *
 * <p>Properties: {@code txkv.cluster}, a connection string ({@code host:port[,host:port...]});
 * a replicated cluster is one more string here, nothing else changes. One {@link Database} is
 * shared by all of a process's YCSB threads (YCSB makes a DB object per thread), like an
 * application that opens txkv once.
 *
 * <p>Keys are {@code table "/" key} in UTF-8; a record's fields are one value ({@link FieldCodec}).
 */
public final class TxkvYcsbClient extends DB {
    private static final Object SHARED_LOCK = new Object();
    private static Database shared;
    private static int sharedUsers;

    private Database db;
    private final boolean owned;

    /** For YCSB: the database comes from {@code txkv.cluster} in {@link #init()}. */
    public TxkvYcsbClient() {
        this.owned = true;
    }

    /** Over an open database (tests); {@link #cleanup()} leaves it open. */
    public TxkvYcsbClient(Database db) {
        this.db = db;
        this.owned = false;
    }

    @Override
    public void init() throws DBException {
        if (!owned) {
            return;
        }
        String cluster = getProperties().getProperty("txkv.cluster");
        if (cluster == null || cluster.isBlank()) {
            throw new DBException("set -p txkv.cluster=host:port[,host:port...]");
        }
        synchronized (SHARED_LOCK) {
            if (shared == null) {
                shared = Txkv.open(cluster);
            }
            sharedUsers++;
            db = shared;
        }
    }

    @Override
    public void cleanup() {
        if (!owned) {
            return;
        }
        synchronized (SHARED_LOCK) {
            sharedUsers--;
            if (sharedUsers == 0 && shared != null) {
                shared.close();
                shared = null;
            }
        }
    }

    static byte[] key(String table, String key) {
        return (table + "/" + key).getBytes(StandardCharsets.UTF_8);
    }

    /** The first key after every key of {@code table}: '/' + 1 is '0'. */
    static byte[] tableEnd(String table) {
        return (table + "0").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public Status read(String table, String key, Set<String> fields, Map<String, ByteIterator> result) {
        byte[] record = db.read(tr -> tr.get(key(table, key)).join());
        if (record == null) {
            return Status.NOT_FOUND;
        }
        FieldCodec.decode(record, fields, result);
        return Status.OK;
    }

    @Override
    public Status scan(String table, String startKey, int recordCount, Set<String> fields,
            Vector<HashMap<String, ByteIterator>> result) {
        var rows = db.read(tr -> tr.getRange(key(table, startKey), tableEnd(table), recordCount).asList().join());
        for (KeyValue row : rows) {
            HashMap<String, ByteIterator> fieldsOfRow = new HashMap<>();
            FieldCodec.decode(row.getValue(), fields, fieldsOfRow);
            result.add(fieldsOfRow);
        }
        return Status.OK;
    }

    @Override
    public Status update(String table, String key, Map<String, ByteIterator> values) {
        byte[] updates = FieldCodec.encode(values);
        return db.run(tr -> {
            byte[] k = key(table, key);
            byte[] record = tr.get(k).join();
            if (record == null) {
                return Status.NOT_FOUND;
            }
            Map<String, ByteIterator> merged = new java.util.LinkedHashMap<>();
            FieldCodec.decode(record, null, merged);
            FieldCodec.decode(updates, null, merged);
            tr.set(k, FieldCodec.encode(merged));
            return Status.OK;
        });
    }

    @Override
    public Status insert(String table, String key, Map<String, ByteIterator> values) {
        byte[] record = FieldCodec.encode(values);
        db.run(tr -> {
            tr.set(key(table, key), record);
            return null;
        });
        return Status.OK;
    }

    @Override
    public Status delete(String table, String key) {
        db.run(tr -> {
            tr.clear(key(table, key));
            return null;
        });
        return Status.OK;
    }
}
