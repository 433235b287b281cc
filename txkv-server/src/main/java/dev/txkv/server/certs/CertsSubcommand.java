package dev.txkv.server.certs;

import dev.txkv.launcher.Subcommand;

/** Contributes {@code txkv certs create-ca|create-node|create-client|list} to the launcher. */
public final class CertsSubcommand implements Subcommand {
    @Override
    public Object command() {
        return new CertsCommand();
    }
}
