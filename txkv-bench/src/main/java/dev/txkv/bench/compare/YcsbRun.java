package dev.txkv.bench.compare;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One run of YCSB's own client ({@code site.ycsb.Client}) in a child JVM, as YCSB is meant to
 * be run (its main method ends with {@code System.exit}), and the figures it prints.
 */
public final class YcsbRun {
    /** What YCSB reported: overall throughput, and per operation type its counts and latencies. */
    public record Result(String system, String workload, int threads, double opsPerSecond,
            long operations, long errors, Map<String, double[]> latencyMicrosByOperation) {
        /** p50 and p99 in microseconds of {@code operation} (READ, UPDATE, ...), or null. */
        public double[] latency(String operation) {
            return latencyMicrosByOperation.get(operation);
        }
    }

    private YcsbRun() {
    }

    /**
     * Runs YCSB ({@code load} or transaction phase) with {@code binding} from the class path
     * {@code jar} (txkv.jar, or the etcd driver's jar for etcd's binding), the workload file,
     * {@code properties} and {@code threads}; at most {@code seconds} of operations
     * ({@code maxexecutiontime}) and a hard wall-clock limit on the child. With {@code progress},
     * YCSB's status lines (every 10 s) are printed as they come.
     */
    public static Result run(String system, String java, Path jar, String binding, Path workloadFile, boolean load,
            int threads, int seconds, List<String> jvmOptions, Map<String, String> properties, boolean progress)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(java, "-Xmx768m"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", jar.toString(), "site.ycsb.Client",
                load ? "-load" : "-t", "-db", binding, "-P", workloadFile.toString(), "-threads", Integer.toString(threads),
                "-p", "maxexecutiontime=" + seconds,
                "-p", "measurementtype=hdrhistogram", "-p", "hdrhistogram.percentiles=50,99"));
        if (progress) {
            command.add("-s"); // YCSB's status line every 10 s, echoed below
        }
        for (Map.Entry<String, String> p : properties.entrySet()) {
            command.add("-p");
            command.add(p.getKey() + "=" + p.getValue());
        }
        Process process = ChildJvms.track(new ProcessBuilder(command).redirectErrorStream(true).start());
        List<String> output = new ArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    if (progress && line.contains("current ops/sec")) {
                        System.out.println("    " + system + " " + workloadFile.getFileName() + ": " + line);
                    }
                    synchronized (output) {
                        if (output.size() < 100_000) {
                            output.add(line);
                        }
                    }
                }
            } catch (IOException ignored) {
                // The process ended.
            }
        });
        reader.start();
        long limitSeconds = seconds + 120L;
        try {
            if (!process.waitFor(limitSeconds, TimeUnit.SECONDS)) {
                throw new IOException("YCSB " + system + " " + workloadFile.getFileName() + " still running after " + limitSeconds + " s");
            }
        } finally {
            ChildJvms.stop(process);
        }
        reader.join(10_000);
        synchronized (output) {
            if (process.exitValue() != 0) {
                int from = Math.max(0, output.size() - 30);
                throw new IOException("YCSB " + system + " exited with " + process.exitValue() + ":\n"
                        + String.join("\n", output.subList(from, output.size())));
            }
            return parse(system, workloadFile.getFileName().toString() + (load ? " (load)" : ""), threads, output);
        }
    }

    /** Reads YCSB's text report: lines of "[SECTION], metric, value". */
    static Result parse(String system, String workload, int threads, List<String> lines) {
        double throughput = 0;
        long operations = 0;
        long errors = 0;
        Map<String, double[]> latency = new LinkedHashMap<>();
        for (String line : lines) {
            String[] parts = line.split(", ", 3);
            if (parts.length != 3 || !parts[0].startsWith("[")) {
                continue;
            }
            String section = parts[0].substring(1, parts[0].length() - 1);
            String metric = parts[1];
            double value;
            try {
                value = Double.parseDouble(parts[2].trim());
            } catch (NumberFormatException e) {
                continue;
            }
            if (section.equals("OVERALL") && metric.equals("Throughput(ops/sec)")) {
                throughput = value;
            } else if (section.equals("CLEANUP") || section.equals("OVERALL") || section.endsWith("-FAILED")) {
                continue;
            } else if (metric.equals("Operations")) {
                operations += (long) value;
            } else if (metric.startsWith("Return=") && !metric.equals("Return=OK")) {
                errors += (long) value;
            } else if (metric.equals("50thPercentileLatency(us)")) {
                latency.computeIfAbsent(section, s -> new double[2])[0] = value;
            } else if (metric.equals("99thPercentileLatency(us)")) {
                latency.computeIfAbsent(section, s -> new double[2])[1] = value;
            }
        }
        return new Result(system, workload, threads, throughput, operations, errors, latency);
    }
}
