package dev.txkv.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.spi.Environment;
import dev.txkv.spi.ReadStamp;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sequencer's epochs and high-water mark, kept in its control group's engine. */
class ControlSequencerTest {
    @TempDir
    Path dir;

    private static VersionSequencer.Grant grant(ControlSequencer s, int... participants) throws InterruptedException {
        for (int attempt = 0; ; attempt++) {
            try {
                return s.grant(participants[0], participants).join();
            } catch (CompletionException e) {
                // process_behind while the mark is raised: retried, as shards do
                if (!(e.getCause() instanceof TxkvException t) || !t.isRetryable() || attempt > 5_000) {
                    throw e;
                }
                Thread.sleep(1);
            }
        }
    }

    @Test
    void eachLeadershipStartsANewEpochAboveEveryVersionHandedOutBefore() throws InterruptedException {
        long highest;
        try (Engine control = Engine.open(dir, new TxkvConfig())) {
            ControlSequencer s = new ControlSequencer(control, Environment.SYSTEM, 1_000);
            VersionSequencer.Grant a = grant(s, 0, 1);
            VersionSequencer.Grant b = grant(s, 1);
            assertThat(a.epoch()).isEqualTo(1);
            assertThat(b.previous()).containsExactly(a.version());
            ReadStamp r = s.readVersion().join();
            assertThat(r.epoch()).isEqualTo(1);
            assertThat(r.version()).isGreaterThanOrEqualTo(b.version());
            assertThat(r.lastGrant(0)).isEqualTo(a.version());
            highest = r.version();
        }
        // The control group's next leader (here: the same member after a restart).
        try (Engine control = Engine.open(dir, new TxkvConfig())) {
            ControlSequencer s = new ControlSequencer(control, Environment.SYSTEM, 1_000);
            VersionSequencer.Grant c = grant(s, 0);
            assertThat(c.epoch()).isEqualTo(2);
            assertThat(c.previous()).containsExactly(-1);
            assertThat(c.version()).isGreaterThan(highest);
            assertThat(s.readVersion().join().lastGrant(1)).isEqualTo(-1);
        }
    }

    @Test
    void versionsNeverPassTheDurableMarkWhichRisesAheadOfThem() throws InterruptedException {
        long firstMark;
        long last = 0;
        try (Engine control = Engine.open(dir, new TxkvConfig())) {
            ControlSequencer s = new ControlSequencer(control, Environment.SYSTEM, 20);
            grant(s, 0);
            firstMark = markIn(control);
            long until = System.nanoTime() + 300_000_000L;
            while (System.nanoTime() < until) {
                long v = grant(s, 0).version();
                assertThat(v).isGreaterThan(last).isLessThanOrEqualTo(markIn(control));
                last = v;
                Thread.sleep(1);
            }
        }
        assertThat(last).as("versions went on past the first mark, which rose ahead of them").isGreaterThan(firstMark);
    }

    private static long markIn(Engine control) {
        long rv = control.getReadVersion().join();
        return java.nio.ByteBuffer.wrap(control.get(ControlSequencer.HIGH_WATER_KEY, rv).join()).getLong();
    }
}
