package dev.txkv.cli;

import dev.txkv.launcher.Subcommand;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** A subcommand contributed the way other modules contribute theirs: listed in META-INF/services. */
public final class EchoSubcommand implements Subcommand {
    @Override
    public Object command() {
        return new Echo();
    }

    /** {@code txkv echo WORDS...}: prints its arguments; "fail" makes it throw. */
    @Command(name = "echo", description = "Print the arguments (test only).")
    static final class Echo implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(arity = "1..*")
        List<String> words;

        @Override
        public Integer call() {
            if (words.contains("fail")) {
                throw new IllegalStateException("echo was told to fail", new java.io.IOException("disk on fire"));
            }
            spec.commandLine().getOut().println(String.join(" ", words));
            return 0;
        }
    }
}
