package dev.txkv.examples;

import dev.txkv.Database;
import dev.txkv.KeyValue;
import dev.txkv.MutationType;
import dev.txkv.Range;
import dev.txkv.Txkv;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tour of the transaction API on an embedded database: set and get, a range read, an atomic
 * counter, and concurrent transfers that stay consistent because the retry loop reruns any
 * transaction that conflicts.
 *
 * <p>Run it with {@code bin/txkv example [DIR]} or as a plain Java program; the data stays in
 * {@code DIR} (default {@code txkv-data}), so running it again shows the counter growing.
 */
public final class EmbeddedExample {
    /** Every key of the example starts with this, so it shares a database politely. */
    private static final String PREFIX = "example/";
    private static final int TRANSFER_THREADS = 4;
    private static final int TRANSFERS_PER_THREAD = 5;
    private static final long TRANSFER_AMOUNT = 10;
    private static final long OPENING_BALANCE = 100;
    private static final long TRANSFERS_WAIT_SECONDS = 60;

    private EmbeddedExample() {
    }

    /** Runs the example on the database in {@code args[0]}, or in {@code txkv-data}. */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        run(Path.of(args.length > 0 ? args[0] : "txkv-data"), out);
    }

    /** Opens (or creates) the embedded database in {@code dir}, runs the example, closes it. */
    public static void run(Path dir, PrintWriter out) {
        try (Database db = Txkv.openEmbedded(dir)) {
            out.println("opened embedded database in " + dir.toAbsolutePath());
            setAndGet(db, out);
            rangeRead(db, out);
            atomicCounter(db, out);
            transfers(db, out);
            out.println("done; closing the database");
        }
        out.flush();
    }

    private static void setAndGet(Database db, PrintWriter out) {
        byte[] key = key("greeting");
        db.run(tr -> {
            tr.set(key, text("hello, txkv"));
            return null;
        });
        out.println("set    " + PREFIX + "greeting = \"hello, txkv\"");
        byte[] value = db.read(tr -> tr.get(key).join());
        out.println("get    " + PREFIX + "greeting -> \"" + text(value) + "\"");
    }

    private static void rangeRead(Database db, PrintWriter out) {
        // One transaction: all three appear together or not at all.
        db.run(tr -> {
            tr.set(key("fruit/apple"), text("red"));
            tr.set(key("fruit/banana"), text("yellow"));
            tr.set(key("fruit/cherry"), text("dark red"));
            return null;
        });
        out.println("set    3 keys under " + PREFIX + "fruit/ in one transaction");
        Range fruit = Range.startsWith(key("fruit/"));
        List<KeyValue> rows = db.read(tr -> tr.getRange(fruit).asList().join());
        out.println("range  " + PREFIX + "fruit/* -> " + rows.size() + " keys, in key order:");
        for (KeyValue row : rows) {
            out.println("         " + text(row.getKey()) + " = \"" + text(row.getValue()) + "\"");
        }
    }

    private static void atomicCounter(Database db, PrintWriter out) {
        byte[] counter = key("runs");
        // ADD reads nothing, so concurrent increments never conflict with each other.
        db.run(tr -> {
            tr.mutate(MutationType.ADD, counter, littleEndian(1));
            return null;
        });
        long runs = db.read(tr -> fromLittleEndian(tr.get(counter).join()));
        out.println("add    " + PREFIX + "runs += 1 (atomic) -> " + runs
                + (runs == 1 ? " (first run)" : " (counted across runs: the data is durable)"));
    }

    private static void transfers(Database db, PrintWriter out) {
        byte[] alice = key("account/alice");
        byte[] bob = key("account/bob");
        db.run(tr -> {
            tr.set(alice, littleEndian(OPENING_BALANCE));
            tr.set(bob, littleEndian(OPENING_BALANCE));
            return null;
        });
        out.println("open   alice = " + OPENING_BALANCE + ", bob = " + OPENING_BALANCE);

        AtomicInteger attempts = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(TRANSFER_THREADS);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < TRANSFER_THREADS; t++) {
                // Half the threads pay alice to bob, half the other way: they read and write the same keys.
                boolean aliceToBob = t % 2 == 0;
                done.add(threads.submit(() -> {
                    for (int i = 0; i < TRANSFERS_PER_THREAD; i++) {
                        transfer(db, aliceToBob ? alice : bob, aliceToBob ? bob : alice, attempts);
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get(TRANSFERS_WAIT_SECONDS, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            throw new IllegalStateException("A transfer failed", e);
        } finally {
            threads.shutdownNow();
        }
        int transfers = TRANSFER_THREADS * TRANSFERS_PER_THREAD;
        long[] balances = db.read(tr -> new long[] {
            fromLittleEndian(tr.get(alice).join()), fromLittleEndian(tr.get(bob).join())});
        out.println("move   " + transfers + " transfers of " + TRANSFER_AMOUNT + " from " + TRANSFER_THREADS
                + " threads: " + attempts.get() + " attempts (" + (attempts.get() - transfers)
                + " reruns after conflicts)");
        out.println("read   alice = " + balances[0] + ", bob = " + balances[1] + ", total = "
                + (balances[0] + balances[1]) + " (always " + 2 * OPENING_BALANCE + ")");
    }

    /**
     * Moves money between two accounts. {@code db.run} is the retry loop: if another transfer
     * committed a write to either balance after this one read it, the commit fails with
     * {@code not_committed} and the function runs again on fresh values.
     */
    private static void transfer(Database db, byte[] from, byte[] to, AtomicInteger attempts) {
        db.run(tr -> {
            attempts.incrementAndGet();
            long fromBalance = fromLittleEndian(tr.get(from).join());
            long toBalance = fromLittleEndian(tr.get(to).join());
            if (fromBalance < TRANSFER_AMOUNT) {
                return false; // Insufficient funds: commit nothing.
            }
            tr.set(from, littleEndian(fromBalance - TRANSFER_AMOUNT));
            tr.set(to, littleEndian(toBalance + TRANSFER_AMOUNT));
            return true;
        });
    }

    private static byte[] key(String suffix) {
        return text(PREFIX + suffix);
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] bytes) {
        return bytes == null ? "(absent)" : new String(bytes, StandardCharsets.UTF_8);
    }

    /** 8 bytes, little-endian: the encoding {@link MutationType#ADD} adds in. */
    private static byte[] littleEndian(long value) {
        return ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
    }

    private static long fromLittleEndian(byte[] bytes) {
        if (bytes == null) {
            return 0;
        }
        // Pad to 8 bytes: ADD may have stored a shorter value, and absent high bytes are zero.
        return ByteBuffer.wrap(java.util.Arrays.copyOf(bytes, Long.BYTES)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }
}
