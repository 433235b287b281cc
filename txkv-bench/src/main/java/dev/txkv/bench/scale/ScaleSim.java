package dev.txkv.bench.scale;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;

/**
 * A discrete-event model of sharded txkv: server processes with a CPU budget each, hosting
 * shard leaders and followers; a sequencer granting versions; closed-loop clients writing one
 * shard or, for a share of them, several by two-phase commit (docs/sharding.md). Every piece of
 * work queues for a core of the process it runs on, so throughput stops where the CPU does.
 *
 * <p>What one transaction does in the model:
 * <ol>
 *   <li>The client takes a read version from the sequencer (one request per client process
 *       in flight, answering every transaction that waits there), spends its CPU, sends the
 *       commit to the leader of its home shard.</li>
 *   <li>Single-shard: the commit waits in the leader's batch; a batch closes when fewer than
 *       {@code pipeline} batches are in flight, asks the sequencer for a grant, takes its slot
 *       in the shard's chain order (every earlier grant to the shard first), is resolved on the
 *       leader, and goes through a Raft round: the leader's fsync beside, on each follower, the
 *       append (follower CPU) and its fsync; durable on a majority, each client is answered.</li>
 *   <li>Cross-shard: the coordinator (home leader) asks one grant for all participants and sends
 *       each its prepare; each participant takes the slot in chain order, resolves and makes
 *       PREPARED durable (a Raft round), votes; all yes, the coordinator makes DECIDE durable
 *       and answers the client; then each other participant makes DECIDED durable, and the
 *       coordinator FORGET.</li>
 * </ol>
 * Not modelled: conflicts and retries (the workload is conflict-free), reads other than the
 * read version, failures, elections, garbage collection, the deferred apply's wait for reads.
 *
 * <p>Deterministic: one random generator, seeded, drawn in event order, and events at the same
 * instant run in the order they were scheduled.
 */
public final class ScaleSim {

    /** A deliberately wrong model, for the test that shows a planted mistake is caught. */
    public enum Variant {
        FAITHFUL,
        /** Forgets the sequencer's CPU: grants and read versions cost it nothing. */
        FREE_SEQUENCER
    }

    private static final int LEADER = 0;
    private static final int FOLLOWER = 1;
    private static final int SEQUENCER = 2;
    private static final int CLIENT = 3;
    private static final int HEARTBEAT = 4;
    private static final int READ_VERSIONS = 5;
    private static final int ROLES = 6;

    private final ScaleParams p;
    private final Variant variant;
    private final SplittableRandom random;
    private final PriorityQueue<Event> events = new PriorityQueue<>();
    private long now;
    private long sequence;

    private long warmupEnd;
    private long end;
    /** Warm-up is doubled while answers in its last quarter took more than a quarter of it, up to this. */
    private static final long MAX_WARMUP_NS = 4_000_000_000L;
    private boolean measuring;
    private double warmupLatencySum;
    private long warmupLatencyCount;
    private final List<Cpu> cpus = new ArrayList<>();

    private final Cpu[] servers;
    private final Cpu sequencerCpu;
    private final Cpu[] clientCpus;
    private final Shard[] shards;
    private final RvBatch[] rvBatches;
    private final int replicas;
    private long nextVersion;

    // Measured in the window [warmupEnd, end)
    private final Histogram latency = new Histogram(3_600_000_000_000L, 3);
    private long commits;
    private long crossCommits;
    private long grants;
    private long readVersionBatches;
    private long batchSlots;
    private long batchedCommits;
    private long logRecords;
    private final double[] roleBusyNs = new double[ROLES];
    private double crossBusyNs;

    public ScaleSim(ScaleParams params, long seed) {
        this(params, seed, Variant.FAITHFUL);
    }

    public ScaleSim(ScaleParams params, long seed, Variant variant) {
        this.p = params.clone();
        this.variant = variant;
        this.random = new SplittableRandom(seed);
        this.warmupEnd = ms(p.warmupMs);
        this.end = warmupEnd + ms(p.measureMs);
        this.replicas = p.replicas();
        if (p.processes < 1 || p.shardCount() < 1 || p.pipeline < 1 || p.participants < 1) {
            throw new IllegalArgumentException("processes, shards, pipeline and participants must be at least 1");
        }
        Cpu shared = p.sharedCores > 0 ? new Cpu(p.sharedCores) : null;
        servers = new Cpu[p.processes];
        for (int i = 0; i < servers.length; i++) {
            servers[i] = shared != null ? shared : new Cpu(p.coresPerProcess);
        }
        if (shared != null) {
            sequencerCpu = shared;
        } else if (p.sequencerDedicated) {
            sequencerCpu = new Cpu(p.sequencerCores);
        } else {
            sequencerCpu = servers[0];
        }
        clientCpus = new Cpu[p.clientProcessCount()];
        rvBatches = new RvBatch[clientCpus.length];
        for (int i = 0; i < clientCpus.length; i++) {
            clientCpus[i] = shared != null ? shared : new Cpu(p.clientCores);
            rvBatches[i] = new RvBatch(i);
        }
        shards = new Shard[p.shardCount()];
        for (int s = 0; s < shards.length; s++) {
            int leader = s % p.processes;
            int[] followers = new int[replicas - 1];
            for (int f = 0; f < followers.length; f++) {
                followers[f] = (leader + 1 + f) % p.processes;
            }
            shards[s] = new Shard(s, leader, followers);
        }
    }

    /** Runs the model for its warm-up and measured time and returns the figures of the measured part. */
    public ScaleResult run() {
        for (Shard s : shards) {
            if (p.heartbeatUs > 0 && p.heartbeatMs > 0 && replicas > 1) {
                after((long) (random.nextDouble() * ms(p.heartbeatMs)), () -> heartbeat(s));
            }
        }
        int clients = p.clientCount();
        for (int c = 0; c < clients; c++) {
            int cp = c % clientCpus.length;
            after((long) (random.nextDouble() * us(50)), () -> startTransaction(cp));
        }
        while (!events.isEmpty()) {
            Event e = events.peek();
            if (!measuring && e.time >= warmupEnd) {
                measuring = steady();
                continue;
            }
            events.poll();
            if (e.time >= end) {
                break;
            }
            now = e.time;
            e.action.run();
        }
        for (Cpu cpu : cpus) {
            cpu.accountRunning();
        }
        return result();
    }

    /**
     * Called when the warm-up ends: true if the clients have gone round often enough (the
     * answers of the warm-up's last quarter took under a quarter of it), and then the measured
     * time is made at least four such answers long; else the warm-up and the run are lengthened
     * by the warm-up's length and this returns false.
     */
    private boolean steady() {
        long warmup = warmupEnd;
        double mean = warmupLatencyCount == 0 ? Double.MAX_VALUE : warmupLatencySum / warmupLatencyCount;
        if (mean <= warmup / 4.0 || warmup >= MAX_WARMUP_NS) {
            long measure = end - warmupEnd;
            if (warmupLatencyCount > 0 && measure < 4 * mean) {
                end = warmupEnd + Math.min(MAX_WARMUP_NS, (long) (4 * mean));
            }
            return true;
        }
        warmupLatencySum = 0;
        warmupLatencyCount = 0;
        end += warmup;
        warmupEnd += warmup;
        return false;
    }

    // ---- transactions

    private void startTransaction(int clientProcess) {
        long start = now;
        if (p.sequencer && p.readVersions) {
            rvBatches[clientProcess].request(() -> send(clientProcess, start));
        } else {
            send(clientProcess, start);
        }
    }

    private void send(int clientProcess, long start) {
        Txn t = new Txn(clientProcess, start);
        int home = random.nextInt(shards.length);
        if (shards.length > 1 && p.participants > 1 && random.nextDouble() < p.crossShard) {
            int count = Math.min(p.participants, shards.length);
            int[] parts = new int[count];
            parts[0] = home;
            for (int i = 1; i < count; i++) {
                int q;
                do {
                    q = random.nextInt(shards.length);
                } while (contains(parts, i, q));
                parts[i] = q;
            }
            t.participants = parts;
        } else {
            t.participants = new int[] {home};
        }
        t.cross = t.participants.length > 1;
        clientCpus[clientProcess].submit(us(p.clientUs), CLIENT, false, () -> after(net(), () -> {
            if (t.cross) {
                coordinate(t);
            } else {
                Shard s = shards[home];
                s.pending.add(t);
                closeBatches(s);
            }
        }));
    }

    private void answer(Txn t) {
        after(net(), () -> {
            if (!measuring && now >= warmupEnd - warmupEnd / 4) {
                warmupLatencySum += now - t.start;
                warmupLatencyCount++;
            }
            if (now >= warmupEnd) {
                commits++;
                if (t.cross) {
                    crossCommits++;
                }
                latency.recordValue(Math.max(1, now - t.start));
            }
            startTransaction(t.clientProcess);
        });
    }

    // ---- single-shard batches

    private void closeBatches(Shard s) {
        while (!s.pending.isEmpty() && s.inFlight < p.pipeline) {
            List<Txn> batch = new ArrayList<>();
            while (!s.pending.isEmpty() && (p.maxBatch <= 0 || batch.size() < p.maxBatch)) {
                batch.add(s.pending.poll());
            }
            s.inFlight++;
            long applyNs = us((1 - p.resolveShare) * (p.leaderBatchUs + batch.size() * p.leaderUs));
            Slot slot = new Slot(us(p.resolveShare * (p.leaderBatchUs + batch.size() * p.leaderUs)), false, () -> {
                s.inFlight--;
                closeBatches(s);
                round(s, batch.size(), false, () -> servers[s.leader].submit(applyNs, LEADER, false, () -> {
                    if (now >= warmupEnd) {
                        batchSlots++;
                        batchedCommits += batch.size();
                    }
                    for (Txn t : batch) {
                        answer(t);
                    }
                }));
            });
            if (p.sequencer) {
                servers[s.leader].submit(us(p.rpcUs), LEADER, false,
                        () -> grant(new int[] {s.id}, false, v -> arrive(s, v, slot)));
            } else {
                long v = ++nextVersion;
                s.chain.add(v);
                arrive(s, v, slot);
            }
        }
    }

    // ---- slots in chain order

    private void arrive(Shard s, long version, Slot slot) {
        s.arrived.put(version, slot);
        takeSlots(s);
    }

    private void takeSlots(Shard s) {
        while (!s.resolving && !s.chain.isEmpty() && s.arrived.containsKey(s.chain.peek())) {
            Slot slot = s.arrived.remove(s.chain.poll());
            s.resolving = true;
            servers[s.leader].submit(slot.resolveNs, LEADER, slot.cross, () -> {
                s.resolving = false;
                slot.afterResolve.run();
                takeSlots(s);
            });
        }
    }

    // ---- the sequencer

    private interface Granted {
        void granted(long version);
    }

    private void grant(int[] participants, boolean cross, Granted then) {
        double cost = p.grantUs + (participants.length - 1) * p.grantPerParticipantUs;
        after(net(), () -> sequencerCpu.submit(sequencerNs(cost), SEQUENCER, cross, () -> {
            long v = ++nextVersion;
            for (int q : participants) {
                shards[q].chain.add(v);
            }
            if (now >= warmupEnd) {
                grants++;
            }
            after(net(), () -> then.granted(v));
        }));
    }

    private long sequencerNs(double costUs) {
        return variant == Variant.FREE_SEQUENCER ? 0 : us(costUs);
    }

    private final class RvBatch {
        final int clientProcess;
        List<Runnable> waiting = new ArrayList<>();
        boolean inFlight;

        RvBatch(int clientProcess) {
            this.clientProcess = clientProcess;
        }

        void request(Runnable then) {
            waiting.add(then);
            if (!inFlight) {
                ask();
            }
        }

        void ask() {
            inFlight = true;
            List<Runnable> batch = waiting;
            waiting = new ArrayList<>();
            after(net(), () -> sequencerCpu.submit(sequencerNs(p.readVersionUs), READ_VERSIONS, false, () -> {
                if (now >= warmupEnd) {
                    readVersionBatches++;
                }
                after(net(), () -> {
                    inFlight = false;
                    for (Runnable r : batch) {
                        r.run();
                    }
                    if (!waiting.isEmpty()) {
                        ask();
                    }
                });
            }));
        }
    }

    // ---- two-phase commit

    private void coordinate(Txn t) {
        Shard home = shards[t.participants[0]];
        servers[home.leader].submit(us(p.rpcUs), LEADER, true, () -> grant(t.participants, true, v -> {
            for (int q : t.participants) {
                Shard qs = shards[q];
                Runnable prepare = () -> arrive(qs, v, new Slot(us(p.resolveShare * (p.leaderBatchUs + p.leaderUs)), true,
                        () -> round(qs, 1, true, () -> servers[qs.leader].submit(
                                us((1 - p.resolveShare) * (p.leaderBatchUs + p.leaderUs)), LEADER, true,
                                () -> message(qs, home, () -> vote(t, home))))));
                message(home, qs, prepare);
            }
        }));
    }

    private void vote(Txn t, Shard home) {
        if (++t.votes < t.participants.length) {
            return;
        }
        record(home, () -> {
            answer(t);
            // The coordinator's DECIDE is its own shard's outcome: DECIDED goes to the others only.
            int others = t.participants.length - 1;
            if (others == 0) {
                record(home, () -> { });
            }
            for (int q : t.participants) {
                Shard qs = shards[q];
                if (qs == home) {
                    continue;
                }
                message(home, qs, () -> record(qs, () -> message(qs, home, () -> {
                    if (++t.decided == others) {
                        record(home, () -> { });
                    }
                })));
            }
        });
    }

    /** A DECIDE, DECIDED or FORGET record on a shard: leader CPU, then a Raft round. */
    private void record(Shard s, Runnable durable) {
        servers[s.leader].submit(us(p.recordShare * (p.leaderBatchUs + p.leaderUs)), LEADER, true,
                () -> round(s, p.recordShare, true, durable));
    }

    /** A call between two shards' leaders (nothing when both are the same shard). */
    private void message(Shard from, Shard to, Runnable then) {
        if (from == to) {
            then.run();
            return;
        }
        servers[from.leader].submit(us(p.rpcUs), LEADER, true,
                () -> after(net(), () -> servers[to.leader].submit(us(p.rpcUs), LEADER, true, then)));
    }

    // ---- Raft

    /** One Raft round of {@code units} commits' worth of log: durable once a majority has it. */
    private void round(Shard s, double units, boolean cross, Runnable committed) {
        if (now >= warmupEnd) {
            logRecords++;
        }
        int majority = replicas / 2 + 1;
        int[] acks = {0};
        Runnable ack = () -> {
            if (++acks[0] == majority) {
                after(ms(p.raftOverheadMs), committed);
            }
        };
        after(fsync(), ack);
        long followerNs = us(p.followerBatchUs + units * p.followerUs);
        for (int f : s.followers) {
            after(net(), () -> servers[f].submit(followerNs, FOLLOWER, cross,
                    () -> after(fsync(), () -> after(net(), ack))));
        }
    }

    private void heartbeat(Shard s) {
        servers[s.leader].submit(us(p.heartbeatUs * s.followers.length), HEARTBEAT, false, () -> { });
        for (int f : s.followers) {
            after(net(), () -> servers[f].submit(us(p.heartbeatUs), HEARTBEAT, false, () -> { }));
        }
        after(ms(p.heartbeatMs), () -> heartbeat(s));
    }

    // ---- time, randomness, CPU

    private static long us(double micros) {
        return Math.round(micros * 1_000);
    }

    private static long ms(double millis) {
        return Math.round(millis * 1_000_000);
    }

    /** One-way network delay: 80 % fixed, 20 % exponential, mean {@code netMs}. */
    private long net() {
        return jitter(ms(p.netMs), 0.8);
    }

    /** An fsync: 70 % fixed, 30 % exponential, mean {@code fsyncMs}. */
    private long fsync() {
        return jitter(ms(p.fsyncMs), 0.7);
    }

    private long jitter(long mean, double fixedShare) {
        if (mean <= 0) {
            return 0;
        }
        double tail = -Math.log(1 - random.nextDouble()) * mean * (1 - fixedShare);
        return Math.round(mean * fixedShare + tail);
    }

    private void after(long delay, Runnable action) {
        events.add(new Event(now + delay, sequence++, action));
    }

    private static boolean contains(int[] values, int length, int value) {
        for (int i = 0; i < length; i++) {
            if (values[i] == value) {
                return true;
            }
        }
        return false;
    }

    private record Event(long time, long sequence, Runnable action) implements Comparable<Event> {
        @Override
        public int compareTo(Event o) {
            int c = Long.compare(time, o.time);
            return c != 0 ? c : Long.compare(sequence, o.sequence);
        }
    }

    /** A process's cores: jobs wait in FIFO order for a free one. */
    private final class Cpu {
        final int cores;
        int busy;
        final ArrayDeque<Job> waiting = new ArrayDeque<>();
        final List<Job> running = new ArrayList<>();
        double busyNs;

        Cpu(int cores) {
            if (cores < 1) {
                throw new IllegalArgumentException("cores must be at least 1");
            }
            this.cores = cores;
            cpus.add(this);
        }

        void submit(long ns, int role, boolean cross, Runnable done) {
            Job job = new Job(ns, role, cross, done);
            if (busy < cores) {
                start(job);
            } else {
                waiting.add(job);
            }
        }

        private void start(Job job) {
            busy++;
            running.add(job);
            long started = now;
            job.started = started;
            after(job.ns, () -> {
                busy--;
                running.remove(job);
                account(job, started, now);
                Job next = waiting.poll();
                if (next != null) {
                    start(next);
                }
                job.done.run();
            });
        }

        /** At the end of the run: the part of each running job inside the window. */
        void accountRunning() {
            for (Job job : running) {
                account(job, job.started, end);
            }
        }

        private void account(Job job, long from, long to) {
            from = Math.max(from, warmupEnd);
            to = Math.min(to, end);
            if (to > from) {
                busyNs += to - from;
                roleBusyNs[job.role] += to - from;
                if (job.cross && (job.role == LEADER || job.role == FOLLOWER)) {
                    crossBusyNs += to - from;
                }
            }
        }
    }

    private static final class Job {
        final long ns;
        final int role;
        final boolean cross;
        final Runnable done;
        long started;

        Job(long ns, int role, boolean cross, Runnable done) {
            this.ns = ns;
            this.role = role;
            this.cross = cross;
            this.done = done;
        }
    }

    private record Slot(long resolveNs, boolean cross, Runnable afterResolve) { }

    private static final class Shard {
        final int id;
        final int leader;
        final int[] followers;
        final ArrayDeque<Txn> pending = new ArrayDeque<>();
        int inFlight;
        final ArrayDeque<Long> chain = new ArrayDeque<>();
        final Map<Long, Slot> arrived = new HashMap<>();
        boolean resolving;

        Shard(int id, int leader, int[] followers) {
            this.id = id;
            this.leader = leader;
            this.followers = followers;
        }
    }

    private static final class Txn {
        final int clientProcess;
        final long start;
        int[] participants;
        boolean cross;
        int votes;
        int decided;

        Txn(int clientProcess, long start) {
            this.clientProcess = clientProcess;
            this.start = start;
        }
    }

    // ---- figures

    private ScaleResult result() {
        double window = end - warmupEnd;
        double seconds = window / 1e9;
        boolean shared = p.sharedCores > 0;
        double[] util = new double[servers.length];
        double serverBusy = 0;
        if (shared) {
            double u = servers[0].busyNs / (window * servers[0].cores);
            java.util.Arrays.fill(util, u);
            serverBusy = roleBusyNs[LEADER] + roleBusyNs[FOLLOWER] + roleBusyNs[HEARTBEAT];
        } else {
            for (int i = 0; i < servers.length; i++) {
                util[i] = servers[i].busyNs / (window * servers[i].cores);
            }
            serverBusy = roleBusyNs[LEADER] + roleBusyNs[FOLLOWER] + roleBusyNs[HEARTBEAT]
                    + (sequencerCpu == servers[0] ? roleBusyNs[SEQUENCER] + roleBusyNs[READ_VERSIONS] : 0);
        }
        double replicationBusy = roleBusyNs[LEADER] + roleBusyNs[FOLLOWER];
        double min = Double.MAX_VALUE;
        double max = 0;
        double sum = 0;
        for (double u : util) {
            min = Math.min(min, u);
            max = Math.max(max, u);
            sum += u;
        }
        return new ScaleResult(
                p.processes, shards.length, replicas, p.crossShard,
                commits / seconds,
                commits == 0 ? 0 : latency.getValueAtPercentile(50) / 1e6,
                commits == 0 ? 0 : latency.getValueAtPercentile(99) / 1e6,
                (roleBusyNs[SEQUENCER] + roleBusyNs[READ_VERSIONS]) / (window * sequencerCpu.cores),
                roleBusyNs[SEQUENCER] / (window * sequencerCpu.cores),
                grants / seconds,
                readVersionBatches / seconds,
                commits == 0 ? 0 : (double) crossCommits / commits,
                replicationBusy == 0 ? 0 : crossBusyNs / replicationBusy,
                commits == 0 ? 0 : serverBusy / 1e3 / commits,
                commits == 0 ? 0 : roleBusyNs[CLIENT] / 1e3 / commits,
                min, sum / util.length, max,
                batchSlots == 0 ? 0 : (double) batchedCommits / batchSlots,
                commits == 0 ? 0 : (double) logRecords / commits);
    }
}
