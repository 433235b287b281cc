package dev.txkv.testkit;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The seed of a randomised test, by the project's convention: {@code -Dtxkv.seed=N} replays a
 * run, otherwise a fresh seed is drawn; either way it is printed, so that any failure can be
 * replayed from the test's output.
 */
public final class Seeds {
    /** The system property that fixes the seed. */
    public static final String PROPERTY = "txkv.seed";

    private Seeds() {
    }

    /** The seed for the calling test method, named after it in the printed line. */
    public static long seed() {
        StackWalker.StackFrame caller = StackWalker.getInstance()
                .walk(frames -> frames.skip(1).findFirst().orElseThrow());
        return seed(simpleName(caller.getClassName()) + "." + caller.getMethodName());
    }

    /** The seed for {@code test}: from {@code -Dtxkv.seed}, or fresh; printed either way. */
    public static long seed(String test) {
        String given = System.getProperty(PROPERTY, "");
        long seed;
        if (given.isBlank()) {
            seed = ThreadLocalRandom.current().nextLong();
        } else {
            try {
                seed = Long.parseLong(given.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("-D" + PROPERTY + " must be a long, got '" + given + "'", e);
            }
        }
        System.out.println("[txkv] " + test + " seed=" + seed + " (replay with -D" + PROPERTY + "=" + seed + ")");
        return seed;
    }

    /** The seed given with {@code -Dtxkv.seed}, or null when none was given; prints nothing. */
    public static String given() {
        String given = System.getProperty(PROPERTY, "");
        return given.isBlank() ? null : given.trim();
    }

    /** True under the soak profile ({@code -Psoak}, which sets {@code -Dtxkv.soak=true}): longer runs. */
    public static boolean soak() {
        return Boolean.parseBoolean(System.getProperty("txkv.soak", "false"));
    }

    private static String simpleName(String className) {
        return className.substring(className.lastIndexOf('.') + 1);
    }
}
