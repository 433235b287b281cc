package dev.txkv.bench.compare;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * etcd's bank measurements in the etcd driver's JVM (txkv-bench-etcd.jar: jetcd over gRPC, kept
 * out of txkv.jar). The driver is started once and kept for every run, so its client code stays
 * compiled between runs as the other systems' clients do in this JVM: each request goes to its
 * stdin as one line ({@link BankRequest}), each result comes back on its stdout as one line of
 * JSON ({@link BankWorkload.Result#fromJson}). Its stderr is this
 * process's.
 */
final class EtcdBankDriver implements BankRunner {
    /** The driver jar's file name, built by the txkv-bench-etcd module. */
    static final String JAR = "txkv-bench-etcd.jar";
    /** etcd's YCSB binding, in {@link #JAR}. */
    static final String YCSB_BINDING = "dev.txkv.bench.compare.etcd.EtcdYcsbClient";
    /** How long the driver may take to start and reach etcd. */
    static final long START_TIMEOUT_MS = 60_000;
    /** The end of the driver's stdout, in {@link #lines}. */
    private static final String END = "\u0000end";

    private final Process process;
    private final Writer requests;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    private EtcdBankDriver(Process process) {
        this.process = process;
        this.requests = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    lines.add(line);
                }
            } catch (IOException ended) {
                // The driver is gone; END below says so.
            }
            lines.add(END);
        }, "etcd-driver-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /** {@code ROOT/txkv-bench-etcd/target/txkv-bench-etcd.jar} for {@code ROOT/txkv-dist/target/txkv.jar}. */
    static Path besideTxkvJar(Path txkvJar) {
        Path target = txkvJar.toAbsolutePath().getParent();
        Path root = target == null || target.getParent() == null ? null : target.getParent().getParent();
        return root == null ? Path.of(JAR).toAbsolutePath() : root.resolve("txkv-bench-etcd").resolve("target").resolve(JAR);
    }

    /** Starts the driver from {@code jar} against {@code endpoints} and waits until it has reached etcd. */
    static EtcdBankDriver start(String java, Path jar, String endpoints) throws IOException, InterruptedException {
        Process process = ChildJvms.track(new ProcessBuilder(List.of(java, "-jar", jar.toString(), "bank", "--endpoints", endpoints))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start());
        EtcdBankDriver driver = new EtcdBankDriver(process);
        try {
            driver.next("start", START_TIMEOUT_MS, BankRequest.READY);
            return driver;
        } catch (IOException | InterruptedException | RuntimeException e) {
            driver.close();
            throw e;
        }
    }

    /**
     * The driver's next line that is {@code expected}, or its next JSON line when {@code expected}
     * is null; other lines (a library's notices) are passed on to stdout.
     */
    private String next(String what, long timeoutMs, String expected) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new IOException("etcd driver: no answer to " + what + " within " + timeoutMs + " ms");
            }
            if (line.equals(END)) {
                String code = process.waitFor(10, TimeUnit.SECONDS) ? " with exit code " + process.exitValue() : "";
                throw new IOException("etcd driver ended during " + what + code + "; its messages are above");
            }
            if (expected != null ? line.equals(expected) : line.startsWith("{")) {
                return line;
            }
            System.out.println("    etcd driver: " + line);
        }
    }

    @Override
    public String name() {
        return CompareBench.ETCD;
    }

    @Override
    public BankWorkload.Result run(int accounts, int clients, long warmupMs, long measureMs) throws IOException, InterruptedException {
        String request = new BankRequest(accounts, clients, warmupMs, measureMs).line();
        requests.write(request + "\n");
        requests.flush();
        // The driver's own bound is warmupMs + measureMs + 60 s (BankWorkload.run); then the checks.
        return BankWorkload.Result.fromJson(next("'" + request + "'", warmupMs + measureMs + 120_000, null));
    }

    /** Closes the driver's stdin, which ends it, and kills it if it has not ended within 10 s. */
    @Override
    public void close() throws InterruptedException {
        try {
            requests.close();
        } catch (IOException alreadyGone) {
            // Nothing to end.
        }
        process.waitFor(10, TimeUnit.SECONDS);
        ChildJvms.stop(process);
    }
}
