package dev.txkv.bench.scale;

import dev.txkv.launcher.Subcommand;

/** Contributes {@code txkv bench-scale-model} to the launcher ({@code txkv bench scale-model} delegates to it). */
public final class ScaleModelSubcommand implements Subcommand {
    @Override
    public Object command() {
        return new ScaleModelCommand();
    }
}
