package dev.txkv.bench.compare;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * PostgreSQL connections for the comparison: SERIALIZABLE, autocommit off, and one retry loop
 * for serialization failures (SQLSTATE 40001) and deadlocks (40P01), the errors PostgreSQL
 * documents as "retry the whole transaction".
 */
final class Postgres {
    /** Attempts per transaction before giving up; contended bank transfers need dozens at most. */
    static final int ATTEMPTS_MAX = 10_000;

    private Postgres() {
    }

    /** A transaction body; runs on a connection inside BEGIN ... COMMIT. */
    interface Body<T> {
        T run(Connection connection) throws SQLException;
    }

    static Connection connect(String url) throws SQLException {
        Connection connection = DriverManager.getConnection(url);
        connection.setAutoCommit(false);
        connection.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
        return connection;
    }

    static boolean retryable(SQLException e) {
        return "40001".equals(e.getSQLState()) || "40P01".equals(e.getSQLState());
    }

    /**
     * Runs {@code body} and commits, retrying retryable failures; {@code retries[0]} (if given)
     * counts the retries. Bounded by {@link #ATTEMPTS_MAX}.
     */
    static <T> T transact(Connection connection, Body<T> body, long[] retries) throws SQLException {
        for (int attempt = 1; ; attempt++) {
            try {
                T result = body.run(connection);
                connection.commit();
                return result;
            } catch (SQLException e) {
                connection.rollback();
                if (!retryable(e) || attempt >= ATTEMPTS_MAX) {
                    throw e;
                }
                if (retries != null) {
                    retries[0]++;
                }
            }
        }
    }
}
