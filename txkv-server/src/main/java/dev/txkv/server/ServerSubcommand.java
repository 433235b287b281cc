package dev.txkv.server;

import dev.txkv.launcher.Subcommand;

/** Contributes {@code txkv server} to the launcher. */
public final class ServerSubcommand implements Subcommand {
    @Override
    public Object command() {
        return new ServerCommand();
    }
}
