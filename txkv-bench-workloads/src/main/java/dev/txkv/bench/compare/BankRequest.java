package dev.txkv.bench.compare;

/**
 * One bank measurement asked of a driver that runs {@link BankWorkload} in a JVM of its own
 * (txkv-bench-etcd): one line on the driver's stdin, {@code run ACCOUNTS CLIENTS WARMUP_MS
 * MEASURE_MS}; the driver first prints {@link #READY} once it has reached its system, then one
 * {@link BankWorkload.Result#toJson()} line for each request.
 */
public record BankRequest(int accounts, int clients, long warmupMs, long measureMs) {
    /** The driver's first line on stdout once its system answers. */
    public static final String READY = "ready";
    /** A request line's form. */
    public static final String FORMAT = "run ACCOUNTS CLIENTS WARMUP_MS MEASURE_MS";

    /** This request as a line (without its line break). */
    public String line() {
        return "run " + accounts + " " + clients + " " + warmupMs + " " + measureMs;
    }

    /** The request on {@code line}; IllegalArgumentException naming {@link #FORMAT} otherwise. */
    public static BankRequest parse(String line) {
        String[] words = line.strip().split("\\s+");
        try {
            if (words.length == 5 && words[0].equals("run")) {
                return new BankRequest(Integer.parseInt(words[1]), Integer.parseInt(words[2]),
                        Long.parseLong(words[3]), Long.parseLong(words[4]));
            }
        } catch (NumberFormatException e) {
            // Reported below.
        }
        throw new IllegalArgumentException("bad request '" + line + "': expected '" + FORMAT + "'");
    }
}
