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
 * {@code txkv status}: the cluster's status, as a summary or as JSON (message Status of
 * txkv.proto). Failures (no server answered in time) go through the launcher's error handler, so
 * they print as {@code txkv status: connection_failed (1026): ...} with exit code 1.
 */
@Command(name = "status",
        description = "Print the status of a txkv cluster: every member with its addresses, role, health, applied"
                + " version and lag; the leader and term; storage, workload, latency probe and queues of the member"
                + " asked; or with --json the whole status as JSON.",
        footer = {
            "",
            "Examples:",
            "  txkv status",
            "  txkv status --cluster 10.0.0.5:4500 --json"})
public final class StatusCommand implements Callable<Integer> {
    /** Status waits this long unless told otherwise: a healthy server answers at once. */
    static final long TIMEOUT_MS_DEFAULT = 5_000;

    @Spec
    private CommandSpec spec;

    @Mixin
    private StatusFetch servers;

    @Option(names = "--json", description = "Print the status as JSON (message Status of txkv.proto) instead of a summary.")
    private boolean json;

    @Override
    public Integer call() {
        Status status = servers.fetch();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(StatusSummary.json(status));
        } else {
            out.println("Using cluster " + servers.cluster);
            out.print(StatusSummary.render(status));
        }
        out.flush();
        return Main.EXIT_OK;
    }
}
