package dev.txkv.bench.compare;

import dev.txkv.launcher.Subcommand;

/** Contributes {@code txkv bench-compare} to the launcher ({@code txkv bench compare} delegates to it). */
public final class CompareSubcommand implements Subcommand {
    @Override
    public Object command() {
        return new CompareBench();
    }
}
