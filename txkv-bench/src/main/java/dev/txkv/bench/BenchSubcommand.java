package dev.txkv.bench;

import dev.txkv.launcher.Subcommand;

/** Contributes {@code txkv bench} to the launcher. */
public final class BenchSubcommand implements Subcommand {
    @Override
    public Object command() {
        return new EmbeddedBench();
    }
}
