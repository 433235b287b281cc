package dev.txkv.bench.compare;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.Vector;
import site.ycsb.ByteIterator;
import site.ycsb.DB;
import site.ycsb.DBException;
import site.ycsb.Status;

/**
 * YCSB binding for PostgreSQL at SERIALIZABLE isolation: a key-value table
 * {@code (ycsb_key text COLLATE "C" PRIMARY KEY, record bytea)}, the record encoded as for txkv
 * ({@link FieldCodec}), every operation one transaction retried on 40001. YCSB's own JDBC
 * binding is not published on Maven Central, and one value per record keeps the three stores
 * doing the same work.
 *
 * <p>Properties: {@code postgres.url} (a JDBC URL with user). One connection per YCSB thread.
 */
public final class PostgresYcsbClient extends DB {
    private static boolean tableCreated;

    private Connection connection;
    private final Map<String, Map<String, PreparedStatement>> statements = new HashMap<>();

    @Override
    public void init() throws DBException {
        String url = getProperties().getProperty("postgres.url");
        if (url == null) {
            throw new DBException("set -p postgres.url=jdbc:postgresql://127.0.0.1:PORT/postgres?user=...");
        }
        try {
            connection = Postgres.connect(url);
            synchronized (PostgresYcsbClient.class) {
                if (!tableCreated) {
                    createTable(connection, getProperties().getProperty("table", "usertable"));
                    tableCreated = true;
                }
            }
        } catch (SQLException e) {
            throw new DBException(e);
        }
    }

    @Override
    public void cleanup() throws DBException {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException e) {
            throw new DBException(e);
        }
    }

    /** Creates the table if missing (autocommit transaction of its own). */
    static void createTable(Connection connection, String table) throws SQLException {
        try (var statement = connection.createStatement()) {
            statement.execute("CREATE TABLE IF NOT EXISTS " + table
                    + " (ycsb_key text COLLATE \"C\" PRIMARY KEY, record bytea NOT NULL)");
        }
        connection.commit();
    }

    private PreparedStatement prepare(String table, String sqlTemplate) throws SQLException {
        Map<String, PreparedStatement> ofTable = statements.computeIfAbsent(table, t -> new HashMap<>());
        PreparedStatement statement = ofTable.get(sqlTemplate);
        if (statement == null) {
            statement = connection.prepareStatement(sqlTemplate.replace("$T", table));
            ofTable.put(sqlTemplate, statement);
        }
        return statement;
    }

    private byte[] select(String table, String key) throws SQLException {
        PreparedStatement select = prepare(table, "SELECT record FROM $T WHERE ycsb_key = ?");
        select.setString(1, key);
        try (ResultSet rows = select.executeQuery()) {
            return rows.next() ? rows.getBytes(1) : null;
        }
    }

    @Override
    public Status read(String table, String key, Set<String> fields, Map<String, ByteIterator> result) {
        try {
            byte[] record = Postgres.transact(connection, c -> select(table, key), null);
            if (record == null) {
                return Status.NOT_FOUND;
            }
            FieldCodec.decode(record, fields, result);
            return Status.OK;
        } catch (SQLException e) {
            return failed(e);
        }
    }

    @Override
    public Status scan(String table, String startKey, int recordCount, Set<String> fields,
            Vector<HashMap<String, ByteIterator>> result) {
        try {
            Vector<HashMap<String, ByteIterator>> rowsRead = Postgres.transact(connection, c -> {
                PreparedStatement scan = prepare(table,
                        "SELECT record FROM $T WHERE ycsb_key >= ? ORDER BY ycsb_key LIMIT ?");
                scan.setString(1, startKey);
                scan.setInt(2, recordCount);
                Vector<HashMap<String, ByteIterator>> found = new Vector<>();
                try (ResultSet rows = scan.executeQuery()) {
                    while (rows.next()) {
                        HashMap<String, ByteIterator> fieldsOfRow = new HashMap<>();
                        FieldCodec.decode(rows.getBytes(1), fields, fieldsOfRow);
                        found.add(fieldsOfRow);
                    }
                }
                return found;
            }, null);
            result.addAll(rowsRead);
            return Status.OK;
        } catch (SQLException e) {
            return failed(e);
        }
    }

    @Override
    public Status update(String table, String key, Map<String, ByteIterator> values) {
        byte[] updates = FieldCodec.encode(values);
        try {
            return Postgres.transact(connection, c -> {
                byte[] record = select(table, key);
                if (record == null) {
                    return Status.NOT_FOUND;
                }
                Map<String, ByteIterator> merged = new LinkedHashMap<>();
                FieldCodec.decode(record, null, merged);
                FieldCodec.decode(updates, null, merged);
                PreparedStatement update = prepare(table, "UPDATE $T SET record = ? WHERE ycsb_key = ?");
                update.setBytes(1, FieldCodec.encode(merged));
                update.setString(2, key);
                update.executeUpdate();
                return Status.OK;
            }, null);
        } catch (SQLException e) {
            return failed(e);
        }
    }

    @Override
    public Status insert(String table, String key, Map<String, ByteIterator> values) {
        byte[] record = FieldCodec.encode(values);
        try {
            return Postgres.transact(connection, c -> {
                PreparedStatement insert = prepare(table, "INSERT INTO $T (ycsb_key, record) VALUES (?, ?)"
                        + " ON CONFLICT (ycsb_key) DO UPDATE SET record = EXCLUDED.record");
                insert.setString(1, key);
                insert.setBytes(2, record);
                insert.executeUpdate();
                return Status.OK;
            }, null);
        } catch (SQLException e) {
            return failed(e);
        }
    }

    @Override
    public Status delete(String table, String key) {
        try {
            return Postgres.transact(connection, c -> {
                PreparedStatement delete = prepare(table, "DELETE FROM $T WHERE ycsb_key = ?");
                delete.setString(1, key);
                return delete.executeUpdate() == 1 ? Status.OK : Status.NOT_FOUND;
            }, null);
        } catch (SQLException e) {
            return failed(e);
        }
    }

    private static Status failed(SQLException e) {
        System.err.println("postgres: " + e.getSQLState() + " " + e.getMessage());
        return Status.ERROR;
    }
}
