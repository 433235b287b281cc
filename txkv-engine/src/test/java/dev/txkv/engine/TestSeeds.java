package dev.txkv.engine;

/** Seeds for randomised tests: -Dtxkv.seed=N replays one; otherwise a fresh one is printed. */
final class TestSeeds {
    private TestSeeds() {
    }

    static long seed() {
        String given = System.getProperty("txkv.seed", "");
        long seed = given.isBlank() ? System.nanoTime() ^ Thread.currentThread().getId() * 0x9E3779B97F4A7C15L
                : Long.parseLong(given.trim());
        StackTraceElement caller = Thread.currentThread().getStackTrace()[2];
        System.out.println("[txkv] " + caller.getClassName() + "." + caller.getMethodName()
                + " seed=" + seed + " (replay with -Dtxkv.seed=" + seed + ")");
        return seed;
    }

    /** True under the soak profile (-Psoak): longer runs. */
    static boolean soak() {
        return Boolean.parseBoolean(System.getProperty("txkv.soak", "false"));
    }
}
