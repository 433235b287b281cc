package dev.txkv.bench.compare;

/**
 * One system under the bank workload: accounts with balances, and transfers that read two
 * balances, check the source covers the amount, and write both, as one serializable
 * transaction. Implementations are thread-safe; each thread may hold its own connection.
 */
public interface BankStore extends AutoCloseable {
    /** The system's name in tables and charts. */
    String name();

    /** Replaces every account with {@code accounts} accounts of {@code balance} each. */
    void reset(int accounts, long balance) throws Exception;

    /**
     * Moves {@code amount} from account {@code from} to {@code to} if {@code from} holds enough;
     * returns the number of attempts the commit took (1: no conflict). Retries are bounded.
     */
    int transfer(int from, int to, long amount) throws Exception;

    /** The sum of all balances, read in one consistent snapshot. */
    long total(int accounts) throws Exception;

    @Override
    void close() throws Exception;
}
