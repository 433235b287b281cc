package dev.txkv.bench;

import dev.txkv.launcher.Subcommand;

/** Contributes {@code txkv ratis-log} (the commit-log benchmark) to the launcher. */
public final class RatisLogSubcommand implements Subcommand {
    @Override
    public Object command() {
        return new RatisLogBench();
    }
}
