package dev.txkv.queue;

import java.util.Random;

/** The seed of a randomised test: {@code -Dtxkv.seed=N} or a fresh one, printed either way. */
public final class Seeds {
    private Seeds() {
    }

    /** The seed for {@code test}, printed so a failure can be replayed. */
    public static long seed(String test) {
        String configured = System.getProperty("txkv.seed", "");
        long seed = configured.isBlank() ? new Random().nextLong() : Long.parseLong(configured.trim());
        System.out.println(test + " seed: " + seed + " (replay with -Dtxkv.seed=" + seed + ")");
        return seed;
    }
}
