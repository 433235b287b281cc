package dev.txkv.testkit;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * Makes jqwik properties follow the project's seed convention: {@code -Dtxkv.seed=N} replays a
 * run, and every run prints the seed it used. Use with
 * {@code @AddLifecycleHook(TxkvSeed.class)} on a test class.
 */
public final class TxkvSeed implements AroundPropertyHook {
    /** Added to a test class, the hook reaches every property in it. */
    @Override
    public PropagationMode propagateTo() {
        return PropagationMode.ALL_DESCENDANTS;
    }

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        String fixed = Seeds.given();
        if (fixed != null) {
            context.attributes().setSeed(fixed);
        }
        PropertyExecutionResult result = property.execute();
        System.out.println(context.extendedLabel() + ": " + result.status() + " with seed "
                + result.seed().orElse("?") + " (replay: -Dtxkv.seed=" + result.seed().orElse("?") + ")");
        return result;
    }
}
