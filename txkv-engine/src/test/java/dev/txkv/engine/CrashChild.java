package dev.txkv.engine;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.txkv.Database;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;

/**
 * The process that {@link CrashTest} kills: writers commit unique keys and bank transfers as
 * fast as they can and print "ACK key" only after each commit returned. Runs until killed
 * (or for at most a minute, so a stray child always ends).
 */
public final class CrashChild {
    static final int ACCOUNTS = 20;
    static final long INITIAL_BALANCE = 1_000;

    private CrashChild() {
    }

    static byte[] account(int i) {
        return String.format("bank/%03d", i).getBytes(UTF_8);
    }

    static byte[] encode(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    static long decode(byte[] b) {
        return ByteBuffer.wrap(b).getLong();
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        String run = args[1];
        int threads = Integer.parseInt(args[2]);
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, UTF_8);
        Database db = Txkv.openEmbedded(dir, new TxkvConfig());
        db.run(tr -> {
            if (tr.get(account(0)).join() == null) {
                for (int i = 0; i < ACCOUNTS; i++) {
                    tr.set(account(i), encode(INITIAL_BALANCE));
                }
            }
            return null;
        });
        synchronized (out) {
            out.println("READY");
            out.flush();
        }
        long deadline = System.nanoTime() + 60_000_000_000L;
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers[t] = new Thread(() -> {
                Random random = new Random(id * 7919L + run.hashCode());
                for (long seq = 0; System.nanoTime() < deadline; seq++) {
                    String key = "ack/" + run + "/" + id + "/" + seq;
                    int from = random.nextInt(ACCOUNTS);
                    int to = random.nextInt(ACCOUNTS);
                    long amount = 1 + random.nextInt(10);
                    db.run(tr -> {
                        tr.set(key.getBytes(UTF_8), encode(amount));
                        if (from != to) {
                            long a = decode(tr.get(account(from)).join());
                            long b = decode(tr.get(account(to)).join());
                            tr.set(account(from), encode(a - amount));
                            tr.set(account(to), encode(b + amount));
                        }
                        return null;
                    });
                    synchronized (out) {
                        out.println("ACK " + key);
                        out.flush();
                    }
                }
            });
            workers[t].start();
        }
        for (Thread w : workers) {
            w.join();
        }
        db.close();
    }
}
