package dev.txkv.cli.shell;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.txkv.cli.Main;
import dev.txkv.proto.MoveResponse;
import dev.txkv.proto.ShardRecord;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code txkv move SHARD MEMBER[,MEMBER...]}: moves the replicas of a shard of a sharded cluster
 * to exactly the members given, online (ShardPeer.Move of shard.proto), and waits until the shard
 * is on them alone.
 */
@Command(name = "move",
        description = "Move the replicas of shard SHARD of a sharded txkv cluster to exactly the members listed,"
                + " online: each member added copies a replica, then the shard's Raft group becomes the new members. Clients"
                + " meet only retryable errors meanwhile. Moving a shard that is moving gives it a new target; its"
                + " current members as the target cancel the move.",
        footer = {
            "",
            "Examples:",
            "  txkv move 2 node-1,node-2",
            "  txkv move 0 node-0,node-1,node-3 --cluster 127.0.0.1:4500,127.0.0.1:4510"})
public final class MoveCommand implements Callable<Integer> {
    /** How long a move may take by default: each new member copies the shard's data. */
    static final long TIMEOUT_MS_DEFAULT = 300_000;
    /** Most replicas of a shard. */
    static final int REPLICAS_MAX = 5;

    private final Function<String, RemoteStatusSource> sources;

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SHARD",
            description = "The id of the shard to move (txkv shards lists them).")
    private String shard;

    @Parameters(index = "1", paramLabel = "MEMBER[,MEMBER...]",
            description = "The members that keep the shard's replicas afterwards: 1 to " + REPLICAS_MAX
                    + " distinct member ids, comma-separated.")
    private String members;

    @Option(names = {"-C", "--cluster"}, paramLabel = "CONN", defaultValue = ShellCommand.CLUSTER_DEFAULT,
            description = "Servers to ask, in order: host:port[,host:port...] (default: ${DEFAULT-VALUE}).")
    private String cluster;

    @Option(names = "--timeout", paramLabel = "MS", defaultValue = "" + TIMEOUT_MS_DEFAULT,
            description = "Give up waiting after this many milliseconds (default: ${DEFAULT-VALUE}); the move"
                    + " goes on in the cluster.")
    private long timeoutMs;

    @Option(names = "--json", description = "Print the answer (the shard map after the move) as JSON.")
    private boolean json;

    /** As {@code txkv move}: the remote client. */
    public MoveCommand() {
        this(RemoteStatusSource::new);
    }

    /** With the source of each connection string, as in tests. */
    MoveCommand(Function<String, RemoteStatusSource> sources) {
        this.sources = Objects.requireNonNull(sources, "sources");
    }

    @Override
    public Integer call() throws InvalidProtocolBufferException {
        if (timeoutMs <= 0) {
            throw new ParameterException(spec.commandLine(), "--timeout must be positive, got " + timeoutMs);
        }
        int id;
        List<String> target;
        try {
            id = shardId(shard);
            target = memberList(members);
        } catch (ShellUsageException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        byte[] answer = sources.apply(cluster).move(id, target, "", Duration.ofMillis(timeoutMs));
        MoveResponse r = MoveResponse.parseFrom(answer);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(JsonFormat.printer().preservingProtoFieldNames().print(r));
        } else {
            out.printf("Shard %d is on %s now.%n", id, String.join(",", membersAfter(r, id, target)));
        }
        out.flush();
        return Main.EXIT_OK;
    }

    /** The members of shard {@code id} in the map of {@code r}; {@code target} when the map does not have it. */
    static List<String> membersAfter(MoveResponse r, int id, List<String> target) {
        for (ShardRecord s : r.getMap().getShardsList()) {
            if (s.getId() == id) {
                return s.getMembersList();
            }
        }
        return target;
    }

    /**
     * SHARD as typed: a shard id, a non-negative integer.
     *
     * @throws ShellUsageException for anything else
     */
    static int shardId(String typed) {
        if (!typed.matches("[0-9]+")) {
            throw new ShellUsageException("SHARD must be a shard id, a non-negative integer (txkv shards lists them),"
                    + " got '" + typed + "'");
        }
        try {
            return Integer.parseInt(typed);
        } catch (NumberFormatException e) {
            throw new ShellUsageException("SHARD must be a shard id, a non-negative integer (txkv shards lists them),"
                    + " got '" + typed + "', which is too large");
        }
    }

    /**
     * MEMBER[,MEMBER...] as typed: 1 to {@value #REPLICAS_MAX} non-empty, distinct member ids,
     * comma-separated, in order.
     *
     * @throws ShellUsageException for anything else
     */
    static List<String> memberList(String typed) {
        List<String> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (String m : typed.split(",", -1)) {
            String id = m.strip();
            if (id.isEmpty()) {
                throw new ShellUsageException("MEMBER[,MEMBER...] must be member ids separated by commas, with none"
                        + " empty, got '" + typed + "'");
            }
            if (!seen.add(id)) {
                throw new ShellUsageException("Member " + id + " is named twice in '" + typed
                        + "'; a member keeps one replica of a shard");
            }
            out.add(id);
        }
        if (out.size() > REPLICAS_MAX) {
            throw new ShellUsageException("A shard has 1 to " + REPLICAS_MAX + " replicas; " + out.size()
                    + " members given in '" + typed + "'");
        }
        return out;
    }
}
