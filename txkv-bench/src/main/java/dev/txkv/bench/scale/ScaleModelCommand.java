package dev.txkv.bench.scale;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * {@code txkv bench scale-model}: runs {@link ScaleSim} for a sweep of process counts and
 * cross-shard shares and prints one row per run. Every option can also come from a properties
 * file ({@code --params FILE}, keys are the option names without their dashes); options on the
 * command line win.
 */
@Command(name = "bench-scale-model", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"A discrete-event model of sharded txkv: throughput, latency, sequencer load and two-phase share",
            "for a sweep of server processes and cross-shard shares (docs/benchmarks.md, \"A model of sharded txkv\")."})
public final class ScaleModelCommand implements Callable<Integer> {
    private static final ScaleParams D = new ScaleParams();

    @Spec
    CommandSpec spec;

    @Option(names = "--params", description = "A properties file of options (keys without dashes); the command line wins.")
    Path params;

    @Option(names = "--seed", description = "Seed of the run (default: a new one, printed).")
    Long seed;

    @Option(names = "--processes", split = ",", description = "Server processes, a list to sweep (default 1,2,4,8,16,50,100,200).")
    List<Integer> processes = new ArrayList<>(List.of(1, 2, 4, 8, 16, 50, 100, 200));

    @Option(names = "--cross-shard", split = ",", description = "Shares of cross-shard transactions, a list to sweep (default 0,0.1,0.3).")
    List<Double> crossShard = new ArrayList<>(List.of(0.0, 0.1, 0.3));

    @Option(names = "--participants", description = "Shards a cross-shard transaction touches (default ${DEFAULT-VALUE}).")
    int participants = D.participants;

    @Option(names = "--shards", description = "Shards; 0: processes x leaders-per-process (default ${DEFAULT-VALUE}).")
    int shards = D.shards;

    @Option(names = "--leaders-per-process", description = "Shard leaders per process (default ${DEFAULT-VALUE}).")
    int leadersPerProcess = D.leadersPerProcess;

    @Option(names = "--replication", description = "Replicas per shard, at most the processes (default ${DEFAULT-VALUE}).")
    int replication = D.replication;

    @Option(names = "--cores", description = "Cores per server process (default ${DEFAULT-VALUE}).")
    int cores = D.coresPerProcess;

    @Option(names = "--shared-cores", description = "If above 0: every process, clients and sequencer too, shares this many cores (one machine).")
    int sharedCores = D.sharedCores;

    @Option(names = "--sequencer", arity = "1", description = "Versions from a sequencer (true), or from each leader as in today's one-shard cluster (false).")
    boolean sequencer = D.sequencer;

    @Option(names = "--sequencer-dedicated", arity = "1", description = "The sequencer on a process of its own (true) or on server process 0 (false).")
    boolean sequencerDedicated = D.sequencerDedicated;

    @Option(names = "--sequencer-cores", description = "Cores of the sequencer's process when dedicated (default ${DEFAULT-VALUE}).")
    int sequencerCores = D.sequencerCores;

    @Option(names = "--grant-us", description = "Sequencer CPU per grant, the call included (default ${DEFAULT-VALUE}).")
    double grantUs = D.grantUs;

    @Option(names = "--grant-per-participant-us", description = "Sequencer CPU per extra participant of a grant (default ${DEFAULT-VALUE}).")
    double grantPerParticipantUs = D.grantPerParticipantUs;

    @Option(names = "--read-version-us", description = "Sequencer CPU per batch of read versions (default ${DEFAULT-VALUE}).")
    double readVersionUs = D.readVersionUs;

    @Option(names = "--read-versions", arity = "1", description = "Each transaction takes a read version from the sequencer (default ${DEFAULT-VALUE}).")
    boolean readVersions = D.readVersions;

    @Option(names = "--leader-us", description = "Leader CPU per commit (default ${DEFAULT-VALUE}).")
    double leaderUs = D.leaderUs;

    @Option(names = "--follower-us", description = "Follower CPU per commit (default ${DEFAULT-VALUE}).")
    double followerUs = D.followerUs;

    @Option(names = "--client-us", description = "Client CPU per commit (default ${DEFAULT-VALUE}).")
    double clientUs = D.clientUs;

    @Option(names = "--leader-batch-us", description = "Extra leader CPU per batch (default ${DEFAULT-VALUE}).")
    double leaderBatchUs = D.leaderBatchUs;

    @Option(names = "--follower-batch-us", description = "Extra follower CPU per batch (default ${DEFAULT-VALUE}).")
    double followerBatchUs = D.followerBatchUs;

    @Option(names = "--rpc-us", description = "CPU at each end of a call between servers outside Raft (default ${DEFAULT-VALUE}).")
    double rpcUs = D.rpcUs;

    @Option(names = "--record-share", description = "Cost of a DECIDE/DECIDED/FORGET record as a share of a commit's (default ${DEFAULT-VALUE}).")
    double recordShare = D.recordShare;

    @Option(names = "--heartbeat-us", description = "CPU per heartbeat message (default ${DEFAULT-VALUE}).")
    double heartbeatUs = D.heartbeatUs;

    @Option(names = "--heartbeat-ms", description = "Heartbeat interval of a Raft group (default ${DEFAULT-VALUE}).")
    double heartbeatMs = D.heartbeatMs;

    @Option(names = "--net-ms", description = "One-way network latency, mean (default ${DEFAULT-VALUE}).")
    double netMs = D.netMs;

    @Option(names = "--fsync-ms", description = "Latency of an fsync, mean (default ${DEFAULT-VALUE}).")
    double fsyncMs = D.fsyncMs;

    @Option(names = "--raft-overhead-ms", description = "Fixed extra delay per Raft round (default ${DEFAULT-VALUE}).")
    double raftOverheadMs = D.raftOverheadMs;

    @Option(names = "--pipeline", description = "A leader's own batches between closing and resolved (default ${DEFAULT-VALUE}, as in the engine).")
    int pipeline = D.pipeline;

    @Option(names = "--resolve-share", description = "Share of the leader's cost spent resolving, one batch at a time (default ${DEFAULT-VALUE}).")
    double resolveShare = D.resolveShare;

    @Option(names = "--max-batch", description = "Most commits per batch, 0: no limit (default ${DEFAULT-VALUE}).")
    int maxBatch = D.maxBatch;

    @Option(names = "--clients", description = "Closed-loop clients in all; 0: clients-per-shard x shards (default ${DEFAULT-VALUE}).")
    int clients = D.clients;

    @Option(names = "--clients-per-shard", description = "Clients per shard when --clients is 0 (default ${DEFAULT-VALUE}).")
    int clientsPerShard = D.clientsPerShard;

    @Option(names = "--client-processes", description = "Client processes; 0: one per server process (default ${DEFAULT-VALUE}).")
    int clientProcesses = D.clientProcesses;

    @Option(names = "--client-cores", description = "Cores per client process (default ${DEFAULT-VALUE}).")
    int clientCores = D.clientCores;

    @Option(names = "--warmup-ms", description = "Simulated warm-up (default ${DEFAULT-VALUE}).")
    double warmupMs = D.warmupMs;

    @Option(names = "--measure-ms", description = "Simulated measured time (default ${DEFAULT-VALUE}).")
    double measureMs = D.measureMs;

    @Option(names = "--measured-commits", description = "A measured throughput to compare the first row with (prints the error).")
    Double measuredCommits;

    @Option(names = "--measured-p50-ms", description = "A measured p50 latency to compare the first row with (prints the error).")
    Double measuredP50Ms;

    /** Runs the model without the launcher: {@code java -cp ... dev.txkv.bench.scale.ScaleModelCommand [options]}. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new ScaleModelCommand()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        if (params != null) {
            return new CommandLine(new ScaleModelCommand()).execute(withParamsFile().toArray(new String[0]));
        }
        long runSeed = seed != null ? seed : new java.util.SplittableRandom().nextLong();
        System.out.println("scale-model seed=" + runSeed + " (pass --seed " + runSeed + " to repeat)");
        System.out.println("settings: " + settings());
        System.out.println(ScaleResult.header());
        ScaleResult first = null;
        for (int n : processes) {
            ScaleParams base = params(n);
            boolean oneShard = base.shardCount() == 1;
            for (double f : crossShard) {
                ScaleParams run = base.clone();
                run.crossShard = oneShard ? 0 : f;
                long started = System.nanoTime();
                ScaleResult r = new ScaleSim(run, runSeed).run();
                System.out.printf(Locale.ROOT, "%s   (%.1f s)%n", r.row(), (System.nanoTime() - started) / 1e9);
                System.out.flush();
                if (first == null) {
                    first = r;
                }
                if (oneShard) {
                    break;
                }
            }
        }
        if (first != null && measuredCommits != null) {
            System.out.printf(Locale.ROOT, "throughput: model %,.0f commits/s, measured %,.0f: error %+.1f%%%n",
                    first.commitsPerSecond(), measuredCommits, 100 * (first.commitsPerSecond() / measuredCommits - 1));
        }
        if (first != null && measuredP50Ms != null) {
            System.out.printf(Locale.ROOT, "p50 latency: model %.3f ms, measured %.3f ms: error %+.1f%%%n",
                    first.p50Ms(), measuredP50Ms, 100 * (first.p50Ms() / measuredP50Ms - 1));
        }
        return 0;
    }

    ScaleParams params(int n) {
        ScaleParams p = new ScaleParams();
        p.processes = n;
        p.shards = shards;
        p.leadersPerProcess = leadersPerProcess;
        p.replication = replication;
        p.coresPerProcess = cores;
        p.sharedCores = sharedCores;
        p.sequencer = sequencer;
        p.sequencerDedicated = sequencerDedicated;
        p.sequencerCores = sequencerCores;
        p.grantUs = grantUs;
        p.grantPerParticipantUs = grantPerParticipantUs;
        p.readVersionUs = readVersionUs;
        p.readVersions = readVersions;
        p.leaderUs = leaderUs;
        p.followerUs = followerUs;
        p.clientUs = clientUs;
        p.leaderBatchUs = leaderBatchUs;
        p.followerBatchUs = followerBatchUs;
        p.rpcUs = rpcUs;
        p.recordShare = recordShare;
        p.heartbeatUs = heartbeatUs;
        p.heartbeatMs = heartbeatMs;
        p.netMs = netMs;
        p.fsyncMs = fsyncMs;
        p.raftOverheadMs = raftOverheadMs;
        p.pipeline = pipeline;
        p.resolveShare = resolveShare;
        p.maxBatch = maxBatch;
        p.participants = participants;
        p.clients = clients;
        p.clientsPerShard = clientsPerShard;
        p.clientProcesses = clientProcesses;
        p.clientCores = clientCores;
        p.warmupMs = warmupMs;
        p.measureMs = measureMs;
        return p;
    }

    /** The arguments again, with every option of the file that the command line does not set, and without --params. */
    private List<String> withParamsFile() throws IOException {
        Properties file = new Properties();
        try (Reader in = Files.newBufferedReader(params)) {
            file.load(in);
        }
        ParseResult parsed = spec.commandLine().getParseResult();
        List<String> args = new ArrayList<>();
        for (String key : file.stringPropertyNames()) {
            String name = "--" + key.trim();
            if (spec.findOption(name) == null || name.equals("--params")) {
                throw new CommandLine.ParameterException(spec.commandLine(), "unknown key '" + key + "' in " + params);
            }
            if (!parsed.hasMatchedOption(name)) {
                args.add(name);
                args.add(file.getProperty(key).trim());
            }
        }
        List<String> original = parsed.originalArgs();
        for (int i = 0; i < original.size(); i++) {
            String a = original.get(i);
            if (a.equals("--params")) {
                i++;
            } else if (!a.startsWith("--params=")) {
                args.add(a);
            }
        }
        return args;
    }

    private String settings() {
        StringBuilder b = new StringBuilder();
        for (OptionSpec o : spec.options()) {
            String name = o.longestName();
            if (o.usageHelp() || o.versionHelp() || name.equals("--params") || name.startsWith("--measured")) {
                continue;
            }
            Object v = o.getValue();
            if (v == null) {
                continue;
            }
            String text = v instanceof List<?> list
                    ? String.join(",", list.stream().map(String::valueOf).toList())
                    : String.valueOf(v);
            b.append(name).append(' ').append(text).append(' ');
        }
        return b.toString().trim();
    }
}
