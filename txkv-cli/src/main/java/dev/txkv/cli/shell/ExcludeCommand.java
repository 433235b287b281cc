package dev.txkv.cli.shell;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.txkv.TxkvException;
import dev.txkv.cli.Main;
import dev.txkv.proto.ExcludeResponse;
import dev.txkv.proto.ShardRecord;
import dev.txkv.proto.Status;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
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
 * {@code txkv exclude MEMBER}: excludes a member of a sharded cluster, as fdbcli's exclude does
 * (ShardPeer.Exclude of shard.proto). The cluster records the exclusion in its shard map and
 * drains the member by itself: its replicas move off it, one shard at a time, and none is placed
 * there until {@code txkv include} ({@link IncludeCommand}). The command then waits, reading the
 * status, until no shard lists the member, and prints a line whenever what is left on it changes.
 */
@Command(name = "exclude",
        description = "Exclude MEMBER of a sharded txkv cluster: the cluster records the exclusion and moves the"
                + " replicas on MEMBER off it by itself, one shard at a time, each to the member with the fewest"
                + " replicas that keeps none of that shard; nothing places a replica on MEMBER until txkv include."
                + " The command waits until no shard is on MEMBER, printing what is left whenever it changes."
                + " MEMBER still keeps its replica of the control group, as every server does.",
        footer = {
            "",
            "Examples:",
            "  txkv exclude node-2 --dry-run",
            "  txkv exclude node-2 --cluster 127.0.0.1:4500,127.0.0.1:4510",
            "  txkv include node-2"})
public final class ExcludeCommand implements Callable<Integer> {
    /** How long the drain may take by default: each move copies a shard's data. */
    static final long TIMEOUT_MS_DEFAULT = 300_000;
    /** How long the exclude call itself may take: the control group records it and answers. */
    static final long CALL_TIMEOUT_MS = 10_000;
    /** The pause between two reads of the status while shards are still on the member. */
    static final long POLL_MS_DEFAULT = 500;

    private final Function<String, RemoteStatusSource> sources;
    private final long pollMs;

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MEMBER",
            description = "The id of the member to exclude (txkv status lists them).")
    private String member;

    @Option(names = {"-C", "--cluster"}, paramLabel = "CONN", defaultValue = ShellCommand.CLUSTER_DEFAULT,
            description = "Servers to ask, in order: host:port[,host:port...] (default: ${DEFAULT-VALUE}).")
    private String cluster;

    @Option(names = "--timeout", paramLabel = "MS", defaultValue = "" + TIMEOUT_MS_DEFAULT,
            description = "Give up waiting for the shards to leave MEMBER after this many milliseconds (default:"
                    + " ${DEFAULT-VALUE}); the cluster goes on moving them, and MEMBER stays excluded.")
    private long timeoutMs;

    @Option(names = "--dry-run", description = "Print the shards on MEMBER that the cluster would move, and exclude"
            + " nothing.")
    private boolean dryRun;

    @Option(names = "--no-wait", description = "Exclude MEMBER and return at once, without waiting for the moves.")
    private boolean noWait;

    /** As {@code txkv exclude}: the remote client. */
    public ExcludeCommand() {
        this(RemoteStatusSource::new, POLL_MS_DEFAULT);
    }

    /**
     * With the source of each connection string, as in tests, and the pause between two reads of
     * the status while waiting.
     */
    ExcludeCommand(Function<String, RemoteStatusSource> sources, long pollMs) {
        this.sources = Objects.requireNonNull(sources, "sources");
        this.pollMs = pollMs;
    }

    @Override
    public Integer call() throws InterruptedException, InvalidProtocolBufferException {
        if (timeoutMs <= 0) {
            throw new ParameterException(spec.commandLine(), "--timeout must be positive, got " + timeoutMs);
        }
        if (member.isBlank()) {
            throw new ParameterException(spec.commandLine(), "MEMBER must be a member id, got '" + member + "'");
        }
        RemoteStatusSource source = sources.apply(cluster);
        Status status = source.fetch(Duration.ofMillis(Math.min(timeoutMs, StatusCommand.TIMEOUT_MS_DEFAULT)));
        if (status.getCluster().getShardsCount() == 0) {
            throw new ShellUsageException("The cluster is not sharded: its members keep the whole keyspace, and"
                    + " txkv exclude only moves shards' replicas (the shell's members remove takes a member out of"
                    + " the membership)");
        }
        PrintWriter out = spec.commandLine().getOut();
        if (dryRun) {
            dryRun(status, out);
            out.flush();
            return Main.EXIT_OK;
        }
        long start = System.nanoTime();
        ExcludeResponse answer = ExcludeResponse.parseFrom(
                source.exclude(member, false, Duration.ofMillis(Math.min(timeoutMs, CALL_TIMEOUT_MS))));
        if (noWait) {
            List<Integer> on = shardsOn(member, answer.getMap().getShardsList());
            out.println(on.isEmpty() ? member + " is excluded; no shard is on it."
                    : member + " is excluded: the cluster moves " + count(on.size()) + " off it by itself, one at a"
                            + " time (" + ids(on) + "; txkv shards shows the moves).");
            out.println(member + " stays excluded until txkv include " + member + ".");
            out.flush();
            return Main.EXIT_OK;
        }
        waitForDrain(source, start, !shardsOn(member, status).isEmpty(), out);
        return Main.EXIT_OK;
    }

    /** The shards on the member, as the status lists them, with what the cluster would do; nothing changes. */
    private void dryRun(Status status, PrintWriter out) {
        List<String> known = members(status);
        if (!known.contains(member)) {
            throw new ShellUsageException("No member '" + member + "' in the cluster (members: "
                    + String.join(", ", known) + ")");
        }
        if (status.getCluster().getExcludedList().contains(member)) {
            out.println(member + " is excluded already.");
        }
        List<Status.Shard> on = shardsOn(member, status);
        if (on.isEmpty()) {
            out.println("No shard is on " + member + ": excluding it would move nothing.");
        } else {
            out.println("Would exclude " + member + ": the cluster would move " + count(on.size()) + " off it by"
                    + " itself, one at a time, each to the lightest member (fewest replicas, weighed by size) that"
                    + " keeps none of the shard:");
            for (Status.Shard s : on) {
                out.println("shard " + s.getId() + ": " + String.join(",", s.getReplicasList())
                        + (s.getMovingToCount() > 0 ? " (" + moving(s) + ")" : "")
                        + (cannotMove(member, s, status) ? " (cannot move: " + shrink(member, s) + ")" : ""));
            }
        }
        out.println("Dry run: nothing was excluded.");
    }

    /**
     * Reads the status every {@link #pollMs} until no shard lists the member, printing a line
     * whenever what is left on it changes; fails once {@link #timeoutMs} has passed since
     * {@code start}. {@code hadShards}: whether the status before the exclusion listed shards on
     * the member (the last line then says they left it). A status read that fails is tried again at the next poll (a server may
     * restart meanwhile); the last failure is reported on timeout.
     */
    private void waitForDrain(RemoteStatusSource source, long start, boolean hadShards, PrintWriter out)
            throws InterruptedException {
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        String printed = null;
        Status last = null;
        TxkvException failure = null;
        while (true) {
            long leftMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            try {
                last = source.fetch(Duration.ofMillis(Math.min(leftMs, StatusCommand.TIMEOUT_MS_DEFAULT)));
                failure = null;
            } catch (TxkvException e) {
                failure = e;
            }
            if (failure == null) {
                List<Status.Shard> on = shardsOn(member, last);
                if (on.isEmpty()) {
                    out.println((printed == null && !hadShards ? "No shard is on " + member + "; nothing to move."
                            : String.format(Locale.ROOT, "No shard is on %s any more (%.1f s).", member,
                                    (System.nanoTime() - start) / 1e9))
                            + " " + member + " stays excluded until txkv include " + member + ".");
                    out.flush();
                    return;
                }
                String line = progress(member, on, last);
                if (!line.equals(printed)) {
                    out.println(line);
                    out.flush();
                    printed = line;
                }
            }
            long now = System.nanoTime();
            if (now - deadline >= 0) {
                throw new ShellUsageException(timedOut(last, failure, (now - start) / 1e9));
            }
            Thread.sleep(Math.min(pollMs, Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - now))));
        }
    }

    /** Why the wait failed: what is still on the member, which the cluster goes on moving and which it cannot. */
    private String timedOut(Status last, TxkvException failure, double seconds) {
        String after = String.format(Locale.ROOT, "after %.1f s", seconds);
        String stays = member + " stays excluded until txkv include " + member + ".";
        if (last == null) {
            return "Could not read the status since excluding " + member + " (" + after + "): " + failure.getMessage()
                    + ". The cluster moves the replicas on " + member + " off it by itself (txkv shards shows the"
                    + " moves). " + stays;
        }
        List<Status.Shard> on = shardsOn(member, last);
        List<Integer> moving = new ArrayList<>();
        List<String> stuck = new ArrayList<>();
        for (Status.Shard s : on) {
            if (cannotMove(member, s, last)) {
                stuck.add(shrink(member, s));
            } else {
                moving.add(s.getId());
            }
        }
        StringBuilder text = new StringBuilder(on.size() == 1 ? "Shard " : "Shards ")
                .append(ids(on.stream().map(Status.Shard::getId).toList())).append(on.size() == 1 ? " is" : " are")
                .append(" still on ").append(member).append(' ').append(after).append('.');
        if (!moving.isEmpty()) {
            text.append(" The cluster goes on moving ").append(moving.size() == 1 ? "shard " : "shards ")
                    .append(ids(moving)).append(" off it (txkv shards shows the moves).");
        }
        if (!stuck.isEmpty()) {
            text.append(" The cluster cannot drain ").append(member).append(": ").append(String.join("; ", stuck))
                    .append('.');
        }
        text.append(' ').append(stays);
        if (failure != null) {
            text.append(" The last status read failed: ").append(failure.getMessage());
        }
        return text.toString();
    }

    /**
     * The progress line of the shards {@code on} the member: their count and ids, then the moves
     * under way among them and those the cluster cannot move, e.g. {@code 2 shards on node-2: 2, 5
     * (shard 2 moving to node-0,node-3: exclude node-2)}.
     */
    static String progress(String member, List<Status.Shard> on, Status status) {
        List<String> notes = new ArrayList<>();
        for (Status.Shard s : on) {
            if (s.getMovingToCount() > 0) {
                notes.add("shard " + s.getId() + " " + moving(s));
            } else if (cannotMove(member, s, status)) {
                notes.add("shard " + s.getId() + ": no other member can take it");
            }
        }
        return count(on.size()) + " on " + member + ": " + ids(on.stream().map(Status.Shard::getId).toList())
                + (notes.isEmpty() ? "" : " (" + String.join("; ", notes) + ")");
    }

    /** {@code moving to b,c: reason} for a shard whose replicas move. */
    private static String moving(Status.Shard s) {
        return "moving to " + String.join(",", s.getMovingToList())
                + (s.getMoveReason().isEmpty() ? "" : ": " + s.getMoveReason());
    }

    /**
     * Whether the cluster cannot move the replica of {@code shard} off {@code member}: every
     * member that is not excluded keeps the shard already, so none can take it. False for a shard
     * that is moving (the cluster decides then).
     */
    static boolean cannotMove(String member, Status.Shard shard, Status status) {
        if (shard.getMovingToCount() > 0) {
            return false;
        }
        for (String m : members(status)) {
            if (!m.equals(member) && !shard.getReplicasList().contains(m)
                    && !status.getCluster().getExcludedList().contains(m)) {
                return false;
            }
        }
        return true;
    }

    /** What to do about a shard the cluster cannot move off {@code member}: the {@code txkv move} that shrinks it. */
    static String shrink(String member, Status.Shard shard) {
        List<String> others = new ArrayList<>(shard.getReplicasList());
        others.remove(member);
        return others.isEmpty()
                ? "no member that is not excluded can take the replica of shard " + shard.getId()
                : "every other member keeps shard " + shard.getId() + " or is excluded, so none can take its replica;"
                        + " txkv move " + shard.getId() + " " + String.join(",", others)
                        + " shrinks the shard to fewer replicas";
    }

    /**
     * The cluster's members: the processes the status lists (those that report themselves removed
     * from the membership left out), then any other that a shard lists, in that order.
     */
    static List<String> members(Status status) {
        Set<String> out = new LinkedHashSet<>();
        for (Status.Process p : status.getProcessesList()) {
            if (!p.getRole().equals("removed")) {
                out.add(p.getId());
            }
        }
        for (Status.Shard s : status.getCluster().getShardsList()) {
            out.addAll(s.getReplicasList());
            out.addAll(s.getMovingToList());
        }
        return List.copyOf(out);
    }

    /** The shards of {@code status} that keep a replica on {@code member} or are moving to it, in key order. */
    static List<Status.Shard> shardsOn(String member, Status status) {
        return status.getCluster().getShardsList().stream()
                .filter(s -> s.getReplicasList().contains(member) || s.getMovingToList().contains(member))
                .toList();
    }

    /** The ids of the shards of a shard map that keep a replica on {@code member} or are moving to it. */
    static List<Integer> shardsOn(String member, List<ShardRecord> shards) {
        return shards.stream().filter(s -> s.getMembersList().contains(member) || s.getMovingToList().contains(member))
                .map(ShardRecord::getId).toList();
    }

    private static String ids(List<Integer> ids) {
        return ids.stream().map(String::valueOf).collect(Collectors.joining(", "));
    }

    private static String count(int shards) {
        return shards == 1 ? "1 shard" : shards + " shards";
    }
}
