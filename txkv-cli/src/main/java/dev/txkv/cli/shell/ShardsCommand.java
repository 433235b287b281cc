package dev.txkv.cli.shell;

import dev.txkv.cli.Main;
import dev.txkv.proto.Status;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code txkv shards}: a sharded cluster's shards (the shards of message Status.Cluster in
 * txkv.proto), from the status of the first server that answers. A server knows the leader,
 * applied version, size and two-phase state only of the shards it keeps a replica of; when that
 * leaves rows without them and the connection string names several servers, every server of it
 * is asked as well and each row takes them from a server that keeps the shard ({@link #merge}).
 */
@Command(name = "shards",
        description = "List the shards of a sharded txkv cluster: id, key range, replicas, leader, and the applied"
                + " version, size and two-phase state of a replica of each, then the members excluded with txkv"
                + " exclude, if any; or with --json the status's cluster section as JSON. Every server of CONN is"
                + " asked for the shards it keeps.",
        footer = {
            "",
            "Examples:",
            "  txkv shards",
            "  txkv shards --cluster 127.0.0.1:4500,127.0.0.1:4510 --json"})
public final class ShardsCommand implements Callable<Integer> {
    /** What the table's header says the two-phase state is on once rows come from several servers. */
    static final String ON_A_REPLICA = "a replica";

    private final Function<String, RemoteStatusSource> sources;

    @Spec
    private CommandSpec spec;

    @Mixin
    private StatusFetch servers;

    @Option(names = "--json", description = "Print the cluster section of the status (shards, sequencer, excluded"
            + " members) as JSON.")
    private boolean json;

    /** Asks the servers through the remote client on the class path. */
    public ShardsCommand() {
        this(RemoteStatusSource::new);
    }

    /** With the source of each connection string, as in tests. */
    ShardsCommand(Function<String, RemoteStatusSource> sources) {
        this.sources = Objects.requireNonNull(sources, "sources");
    }

    @Override
    public Integer call() {
        Status status = servers.fetch(sources, servers.cluster);
        String on = status.getAnsweredBy();
        List<String> each = Arrays.stream(servers.cluster.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .distinct().toList();
        if (each.size() > 1 && status.getCluster().getShardsList().stream()
                .anyMatch(s -> s.getLeader().isEmpty() || !s.hasAppliedVersion())) {
            List<Status> answers = new ArrayList<>(List.of(status));
            answers.addAll(fetchEach(each));
            status = merge(answers);
            on = ON_A_REPLICA;
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(StatusSummary.json(Status.newBuilder().setCluster(status.getCluster()).build()));
        } else {
            out.print(StatusSummary.shards(status, on));
        }
        out.flush();
        return Main.EXIT_OK;
    }

    /** The status of each server of {@code each}, asked in parallel; those that do not answer are left out. */
    private List<Status> fetchEach(List<String> each) {
        ExecutorService pool = Executors.newFixedThreadPool(each.size(), task -> {
            Thread thread = new Thread(task, "txkv-shards-status");
            thread.setDaemon(true);
            return thread;
        });
        try {
            List<Future<Status>> asked = new ArrayList<>();
            for (String server : each) {
                asked.add(pool.submit(() -> servers.fetch(sources, server)));
            }
            List<Status> answers = new ArrayList<>();
            for (Future<Status> answer : asked) {
                try {
                    answers.add(answer.get());
                } catch (ExecutionException notAnswered) {
                    // A server that does not answer adds nothing; the first answer already stands.
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            return answers;
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The first of {@code answers} (statuses of servers of one cluster) with, for each of its
     * shards, the leader, applied version, size and two-phase state (and the leader's address and
     * the undecided count that go with them) of the answer of a server that keeps a replica of
     * the shard (its row has an applied version): the server that leads the shard if it is among
     * them, else the first such. A shard that no answer keeps a replica of stays as the first
     * answer has it; so does the leader when the chosen answer knows none.
     */
    static Status merge(List<Status> answers) {
        Status first = answers.get(0);
        Status.Cluster.Builder cluster = first.getCluster().toBuilder();
        for (Status.Shard.Builder row : cluster.getShardsBuilderList()) {
            Status.Shard best = null;
            boolean bestLeads = false;
            for (Status answer : answers) {
                for (Status.Shard shard : answer.getCluster().getShardsList()) {
                    if (shard.getId() != row.getId() || !shard.hasAppliedVersion()) {
                        continue;
                    }
                    boolean leads = !shard.getLeader().isEmpty() && shard.getLeader().equals(answer.getAnsweredBy());
                    if (best == null || leads && !bestLeads) {
                        best = shard;
                        bestLeads = leads;
                    }
                }
            }
            if (best == null) {
                continue;
            }
            if (!best.getLeader().isEmpty()) {
                row.setLeader(best.getLeader()).setLeaderAddress(best.getLeaderAddress());
            }
            row.setAppliedVersion(best.getAppliedVersion()).setTwoPhase(best.getTwoPhase());
            if (best.hasKvSizeBytesEstimate()) {
                row.setKvSizeBytesEstimate(best.getKvSizeBytesEstimate());
            } else {
                row.clearKvSizeBytesEstimate();
            }
            if (best.hasUndecided()) {
                row.setUndecided(best.getUndecided());
            } else {
                row.clearUndecided();
            }
        }
        return first.toBuilder().setCluster(cluster).build();
    }
}
