package dev.txkv.bench;

import dev.txkv.Database;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.remote.RemoteBackend;
import dev.txkv.remote.RemoteSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code txkv bench tls-auth}: a plaintext server (or cluster) beside one with TLS and
 * authorization, driven from one client JVM that stays warm: after a warm-up of both, rounds
 * alternate between them (the order flips every round) and each round prints both throughputs
 * and their ratio; the result is the median ratio. One JVM for both takes the client's JIT
 * warm-up and its noise out of the comparison, which fresh benchmark JVMs per run do not.
 */
@Command(name = "tls-auth", mixinStandardHelpOptions = true,
        description = {"Plaintext beside TLS and authorization, from one warm client: alternating rounds of"
                + " reads (read-only transactions of 10 point reads), writes (one-key commits) or latency (one"
                + " client's one-key commit p50), and the median ratio."})
public final class SecureBesidePlainBench implements Callable<Integer> {
    @Option(names = "--plain", required = true, description = "The plaintext server or cluster: host:port[,...].")
    String plain;

    @Option(names = "--secure", required = true, description = "The server or cluster with TLS and authorization.")
    String secure;

    @Option(names = "--ca", required = true, description = "The CA file (PEM) of the secure servers' certificates.")
    Path ca;

    @Option(names = "--user", required = true, description = "The user the secure client signs in as.")
    String user;

    @Option(names = "--password-file", required = true, description = "A file whose first line is the user's password.")
    Path passwordFile;

    @Option(names = "--workload", defaultValue = "writes", description = "reads, writes or latency (default ${DEFAULT-VALUE}).")
    String workload;

    @Option(names = "--rounds", defaultValue = "8", description = "Rounds of each (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--round-seconds", defaultValue = "10", description = "Seconds per round and side (default ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--warmup", defaultValue = "10", description = "Warm-up seconds per side (default ${DEFAULT-VALUE}).")
    int warmupSeconds;

    @Option(names = "--threads", defaultValue = "64", description = "Clients for reads and writes (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--keys", defaultValue = "100000", description = "Keys (preloaded for reads; default ${DEFAULT-VALUE}).")
    int keys;

    private static final int VALUE_BYTES = 100;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (!List.of("reads", "writes", "latency").contains(workload) || rounds < 1 || seconds < 1 || threads < 1 || keys < 1) {
            System.err.println("--workload is reads, writes or latency; --rounds, --seconds, --threads, --keys positive");
            return 2;
        }
        String password;
        try (var lines = Files.lines(passwordFile, StandardCharsets.UTF_8)) {
            password = lines.findFirst().orElse("");
        }
        RemoteSettings secureSettings = new RemoteSettings().tls(ca, null, null).credentials(user, password);
        try (Database p = Txkv.open(RemoteBackend.connect(plain, new RemoteSettings()), new TxkvConfig());
                Database s = Txkv.open(RemoteBackend.connect(secure, secureSettings), new TxkvConfig())) {
            if (workload.equals("reads")) {
                preload(p);
                preload(s);
            }
            System.out.printf(Locale.ROOT, "warm-up: plaintext %s, TLS and authorization %s%n", format(run(p, warmupSeconds)),
                    format(run(s, warmupSeconds)));
            List<Double> ratios = new ArrayList<>();
            for (int r = 1; r <= rounds; r++) {
                double x;
                double y;
                if (r % 2 == 1) {
                    x = run(p, seconds);
                    y = run(s, seconds);
                } else {
                    y = run(s, seconds);
                    x = run(p, seconds);
                }
                double ratio = workload.equals("latency") ? y - x : y / x;
                ratios.add(ratio);
                System.out.printf(Locale.ROOT, "round %d %s: plaintext %s, TLS and authorization %s, %s %s%n", r, workload,
                        format(x), format(y), workload.equals("latency") ? "difference" : "ratio",
                        workload.equals("latency") ? String.format(Locale.ROOT, "%+.3f ms", ratio)
                                : String.format(Locale.ROOT, "%.3f", ratio));
            }
            Collections.sort(ratios);
            double median = (ratios.get(ratios.size() / 2) + ratios.get((ratios.size() - 1) / 2)) / 2;
            System.out.printf(Locale.ROOT, "RESULT %s over %d rounds: %s %s (TLS and authorization against plaintext)%n",
                    workload, rounds, workload.equals("latency") ? "median p50 difference" : "median ratio",
                    workload.equals("latency") ? String.format(Locale.ROOT, "%+.3f ms", median)
                            : String.format(Locale.ROOT, "%.3f", median));
        }
        return 0;
    }

    private String format(double value) {
        return workload.equals("latency") ? String.format(Locale.ROOT, "p50 %.3f ms", value)
                : String.format(Locale.ROOT, "%,.0f %s/s", value, workload.equals("reads") ? "reads" : "commits");
    }

    private byte[] key(long i) {
        return String.format(Locale.ROOT, "k%015d", i).getBytes(StandardCharsets.US_ASCII);
    }

    private void preload(Database db) {
        for (int from = 0; from < keys; from += 1000) {
            int first = from;
            db.run(tr -> {
                for (int i = first; i < Math.min(keys, first + 1000); i++) {
                    tr.set(key(i), new byte[VALUE_BYTES]);
                }
                return null;
            });
        }
    }

    /** Throughput (ops/s) of {@code seconds} of the workload on {@code db}, or its one-client commit p50 (ms). */
    private double run(Database db, int seconds) throws InterruptedException {
        boolean latency = workload.equals("latency");
        int clients = latency ? 1 : threads;
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong ops = new AtomicLong();
        Recorder commits = new Recorder(3);
        List<Thread> running = new ArrayList<>();
        for (int t = 0; t < clients; t++) {
            Thread th = new Thread(() -> {
                byte[] value = new byte[VALUE_BYTES];
                while (!stop.get()) {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    long started = System.nanoTime();
                    try {
                        if (workload.equals("reads")) {
                            db.read(tr -> {
                                List<CompletableFuture<byte[]>> gets = new ArrayList<>();
                                for (int i = 0; i < 10; i++) {
                                    gets.add(tr.get(key(random.nextInt(keys))));
                                }
                                gets.forEach(CompletableFuture::join);
                                return null;
                            });
                            ops.addAndGet(10);
                        } else {
                            db.run(tr -> {
                                tr.set(key(random.nextInt(keys)), value);
                                return null;
                            });
                            ops.incrementAndGet();
                            commits.recordValue(System.nanoTime() - started);
                        }
                    } catch (TxkvException e) {
                        // Counted as nothing done; a wrong setting fails every call, which the figures show.
                    }
                }
            }, "client-" + t);
            th.setDaemon(true);
            th.start();
            running.add(th);
        }
        long t0 = System.nanoTime();
        commits.getIntervalHistogram();
        long n0 = ops.get();
        Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
        long n = ops.get() - n0;
        double elapsed = (System.nanoTime() - t0) / 1e9;
        org.HdrHistogram.Histogram h = commits.getIntervalHistogram();
        stop.set(true);
        for (Thread th : running) {
            th.join(10_000);
        }
        return latency ? h.getValueAtPercentile(50) / 1e6 : n / elapsed;
    }
}
