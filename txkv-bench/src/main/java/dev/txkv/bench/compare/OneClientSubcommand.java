package dev.txkv.bench.compare;

import dev.txkv.launcher.Subcommand;

/** Contributes {@code txkv bench-one-client} to the launcher ({@code txkv bench one-client} delegates to it). */
public final class OneClientSubcommand implements Subcommand {
    @Override
    public Object command() {
        return new OneClientBench();
    }
}
