package dev.txkv.cli.shell;

import dev.txkv.proto.Status;
import java.time.Duration;
import java.util.function.Function;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The options and the fetch that {@code txkv status} and {@code txkv shards} share: which servers to ask, for how long. */
final class StatusFetch {
    @Spec(Spec.Target.MIXEE)
    private CommandSpec spec;

    @Option(names = {"-C", "--cluster"}, paramLabel = "CONN", defaultValue = ShellCommand.CLUSTER_DEFAULT,
            description = "Servers to ask, in order: host:port[,host:port...] (default: ${DEFAULT-VALUE}).")
    String cluster;

    @Option(names = "--timeout", paramLabel = "MS", defaultValue = "" + StatusCommand.TIMEOUT_MS_DEFAULT,
            description = "Give up after this many milliseconds (default: ${DEFAULT-VALUE}).")
    long timeoutMs;

    /** The status of the first server of {@link #cluster} that answers within the timeout. */
    Status fetch() {
        return fetch(RemoteStatusSource::new, cluster);
    }

    /**
     * The status of the first server of {@code connection} that answers within the timeout, asked
     * through the source that {@code sources} gives for it.
     */
    Status fetch(Function<String, RemoteStatusSource> sources, String connection) {
        if (timeoutMs <= 0) {
            throw new ParameterException(spec.commandLine(), "--timeout must be positive, got " + timeoutMs);
        }
        return sources.apply(connection).fetch(Duration.ofMillis(timeoutMs));
    }
}
