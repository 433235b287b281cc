package dev.txkv.replication;

import dev.txkv.engine.Engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.testkit.Poll;
import dev.txkv.testkit.Ports;
import dev.txkv.testkit.Seeds;
import java.time.Duration;
import dev.txkv.Database;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A replicated engine keeps committing under sustained load from many threads (no stall). */
class ReplicationLoadTest {
    @TempDir
    Path dir;

    @Test
    void aOneMemberGroupKeepsCommittingUnderLoad() throws Exception {
        int port = Ports.freePort();
        TxkvConfig config = new TxkvConfig();
        Engine engine = RaftReplication.open(dir, config,
                new ReplicationConfig("a", Map.of("a", "127.0.0.1:" + port)).electionTimeoutMs(500, 1000));
        try (Database db = Txkv.open(engine, config)) {
            Poll.until("the one member to lead", Duration.ofSeconds(30), engine::isLeading);
            AtomicLong commits = new AtomicLong();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Seeds.soak() ? 120 : 20);
            Thread[] workers = new Thread[16];
            for (int t = 0; t < workers.length; t++) {
                int id = t;
                workers[t] = new Thread(() -> {
                    for (long i = 0; System.nanoTime() < end; i++) {
                        byte[] key = ("w" + id + "/" + (i % 100)).getBytes(UTF_8);
                        db.run(tr -> {
                            tr.get(key).join();
                            tr.set(key, new byte[100]);
                            return null;
                        });
                        commits.incrementAndGet();
                    }
                });
                workers[t].start();
            }
            long last = 0;
            for (int second = 0; System.nanoTime() < end; second++) {
                Thread.sleep(1000);
                long now = commits.get();
                assertThat(now).as("commits still progress after %d s", second + 1).isGreaterThan(last);
                last = now;
            }
            for (Thread w : workers) {
                w.join(30_000);
                assertThat(w.isAlive()).as("worker finished").isFalse();
            }
        } finally {
            engine.close();
        }
    }
}
