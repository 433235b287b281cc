package dev.txkv.bench.compare;

import dev.txkv.Txkv;
import java.lang.management.ManagementFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The cold start of a client: a fresh JVM that opens a client (txkv's {@code Txkv.open} or a
 * JDBC connection) and makes bank transfers from one thread, counting those finished in each
 * 250 ms from the start of {@code main}. Prints {@code BUCKETS n1 n2 ...} on the last line.
 * Arguments: {@code txkv|postgresql ENDPOINT SECONDS ACCOUNTS}; the accounts must exist.
 */
public final class ColdStartClient {
    private ColdStartClient() {
    }

    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        long jvmToMainMs = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
        String system = args[0];
        String endpoint = args[1];
        int seconds = Integer.parseInt(args[2]);
        int accounts = Integer.parseInt(args[3]);
        long bucketNanos = TimeUnit.MILLISECONDS.toNanos(250);
        int buckets = (int) (TimeUnit.SECONDS.toNanos(seconds) / bucketNanos);
        long[] counts = new long[buckets];
        BankStore store = system.equals("txkv") ? new TxkvBank(Txkv.open(endpoint), true) : new PostgresBank(endpoint);
        long opened = System.nanoTime();
        try (store) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            while (true) {
                int from = random.nextInt(accounts);
                int to = (from + 1 + random.nextInt(accounts - 1)) % accounts;
                store.transfer(from, to, 1 + random.nextInt(10));
                long b = (System.nanoTime() - t0) / bucketNanos;
                if (b >= buckets) {
                    break;
                }
                counts[(int) b]++;
            }
        }
        System.out.printf("%s: JVM start to main %d ms, open %.1f ms%n", system, jvmToMainMs, (opened - t0) / 1e6);
        StringBuilder line = new StringBuilder("BUCKETS");
        for (long c : counts) {
            line.append(' ').append(c);
        }
        System.out.println(line);
        System.exit(0);
    }
}
