package dev.txkv.check;

import dev.txkv.launcher.Subcommand;

/** Contributes {@code txkv check} to the launcher. */
public final class CheckSubcommand implements Subcommand {
    @Override
    public Object command() {
        return new CheckCommand();
    }
}
