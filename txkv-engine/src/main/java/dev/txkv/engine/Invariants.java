package dev.txkv.engine;

/**
 * Checks of what must always hold inside the engine (versions only grow, a batch applies once
 * and in order, a view is never freed while read). Always on: they cost a comparison, and a
 * broken invariant caught at once beats corrupted data found later.
 */
final class Invariants {
    private Invariants() {
    }

    /** Throws {@link IllegalStateException} with {@code what} and the values when {@code holds} is false. */
    static void check(boolean holds, String what, long a, long b) {
        if (!holds) {
            throw new IllegalStateException("Invariant broken: " + what + " (" + a + ", " + b + ")");
        }
    }

    static void check(boolean holds, String what) {
        if (!holds) {
            throw new IllegalStateException("Invariant broken: " + what);
        }
    }
}
