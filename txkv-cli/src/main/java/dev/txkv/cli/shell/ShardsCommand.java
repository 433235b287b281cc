package dev.txkv.cli.shell;

import dev.txkv.cli.Main;
import dev.txkv.proto.Status;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code txkv shards}: a sharded cluster's shards, from the status of the first server that
 * answers (the shards of message Status.Cluster in txkv.proto).
 */
@Command(name = "shards",
        description = "List the shards of a sharded txkv cluster: id, key range, replicas, leader, and the applied"
                + " version, size and two-phase state of the asked member's replica, then the members excluded"
                + " with txkv exclude, if any; or with --json the status's cluster section as JSON.",
        footer = {
            "",
            "Examples:",
            "  txkv shards",
            "  txkv shards --cluster 127.0.0.1:4500,127.0.0.1:4510 --json"})
public final class ShardsCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private StatusFetch servers;

    @Option(names = "--json", description = "Print the cluster section of the status (shards, sequencer, excluded"
            + " members) as JSON.")
    private boolean json;

    @Override
    public Integer call() {
        Status status = servers.fetch();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(StatusSummary.json(Status.newBuilder().setCluster(status.getCluster()).build()));
        } else {
            out.print(StatusSummary.shards(status));
        }
        out.flush();
        return Main.EXIT_OK;
    }
}
