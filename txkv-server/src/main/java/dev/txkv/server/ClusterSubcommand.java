package dev.txkv.server;

import dev.txkv.launcher.Subcommand;

/** Contributes {@code txkv cluster start|stop|status} to the launcher. */
public final class ClusterSubcommand implements Subcommand {
    @Override
    public Object command() {
        return new ClusterCommand();
    }
}
