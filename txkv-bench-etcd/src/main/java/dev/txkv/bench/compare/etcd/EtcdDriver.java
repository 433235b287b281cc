package dev.txkv.bench.compare.etcd;

import dev.txkv.bench.compare.BankRequest;
import dev.txkv.bench.compare.BankWorkload;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The main class of txkv-bench-etcd.jar: etcd's side of {@code txkv bench compare}, in a JVM
 * of its own so that jetcd and its gRPC, Vert.x and Netty stay out of txkv.jar. YCSB runs from
 * this jar as usual ({@code java -cp txkv-bench-etcd.jar site.ycsb.Client -db
 * dev.txkv.bench.compare.etcd.EtcdYcsbClient ...}); the bank workload runs here:
 *
 * <pre>
 * java -jar txkv-bench-etcd.jar bank --endpoints http://127.0.0.1:2379,...
 * </pre>
 *
 * <p>checks that etcd answers a linearizable read, prints {@code ready}, then reads requests
 * from stdin, one a line, {@code run ACCOUNTS CLIENTS WARMUP_MS MEASURE_MS} ({@link BankRequest}),
 * and answers each with one line of JSON ({@link BankWorkload.Result#toJson()}) once that run is
 * over. The JVM stays up
 * between runs, so its client code stays compiled as the other systems' clients do in bench
 * compare's own JVM. It ends at the end of stdin. Exit codes: 0 done, 1 etcd unreachable or a
 * run failed, 2 bad arguments or request.
 */
@Command(name = "txkv-bench-etcd", usageHelpAutoWidth = true,
        description = {"etcd's side of txkv bench compare, through jetcd (gRPC). YCSB runs from this jar:",
            "  java -cp txkv-bench-etcd.jar site.ycsb.Client -db dev.txkv.bench.compare.etcd.EtcdYcsbClient",
            "    -p etcd.endpoints=URLS ..."})
public final class EtcdDriver implements Callable<Integer> {
    static final String NAME = "txkv-bench-etcd";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    public static void main(String[] args) {
        int code = run(args, new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)),
                new PrintWriter(System.out, true, StandardCharsets.UTF_8), new PrintWriter(System.err, true, StandardCharsets.UTF_8));
        // jetcd's event loops are not daemon threads.
        System.exit(code);
    }

    /** Runs the driver with {@code args}: requests from {@code in}, results to {@code out}; returns the exit code. */
    static int run(String[] args, BufferedReader in, PrintWriter out, PrintWriter err) {
        CommandLine line = new CommandLine(new EtcdDriver()).addSubcommand(new Bank(in));
        line.setOut(out).setErr(err);
        int code = line.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }

    @Command(name = "bank",
            description = {"The bank workload on etcd, run by requests on stdin.",
                "Prints 'ready' once etcd answers, then runs each request read from stdin",
                "('" + BankRequest.FORMAT + "') and prints its result as one JSON line."})
    static final class Bank implements Callable<Integer> {
        private final BufferedReader in;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;

        @Option(names = "--endpoints", required = true, paramLabel = "URLS",
                description = "etcd's client URLs, comma-separated (http://127.0.0.1:2379,...).")
        String endpoints;

        @Option(names = "--connect-timeout-ms", defaultValue = "10000", paramLabel = "MS",
                description = "How long etcd may take to answer the first read (default: ${DEFAULT-VALUE}).")
        long connectTimeoutMs;

        Bank(BufferedReader in) {
            this.in = in;
        }

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            EtcdKv etcd;
            try {
                etcd = new EtcdKv(endpoints);
            } catch (IllegalArgumentException e) {
                err.println(NAME + ": bad --endpoints '" + endpoints + "': " + e.getMessage());
                return 2;
            }
            try (etcd) {
                try {
                    etcd.get(BankWorkload.accountsBegin(), Duration.ofMillis(connectTimeoutMs));
                } catch (IOException e) {
                    err.println(NAME + ": cannot reach etcd at " + endpoints + ": " + e.getMessage());
                    return 1;
                }
                out.println(BankRequest.READY);
                out.flush();
                EtcdBank bank = new EtcdBank(etcd);
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (line.isBlank()) {
                        continue;
                    }
                    BankRequest request;
                    try {
                        request = BankRequest.parse(line);
                    } catch (IllegalArgumentException e) {
                        err.println(NAME + ": " + e.getMessage());
                        return 2;
                    }
                    BankWorkload.Result result;
                    try {
                        result = BankWorkload.run(bank, request.accounts(), request.clients(), request.warmupMs(), request.measureMs());
                    } catch (Exception e) {
                        err.println(NAME + ": bank run " + request + " failed: " + e);
                        e.printStackTrace(err);
                        return 1;
                    }
                    out.println(result.toJson());
                    out.flush();
                }
                return 0;
            }
        }
    }
}
