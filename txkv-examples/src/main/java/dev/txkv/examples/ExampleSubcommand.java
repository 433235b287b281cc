package dev.txkv.examples;

import dev.txkv.launcher.Subcommand;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Contributes {@code txkv example} to the launcher (listed in
 * {@code META-INF/services/dev.txkv.launcher.Subcommand}), so the example runs from txkv.jar
 * without the launcher knowing about this module.
 */
public final class ExampleSubcommand implements Subcommand {
    @Override
    public Object command() {
        return new ExampleCommand();
    }

    /** {@code txkv example [DIR]}: runs {@link EmbeddedExample} on a database in DIR. */
    @Command(name = "example",
            description = "Run the embedded example: a few transactions on a database in DIR.")
    static final class ExampleCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", arity = "0..1", paramLabel = "DIR", defaultValue = "txkv-data",
                description = "Directory of the embedded database (default: ${DEFAULT-VALUE}).")
        Path dir;

        @Override
        public Integer call() {
            EmbeddedExample.run(dir, spec.commandLine().getOut());
            return 0;
        }
    }
}
