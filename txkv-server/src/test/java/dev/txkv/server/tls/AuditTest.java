package dev.txkv.server.tls;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Audit lines are JSON objects, and repeats of one event within 5 s become one line with a count. */
class AuditTest {
    private final Logger audit = (Logger) LoggerFactory.getLogger("txkv.audit");
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();

    @BeforeEach
    void capture() {
        lines.start();
        audit.addAppender(lines);
        audit.setLevel(Level.INFO);
    }

    @AfterEach
    void release() {
        audit.detachAppender(lines);
    }

    private List<String> messages() {
        return lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void anEventIsOneJsonLineWithItsFieldsEscaped() {
        Audit.event("peer_refused", "side", "client", "subject", "CN=\"evil\"\n,O=x");
        assertThat(messages()).containsExactly(
                "{\"event\":\"peer_refused\",\"side\":\"client\",\"subject\":\"CN=\\\"evil\\\"\\n,O=x\"}");
    }

    @Test
    void repeatsWithinTheWindowAreCountedNotLogged() {
        for (int i = 0; i < 50; i++) {
            Audit.event("peer_refused", "side", "server", "subject", "CN=repeat-test");
        }
        Audit.event("peer_refused", "side", "server", "subject", "CN=another");
        assertThat(messages()).hasSize(2);
        Audit.flush(System.currentTimeMillis() + Audit.MERGE_MS + 1);
        assertThat(messages()).hasSize(3);
        assertThat(messages().get(2)).isEqualTo(
                "{\"event\":\"peer_refused\",\"side\":\"server\",\"subject\":\"CN=repeat-test\",\"repeated\":49}");
        // A new window after the flush logs the next one again.
        Audit.event("peer_refused", "side", "server", "subject", "CN=repeat-test");
        assertThat(messages()).hasSize(4);
    }
}
