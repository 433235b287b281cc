package dev.txkv.cli.shell;

import dev.txkv.cli.Main;
import dev.txkv.proto.Status;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code txkv exclude MEMBER}: drains a member of a sharded cluster, as fdbcli's exclude does: the
 * replicas it keeps move to other members ({@link ExcludePlan}), one shard at a time, with
 * {@code txkv move}'s call (ShardPeer.Move of shard.proto). The cluster does not remember the
 * exclusion.
 */
@Command(name = "exclude",
        description = "Drain MEMBER of a sharded txkv cluster: every shard with a replica on MEMBER moves, one at a"
                + " time, to its other members plus a replacement, the member with the fewest replicas that keeps"
                + " none of that shard. Afterwards MEMBER keeps no shard's replica (it still keeps its replica of the"
                + " control group, as every server does). The cluster does not remember the exclusion: shards split"
                + " off later stay on their parent's members, so MEMBER gets none, but a txkv move to MEMBER, or the"
                + " replacement of a lost server, may put one there again.",
        footer = {
            "",
            "Examples:",
            "  txkv exclude node-2 --dry-run",
            "  txkv exclude node-2 --cluster 127.0.0.1:4500,127.0.0.1:4510"})
public final class ExcludeCommand implements Callable<Integer> {
    /** How long the status after the moves may take to stop listing the member (the answering member's map may lag). */
    static final long CONFIRM_MS_DEFAULT = 10_000;
    /** The pause between two looks at the status while it still lists the member. */
    private static final long CONFIRM_PAUSE_MS = 250;

    private final Function<String, RemoteStatusSource> sources;
    private final long confirmMs;

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MEMBER",
            description = "The id of the member to drain (txkv status lists them).")
    private String member;

    @Option(names = {"-C", "--cluster"}, paramLabel = "CONN", defaultValue = ShellCommand.CLUSTER_DEFAULT,
            description = "Servers to ask, in order: host:port[,host:port...] (default: ${DEFAULT-VALUE}).")
    private String cluster;

    @Option(names = "--timeout", paramLabel = "MS", defaultValue = "" + MoveCommand.TIMEOUT_MS_DEFAULT,
            description = "Give up waiting for one shard's move after this many milliseconds (default:"
                    + " ${DEFAULT-VALUE}); that move goes on in the cluster, the following ones are not made.")
    private long timeoutMs;

    @Option(names = "--dry-run", description = "Print the moves that would be made, and make none.")
    private boolean dryRun;

    /** As {@code txkv exclude}: the remote client. */
    public ExcludeCommand() {
        this(RemoteStatusSource::new, CONFIRM_MS_DEFAULT);
    }

    /**
     * With the source of each connection string, as in tests, and how long to wait for the status
     * to stop listing the member after the moves.
     */
    ExcludeCommand(Function<String, RemoteStatusSource> sources, long confirmMs) {
        this.sources = Objects.requireNonNull(sources, "sources");
        this.confirmMs = confirmMs;
    }

    @Override
    public Integer call() throws InterruptedException {
        if (timeoutMs <= 0) {
            throw new ParameterException(spec.commandLine(), "--timeout must be positive, got " + timeoutMs);
        }
        if (member.isBlank()) {
            throw new ParameterException(spec.commandLine(), "MEMBER must be a member id, got '" + member + "'");
        }
        RemoteStatusSource source = sources.apply(cluster);
        Status status = fetch(source);
        if (status.getCluster().getShardsCount() == 0) {
            throw new ShellUsageException("The cluster is not sharded: its members keep the whole keyspace, and"
                    + " txkv exclude only moves shards' replicas (the shell's members remove takes a member out of"
                    + " the membership)");
        }
        ExcludePlan plan = ExcludePlan.of(member, status);
        PrintWriter out = spec.commandLine().getOut();
        if (plan.moves().isEmpty()) {
            out.println("No shard is on " + member + "; nothing to move.");
            out.flush();
            return Main.EXIT_OK;
        }
        if (dryRun) {
            out.println("Would move " + count(plan.moves().size()) + " off " + member + ", one at a time:");
            for (ExcludePlan.Move move : plan.moves()) {
                out.println(move);
            }
            out.println("Dry run: nothing was moved.");
            out.flush();
            return Main.EXIT_OK;
        }
        out.println("Moving " + count(plan.moves().size()) + " off " + member + ", one at a time:");
        for (ExcludePlan.Move move : plan.moves()) {
            out.print(move + " ... ");
            out.flush();
            long start = System.nanoTime();
            try {
                source.move(move.shard(), move.to(), "exclude " + member, Duration.ofMillis(timeoutMs));
            } catch (RuntimeException e) {
                out.println("failed");
                out.flush();
                throw e;
            }
            out.printf(Locale.ROOT, "done in %.1f s%n", (System.nanoTime() - start) / 1e9);
            out.flush();
        }
        List<Integer> left = confirm(source);
        if (!left.isEmpty()) {
            String shards = left.stream().map(String::valueOf).collect(Collectors.joining(", "));
            throw new ShellUsageException("After the moves the cluster still lists " + member + " for shard"
                    + (left.size() == 1 ? " " : "s ") + shards
                    + " (another move or split meanwhile?); txkv shards shows them, txkv exclude " + member
                    + " again moves them");
        }
        out.println("No shard is on " + member + " any more. The cluster does not remember the exclusion: a later"
                + " txkv move may put replicas on " + member + " again.");
        out.flush();
        return Main.EXIT_OK;
    }

    private Status fetch(RemoteStatusSource source) {
        return source.fetch(Duration.ofMillis(Math.min(timeoutMs, StatusCommand.TIMEOUT_MS_DEFAULT)));
    }

    /**
     * The shards the status still lists on the member after the moves: none, once the answering
     * member knows the map the moves left; waits up to {@link #confirmMs} for that.
     */
    private List<Integer> confirm(RemoteStatusSource source) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(confirmMs);
        while (true) {
            List<Integer> left = ExcludePlan.shardsOn(member, fetch(source));
            if (left.isEmpty() || System.nanoTime() >= deadline) {
                return left;
            }
            Thread.sleep(CONFIRM_PAUSE_MS);
        }
    }

    private static String count(int shards) {
        return shards == 1 ? "1 shard" : shards + " shards";
    }
}
