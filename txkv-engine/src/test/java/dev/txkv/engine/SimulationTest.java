package dev.txkv.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.Database;
import dev.txkv.MutationType;
import dev.txkv.Transaction;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * A seeded simulation of the client's retry logic, the resolver and storage over an
 * in-memory log: many clients run bank transfers whose requests complete in a random order,
 * with injected faults (lost replies, full queues, restarts). Checked at the end: money is
 * conserved, each client's transfers applied exactly once (automatic idempotency ids make
 * retries after commit_unknown_result safe), and the log replays to the same state. A run
 * with a resolver that skips its checks must fail the same checks.
 */
class SimulationTest {
    private static final int ACCOUNTS = 8;
    private static final long INITIAL = 100;

    static final class Outcome {
        long total;
        boolean exactlyOnce;
        boolean replayMatches;
        int faults;
        int restarts;
        int completed;
    }

    @Test
    void bankTransfersSurviveFaultsUnderManySeeds() {
        long seed = TestSeeds.seed();
        Random seeds = new Random(seed);
        int runs = TestSeeds.soak() ? 500 : 60;
        int faults = 0;
        for (int i = 0; i < runs; i++) {
            long runSeed = seeds.nextLong();
            Outcome o = simulate(runSeed, 0.05, false);
            String replay = "run seed " + runSeed + " (suite seed " + seed + ")";
            assertThat(o.total).as("money conserved, " + replay).isEqualTo(ACCOUNTS * INITIAL);
            assertThat(o.exactlyOnce).as("each transfer applied exactly once, " + replay).isTrue();
            assertThat(o.replayMatches).as("log replays to the same state, " + replay).isTrue();
            faults += o.faults;
        }
        assertThat(faults).as("the simulation injected faults").isGreaterThan(runs);
    }

    @Test
    void sameSeedSameRun() {
        Outcome a = simulate(12345, 0.05, false);
        Outcome b = simulate(12345, 0.05, false);
        assertThat(a.faults).isEqualTo(b.faults);
        assertThat(a.restarts).isEqualTo(b.restarts);
        assertThat(a.completed).isEqualTo(b.completed);
    }

    @Test
    void aResolverThatSkipsChecksIsCaught() {
        long seed = TestSeeds.seed();
        Random seeds = new Random(seed);
        boolean caught = false;
        for (int i = 0; i < 20 && !caught; i++) {
            Outcome o = simulate(seeds.nextLong(), 0.0, true);
            caught = o.total != ACCOUNTS * INITIAL || !o.exactlyOnce;
        }
        assertThat(caught).as("lost updates detected with a broken resolver (seed %d)", seed).isTrue();
    }

    private static byte[] account(int i) {
        return ("acct/" + i).getBytes(UTF_8);
    }

    private static byte[] counter(int client) {
        return ("done/" + client).getBytes(UTF_8);
    }

    private static long decode(byte[] v) {
        return v == null ? 0 : ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static byte[] encode(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    static Outcome simulate(long seed, double faultRate, boolean brokenResolver) {
        SimulatedBackend backend = new SimulatedBackend(seed, faultRate, brokenResolver);
        Random random = new Random(seed ^ 0x5DEECE66DL);
        int clients = 6;
        int transfersPerClient = 15;
        Outcome o = new Outcome();
        try (Database db = Txkv.open(backend, new TxkvConfig())) {
            CompletableFuture<Void> setup = db.runAsync(tr -> {
                configure(tr);
                for (int i = 0; i < ACCOUNTS; i++) {
                    tr.set(account(i), encode(INITIAL));
                }
                return CompletableFuture.completedFuture(null);
            });
            drive(backend, setup);
            int[] done = new int[clients];
            CompletableFuture<?>[] running = new CompletableFuture<?>[clients];
            for (int c = 0; c < clients; c++) {
                running[c] = runClient(db, c, transfersPerClient, new Random(random.nextLong()), done);
            }
            drive(backend, CompletableFuture.allOf(running));
            Map<byte[], byte[]> state = backend.latestState();
            long total = 0;
            for (int i = 0; i < ACCOUNTS; i++) {
                total += decode(state.get(account(i)));
            }
            o.total = total;
            o.exactlyOnce = true;
            for (int c = 0; c < clients; c++) {
                o.exactlyOnce &= decode(state.get(counter(c))) == done[c];
                o.completed += done[c];
            }
            o.replayMatches = backend.replayMatches();
            o.faults = backend.faultsInjected;
            o.restarts = backend.restarts;
        }
        return o;
    }

    private static void configure(Transaction tr) {
        tr.options().setMaxRetryDelay(0).setAutomaticIdempotency();
    }

    private static CompletableFuture<Void> runClient(Database db, int client, int remaining, Random random, int[] done) {
        if (remaining == 0) {
            return CompletableFuture.completedFuture(null);
        }
        int from = random.nextInt(ACCOUNTS);
        int to = random.nextInt(ACCOUNTS);
        long amount = 1 + random.nextInt(5);
        CompletableFuture<Void> transfer = db.runAsync(tr -> {
            configure(tr);
            return tr.get(account(from)).thenCombine(tr.get(account(to)), (a, b) -> {
                long balanceFrom = decode(a);
                if (from != to && balanceFrom >= amount) {
                    tr.set(account(from), encode(balanceFrom - amount));
                    tr.set(account(to), encode(decode(b) + amount));
                }
                tr.mutate(MutationType.ADD, counter(client), encode(1));
                return null;
            });
        });
        return transfer.thenCompose(v -> {
            done[client]++;
            return runClient(db, client, remaining - 1, random, done);
        });
    }

    private static void drive(SimulatedBackend backend, CompletableFuture<?> until) {
        long steps = 0;
        while (!until.isDone() && backend.step()) {
            if (++steps > 2_000_000) {
                throw new AssertionError("simulation did not finish within 2,000,000 steps");
            }
        }
        assertThat(until).as("simulation finished").isDone();
        until.join();
    }

    @SuppressWarnings("unused")
    private static String show(TreeMap<byte[], byte[]> m) {
        StringBuilder sb = new StringBuilder();
        m.forEach((k, v) -> sb.append(new String(k, UTF_8)).append('=').append(Arrays.toString(v)).append(' '));
        return sb.toString();
    }
}
