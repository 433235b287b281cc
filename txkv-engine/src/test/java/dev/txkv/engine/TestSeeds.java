package dev.txkv.engine;

import dev.txkv.testkit.Seeds;

/** Seeds for randomised tests, as {@link Seeds}; kept for the tests that still call it here. */
final class TestSeeds {
    private TestSeeds() {
    }

    static long seed() {
        StackWalker.StackFrame caller = StackWalker.getInstance()
                .walk(frames -> frames.skip(1).findFirst().orElseThrow());
        String className = caller.getClassName();
        return Seeds.seed(className.substring(className.lastIndexOf('.') + 1) + "." + caller.getMethodName());
    }

    /** True under the soak profile (-Psoak): longer runs. */
    static boolean soak() {
        return Seeds.soak();
    }
}
