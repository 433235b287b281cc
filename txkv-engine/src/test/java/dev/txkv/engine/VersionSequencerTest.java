package dev.txkv.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.spi.Environment;
import org.junit.jupiter.api.Test;

/** The sequencer's grants chain per shard, and read stamps cover every grant before them. */
class VersionSequencerTest {
    @Test
    void grantsChainPerShardAndReadVersionsSitBetweenGrants() {
        VersionSequencer s = new VersionSequencer(Environment.SYSTEM, 1, 0);
        VersionSequencer.Grant a = s.grant(0, new int[] {0});
        VersionSequencer.Grant b = s.grant(1, new int[] {0, 1});
        VersionSequencer.Grant c = s.grant(1, new int[] {1});
        assertThat(a.previous()).containsExactly(-1);
        assertThat(b.previous()).containsExactly(a.version(), -1);
        assertThat(c.previous()).containsExactly(b.version());
        assertThat(b.version()).isGreaterThan(a.version());
        assertThat(c.version()).isGreaterThan(b.version());

        dev.txkv.spi.ReadStamp r = s.readVersion();
        assertThat(r.version()).isGreaterThanOrEqualTo(c.version());
        assertThat(r.lastGrant(0)).isEqualTo(b.version());
        assertThat(r.lastGrant(1)).isEqualTo(c.version());
        assertThat(r.lastGrant(7)).isEqualTo(-1);
        assertThat(s.grant(0, new int[] {0}).version()).isGreaterThan(r.version());
        assertThat(s.coordinatorOf(b.version())).isEqualTo(1);
        assertThat(s.coordinatorOf(b.version() + 12345)).isEqualTo(-1);
    }

    @Test
    void aNewEpochStartsAboveTheOldAndKnowsNoEarlierGrants() {
        VersionSequencer old = new VersionSequencer(Environment.SYSTEM, 1, 0);
        old.grant(0, new int[] {0, 1});
        long high = old.readVersion().version() + 5_000_000;
        VersionSequencer next = new VersionSequencer(Environment.SYSTEM, 2, high);
        VersionSequencer.Grant g = next.grant(0, new int[] {0});
        assertThat(g.epoch()).isEqualTo(2);
        assertThat(g.version()).isGreaterThan(high);
        assertThat(g.previous()).containsExactly(-1);
        assertThat(next.readVersion().lastGrant(1)).isEqualTo(-1);
    }
}
