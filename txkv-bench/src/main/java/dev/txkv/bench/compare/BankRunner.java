package dev.txkv.bench.compare;

/**
 * One system's bank measurements: {@link BankWorkload} over the system's {@link BankStore},
 * in this JVM ({@link #local}) or in a driver JVM of the system's own ({@link EtcdBankDriver}).
 */
interface BankRunner extends AutoCloseable {
    /** The system's name in tables and charts. */
    String name();

    /** {@link BankWorkload#run} with these arguments, on this system. */
    BankWorkload.Result run(int accounts, int clients, long warmupMs, long measureMs) throws Exception;

    /** Runs the workload in this JVM; closing closes {@code store}. */
    static BankRunner local(BankStore store) {
        return new BankRunner() {
            @Override
            public String name() {
                return store.name();
            }

            @Override
            public BankWorkload.Result run(int accounts, int clients, long warmupMs, long measureMs) throws Exception {
                return BankWorkload.run(store, accounts, clients, warmupMs, measureMs);
            }

            @Override
            public void close() throws Exception {
                store.close();
            }
        };
    }
}
