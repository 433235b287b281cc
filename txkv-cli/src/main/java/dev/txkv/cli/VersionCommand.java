package dev.txkv.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code txkv version}: prints the txkv version and the Java runtime that runs it. */
@Command(name = "version", description = "Print the txkv version and the Java runtime.")
final class VersionCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        // Through picocli's writer, not System.out, so callers (and tests) choose where it goes.
        PrintWriter out = spec.commandLine().getOut();
        for (String line : new TxkvVersion().getVersion()) {
            out.println(line);
        }
        out.flush();
        return Main.EXIT_OK;
    }
}
