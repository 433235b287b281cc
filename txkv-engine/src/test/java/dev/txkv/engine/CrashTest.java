package dev.txkv.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.testkit.Seeds;
import dev.txkv.Database;
import dev.txkv.KeyValue;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a real child JVM with SIGKILL in the middle of a write load, several times over the
 * same data directory, and checks after each kill: every acknowledged commit is present, and
 * the bank's total is unchanged (no partial transaction).
 */
class CrashTest {
    @TempDir
    Path dir;

    @Test
    void sigkillMidLoadLosesNoAcknowledgedCommitAndShowsNoPartialTransaction() throws Exception {
        long seed = Seeds.seed();
        Random random = new Random(seed);
        int cycles = Seeds.soak() ? 20 : 4;
        Set<String> acknowledged = new HashSet<>();
        for (int cycle = 0; cycle < cycles; cycle++) {
            long killAfterMs = 300 + random.nextInt(1200);
            List<String> acks = runAndKill("c" + cycle, killAfterMs);
            acknowledged.addAll(acks);
            assertThat(acks).as("cycle %d acknowledged something before the kill (seed %d)", cycle, seed).isNotEmpty();
            verify(acknowledged, seed);
        }
    }

    private List<String> runAndKill(String run, long killAfterMs) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m"));
        if (Runtime.version().feature() >= 22) {
            command.add("--enable-native-access=ALL-UNNAMED");
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), CrashChild.class.getName(),
                dir.toString(), run, "8"));
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<String> acks = new ArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.equals("READY")) {
                        synchronized (acks) {
                            acks.notifyAll();
                        }
                    } else if (line.startsWith("ACK ")) {
                        synchronized (acks) {
                            acks.add(line.substring(4));
                        }
                    }
                }
            } catch (java.io.IOException ignored) {
                // The child was killed: its pipe closes.
            }
        });
        reader.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            synchronized (acks) {
                while (acks.isEmpty() && System.nanoTime() < deadline && child.isAlive()) {
                    acks.wait(50);
                }
            }
            Thread.sleep(killAfterMs);
        } finally {
            child.destroyForcibly(); // SIGKILL on Linux
            child.waitFor(30, TimeUnit.SECONDS);
        }
        reader.join(10_000);
        synchronized (acks) {
            return new ArrayList<>(acks);
        }
    }

    private void verify(Set<String> acknowledged, long seed) {
        try (Database db = Txkv.openEmbedded(dir, new TxkvConfig())) {
            List<KeyValue> acks = db.read(tr -> tr.getRange("ack/".getBytes(UTF_8), "ack0".getBytes(UTF_8)).asList().join());
            Set<String> present = new HashSet<>();
            for (KeyValue kv : acks) {
                present.add(new String(kv.getKey(), UTF_8));
            }
            Set<String> lost = new HashSet<>(acknowledged);
            lost.removeAll(present);
            assertThat(lost).as("acknowledged commits lost after SIGKILL (seed %d)", seed).isEmpty();
            List<KeyValue> accounts = db.read(tr -> tr.getRange("bank/".getBytes(UTF_8), "bank0".getBytes(UTF_8))
                    .asList().join());
            assertThat(accounts).hasSize(CrashChild.ACCOUNTS);
            long total = accounts.stream().mapToLong(kv -> CrashChild.decode(kv.getValue())).sum();
            assertThat(total).as("bank total after SIGKILL (seed %d)", seed)
                    .isEqualTo(CrashChild.ACCOUNTS * CrashChild.INITIAL_BALANCE);
        }
    }
}
