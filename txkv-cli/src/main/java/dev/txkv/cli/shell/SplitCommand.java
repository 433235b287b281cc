package dev.txkv.cli.shell;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.txkv.cli.Main;
import dev.txkv.proto.SplitResponse;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code txkv split KEY}: splits the shard of a sharded cluster that holds KEY at KEY, online
 * (ShardPeer.Split of shard.proto), and waits until the new shard holds its keys.
 */
@Command(name = "split",
        description = "Split the shard of a sharded txkv cluster that holds KEY at KEY, online: the keys from KEY on"
                + " move to a new shard on the same servers. Clients meet only retryable errors meanwhile. KEY is"
                + " written as the shell writes keys (\\xNN for a byte).",
        footer = {
            "",
            "Examples:",
            "  txkv split '\\x60'",
            "  txkv split 'users/m' --cluster 127.0.0.1:4500,127.0.0.1:4510"})
public final class SplitCommand implements Callable<Integer> {
    /** How long a split may take by default: the new shard must elect a leader and copy its keys. */
    static final long TIMEOUT_MS_DEFAULT = 120_000;

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "KEY", description = "The first key of the new shard.")
    private String key;

    @Option(names = {"-C", "--cluster"}, paramLabel = "CONN", defaultValue = ShellCommand.CLUSTER_DEFAULT,
            description = "Servers to ask, in order: host:port[,host:port...] (default: ${DEFAULT-VALUE}).")
    private String cluster;

    @Option(names = "--timeout", paramLabel = "MS", defaultValue = "" + TIMEOUT_MS_DEFAULT,
            description = "Give up waiting after this many milliseconds (default: ${DEFAULT-VALUE}); the split"
                    + " goes on in the cluster.")
    private long timeoutMs;

    @Option(names = "--json", description = "Print the answer (shards split, version, new map) as JSON.")
    private boolean json;

    @Override
    public Integer call() throws InvalidProtocolBufferException {
        if (timeoutMs <= 0) {
            throw new ParameterException(spec.commandLine(), "--timeout must be positive, got " + timeoutMs);
        }
        byte[] splitKey = parseKey();
        byte[] answer = new RemoteStatusSource(cluster).split(splitKey, Duration.ofMillis(timeoutMs));
        SplitResponse r = SplitResponse.parseFrom(answer);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(JsonFormat.printer().preservingProtoFieldNames().print(r));
        } else {
            out.printf("Shard %d split at %s: shard %d holds the keys from there on, from version %d.%n", r.getShard(),
                    ShellSyntax.printable(splitKey), r.getNewShard(), r.getVersion());
        }
        out.flush();
        return Main.EXIT_OK;
    }

    private byte[] parseKey() {
        try {
            return ShellSyntax.keyArgument("KEY", key, false);
        } catch (ShellUsageException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }
}
