package dev.txkv.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PortsTest {
    @Test
    void portsHandedOutOneByOneAreDistinctAndBelowTheEphemeralRange() {
        // A cluster's ports are often asked one at a time before any server binds them.
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            int port = Ports.freePort();
            assertThat(port).isBetween(20_000, 31_999);
            assertThat(seen.add(port)).as("port %d handed out twice", port).isTrue();
        }
        int base = Ports.freePortRange(4);
        for (int port = base; port < base + 4; port++) {
            assertThat(seen.add(port)).as("port %d handed out twice", port).isTrue();
        }
    }
}
