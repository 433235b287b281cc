package dev.txkv.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.TxkvException;
import dev.txkv.proto.NotLeader;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** What a not_leader answer says about the leader, from the engine's view and the configured addresses. */
class LeaderDirectoryTest {
    @Test
    void theLeadersConfiguredAddressOrOnlyItsIdOrNothing() {
        AtomicReference<Optional<String>> leader = new AtomicReference<>(Optional.of("b"));
        LeaderDirectory d = new LeaderDirectory(leader::get, "a", Map.of("b", "10.0.0.2:4500"), () -> "127.0.0.1:4500");
        assertThat(d.notLeader()).isEqualTo(NotLeader.newBuilder().setLeaderId("b").setLeaderAddress("10.0.0.2:4500")
                .setMemberId("a").build());
        leader.set(Optional.of("c"));
        assertThat(d.notLeader().getLeaderId()).isEqualTo("c");
        assertThat(d.notLeader().getLeaderAddress()).isEmpty();
        leader.set(Optional.empty());
        assertThat(d.notLeader()).isEqualTo(NotLeader.newBuilder().setMemberId("a").build());
        // Itself (a leader not yet taking commits): its own address, unless it listens on a wildcard.
        leader.set(Optional.of("a"));
        assertThat(d.notLeader().getLeaderAddress()).isEqualTo("127.0.0.1:4500");
        LeaderDirectory wildcard = new LeaderDirectory(leader::get, "a", Map.of(), () -> "0.0.0.0:4500");
        assertThat(wildcard.notLeader().getLeaderAddress()).isEmpty();
        assertThat(LeaderDirectory.wildcard("[::]:4500")).isTrue();
        assertThat(LeaderDirectory.wildcard("[::1]:4500")).isFalse();
    }

    @Test
    void configuredAddressesAreCheckedAsHostPort() {
        assertThat(new ServerConfig().peerClientAddresses(Map.of("a", " h:1 ")).peerClientAddresses())
                .containsEntry("a", "h:1");
        assertThatThrownBy(() -> new ServerConfig().peerClientAddresses(Map.of("a", "h")))
                .isInstanceOf(TxkvException.class).hasMessageContaining("member a");
        assertThatThrownBy(() -> new ServerConfig().peerClientAddresses(Map.of("a", "h:0")))
                .isInstanceOf(TxkvException.class);
    }
}
