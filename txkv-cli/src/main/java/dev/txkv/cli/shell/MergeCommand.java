package dev.txkv.cli.shell;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.txkv.cli.Main;
import dev.txkv.proto.MergeResponse;
import dev.txkv.proto.ShardRecord;
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
 * {@code txkv merge SHARD}: merges a shard of a sharded cluster with the shard after it in key
 * order (its right neighbour), online (ShardPeer.Merge of shard.proto): the left shard absorbs
 * the right one's keys, and the command waits until it serves them.
 */
@Command(name = "merge",
        description = "Merge shard SHARD of a sharded txkv cluster with the shard after it (its right neighbour),"
                + " online: shard SHARD absorbs its keys and the right neighbour is removed. Both shards must have"
                + " their replicas on the same members (txkv move one onto the other's members first). Clients meet"
                + " only retryable errors meanwhile.",
        footer = {
            "",
            "Examples:",
            "  txkv merge 3",
            "  txkv merge 0 --cluster 127.0.0.1:4500,127.0.0.1:4510 --json"})
public final class MergeCommand implements Callable<Integer> {
    /** How long a merge may take by default: as long as a move. */
    static final long TIMEOUT_MS_DEFAULT = MoveCommand.TIMEOUT_MS_DEFAULT;

    private final Function<String, RemoteStatusSource> sources;

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SHARD",
            description = "The id of the left shard, which absorbs the shard after it (txkv shards lists them in key"
                    + " order).")
    private String shard;

    @Option(names = {"-C", "--cluster"}, paramLabel = "CONN", defaultValue = ShellCommand.CLUSTER_DEFAULT,
            description = "Servers to ask, in order: host:port[,host:port...] (default: ${DEFAULT-VALUE}).")
    private String cluster;

    @Option(names = "--timeout", paramLabel = "MS", defaultValue = "" + TIMEOUT_MS_DEFAULT,
            description = "Give up waiting after this many milliseconds (default: ${DEFAULT-VALUE}); the merge"
                    + " goes on in the cluster.")
    private long timeoutMs;

    @Option(names = "--json", description = "Print the answer (the shards merged and the shard map after the merge)"
            + " as JSON.")
    private boolean json;

    /** As {@code txkv merge}: the remote client. */
    public MergeCommand() {
        this(RemoteStatusSource::new);
    }

    /** With the source of each connection string, as in tests. */
    MergeCommand(Function<String, RemoteStatusSource> sources) {
        this.sources = Objects.requireNonNull(sources, "sources");
    }

    @Override
    public Integer call() throws InvalidProtocolBufferException {
        if (timeoutMs <= 0) {
            throw new ParameterException(spec.commandLine(), "--timeout must be positive, got " + timeoutMs);
        }
        int id;
        try {
            id = MoveCommand.shardId(shard);
        } catch (ShellUsageException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        byte[] answer = sources.apply(cluster).merge(id, "", Duration.ofMillis(timeoutMs));
        MergeResponse r = MergeResponse.parseFrom(answer);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(JsonFormat.printer().preservingProtoFieldNames().print(r));
        } else {
            String range = rangeAfter(r);
            out.printf("Shard %d absorbed shard %d%s.%n", r.getShard(), r.getAbsorbed(),
                    range == null ? "" : "; shard " + r.getShard() + " holds " + range + " now");
        }
        out.flush();
        return Main.EXIT_OK;
    }

    /**
     * The keys the shard that absorbed holds in the map of {@code r}, as {@code txkv shards} writes
     * ranges: from its first key to the end of the shard it absorbed (the map may still list that
     * one until every replica has its keys), or to its own end once the map no longer does;
     * {@code \xff} for the end of the keyspace. Null when the map does not have the shard.
     */
    static String rangeAfter(MergeResponse r) {
        ShardRecord left = null;
        ShardRecord absorbed = null;
        for (ShardRecord s : r.getMap().getShardsList()) {
            if (s.getId() == r.getShard()) {
                left = s;
            } else if (s.getId() == r.getAbsorbed()) {
                absorbed = s;
            }
        }
        if (left == null) {
            return null;
        }
        ShardRecord last = absorbed != null ? absorbed : left;
        return "[" + ShellSyntax.printable(left.getBegin().toByteArray()) + ", "
                + (last.hasEnd() ? ShellSyntax.printable(last.getEnd().toByteArray()) : "\\xff") + ")";
    }
}
