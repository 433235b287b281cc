package dev.txkv.bench.compare;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The bank on PostgreSQL: a SERIALIZABLE transaction with two SELECTs and two UPDATEs, retried
 * on serialization failure (40001). One connection per thread.
 */
public final class PostgresBank implements BankStore {
    private final String url;
    private final ThreadLocal<Connection> connections = new ThreadLocal<>();
    private final java.util.List<Connection> opened = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    public PostgresBank(String url) {
        this.url = url;
    }

    @Override
    public String name() {
        return "PostgreSQL";
    }

    private Connection connection() throws SQLException {
        Connection connection = connections.get();
        if (connection == null) {
            connection = Postgres.connect(url);
            connections.set(connection);
            opened.add(connection);
        }
        return connection;
    }

    @Override
    public void reset(int accounts, long balance) throws SQLException {
        Connection c = connection();
        try (var statement = c.createStatement()) {
            statement.execute("DROP TABLE IF EXISTS bank");
            statement.execute("CREATE TABLE bank (id integer PRIMARY KEY, balance bigint NOT NULL)");
            statement.execute("INSERT INTO bank SELECT i, " + balance + " FROM generate_series(0, " + (accounts - 1) + ") i");
        }
        c.commit();
        try (var statement = c.createStatement()) {
            c.setAutoCommit(true);
            statement.execute("VACUUM ANALYZE bank");
        } finally {
            c.setAutoCommit(false);
        }
    }

    @Override
    public int transfer(int from, int to, long amount) throws SQLException {
        long[] retries = {0};
        Postgres.transact(connection(), c -> {
            long source = balance(c, from);
            long target = balance(c, to);
            if (source >= amount) {
                try (PreparedStatement update = c.prepareStatement("UPDATE bank SET balance = ? WHERE id = ?")) {
                    update.setLong(1, source - amount);
                    update.setInt(2, from);
                    update.executeUpdate();
                    update.setLong(1, target + amount);
                    update.setInt(2, to);
                    update.executeUpdate();
                }
            }
            return null;
        }, retries);
        return (int) retries[0] + 1;
    }

    private static long balance(Connection c, int id) throws SQLException {
        try (PreparedStatement select = c.prepareStatement("SELECT balance FROM bank WHERE id = ?")) {
            select.setInt(1, id);
            try (ResultSet rows = select.executeQuery()) {
                if (!rows.next()) {
                    throw new SQLException("no account " + id);
                }
                return rows.getLong(1);
            }
        }
    }

    @Override
    public long total(int accounts) throws SQLException {
        return Postgres.transact(connection(), c -> {
            try (var statement = c.createStatement(); ResultSet rows = statement.executeQuery("SELECT sum(balance) FROM bank")) {
                rows.next();
                return rows.getLong(1);
            }
        }, null);
    }

    @Override
    public void close() throws SQLException {
        synchronized (opened) {
            for (Connection c : opened) {
                c.close();
            }
            opened.clear();
        }
    }
}
