package dev.txkv.cli.shell;

import dev.txkv.cli.Main;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code txkv include MEMBER}: undoes {@code txkv exclude MEMBER} ({@link ExcludeCommand}): the
 * cluster removes MEMBER from its excluded members (ShardPeer.Exclude of shard.proto, with
 * {@code include}), so replicas may be placed there again. Nothing moves back at once.
 */
@Command(name = "include",
        description = "Include MEMBER of a sharded txkv cluster again after txkv exclude: replicas may be placed there"
                + " again (a txkv move, the replacement of a lost server, the rebalancer). Nothing moves back at once;"
                + " the rebalancer evens out what the members keep by itself.",
        footer = {
            "",
            "Examples:",
            "  txkv include node-2",
            "  txkv include node-2 --cluster 127.0.0.1:4500,127.0.0.1:4510"})
public final class IncludeCommand implements Callable<Integer> {
    private final Function<String, RemoteStatusSource> sources;

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MEMBER",
            description = "The id of the member to include again (txkv shards lists the excluded ones).")
    private String member;

    @Option(names = {"-C", "--cluster"}, paramLabel = "CONN", defaultValue = ShellCommand.CLUSTER_DEFAULT,
            description = "Servers to ask, in order: host:port[,host:port...] (default: ${DEFAULT-VALUE}).")
    private String cluster;

    @Option(names = "--timeout", paramLabel = "MS", defaultValue = "" + ExcludeCommand.CALL_TIMEOUT_MS,
            description = "Give up after this many milliseconds (default: ${DEFAULT-VALUE}).")
    private long timeoutMs;

    /** As {@code txkv include}: the remote client. */
    public IncludeCommand() {
        this(RemoteStatusSource::new);
    }

    /** With the source of each connection string, as in tests. */
    IncludeCommand(Function<String, RemoteStatusSource> sources) {
        this.sources = Objects.requireNonNull(sources, "sources");
    }

    @Override
    public Integer call() {
        if (timeoutMs <= 0) {
            throw new ParameterException(spec.commandLine(), "--timeout must be positive, got " + timeoutMs);
        }
        if (member.isBlank()) {
            throw new ParameterException(spec.commandLine(), "MEMBER must be a member id, got '" + member + "'");
        }
        sources.apply(cluster).exclude(member, true, Duration.ofMillis(timeoutMs));
        PrintWriter out = spec.commandLine().getOut();
        out.println(member + " is included again: replicas may be placed there (the rebalancer evens out what the"
                + " members keep by itself).");
        out.flush();
        return Main.EXIT_OK;
    }
}
