package dev.txkv.cli.shell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.proto.Status;
import dev.txkv.spi.RemoteAdminProvider;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class RemoteStatusSourceTest {
    /** Records what it was asked and answers from the arguments. */
    private static final class FakeProvider implements RemoteAdminProvider {
        @Override
        public byte[] status(String connection, Duration timeout) {
            return Status.newBuilder().setAnsweredBy(connection).setTimestampMs(timeout.toMillis()).build().toByteArray();
        }

        @Override
        public Map<String, String> setMembers(String connection, Map<String, String> members, Duration timeout) {
            return Map.of("connection", connection, "members", String.valueOf(members.size()));
        }
    }

    @Test
    void theRemoteClientIsFoundThroughServiceLoader() {
        assertThat(ServiceLoader.load(RemoteAdminProvider.class).findFirst())
                .as("txkv-remote registers a RemoteAdminProvider").isPresent();
    }

    @Test
    void callsGoToTheFirstProvider() {
        RemoteStatusSource source = new RemoteStatusSource("127.0.0.1:4500", List.of(new FakeProvider()));
        Status status = source.fetch(Duration.ofMillis(1500));
        assertThat(status.getAnsweredBy()).isEqualTo("127.0.0.1:4500");
        assertThat(status.getTimestampMs()).isEqualTo(1500);
        assertThat(source.setMembers(Map.of("a", "127.0.0.1:4502"), Duration.ofSeconds(1)))
                .containsEntry("connection", "127.0.0.1:4500").containsEntry("members", "1");
    }

    @Test
    void noProviderIsAClearError() {
        RemoteStatusSource source = new RemoteStatusSource("127.0.0.1:4500", List.of());
        assertThatThrownBy(() -> source.fetch(Duration.ofSeconds(1)))
                .isInstanceOfSatisfying(TxkvException.class,
                        e -> assertThat(e.getError()).isEqualTo(ErrorCode.CLIENT_INVALID_OPERATION))
                .hasMessageContaining("No remote client on the class path")
                .hasMessageContaining("dev.txkv:txkv-remote");
        assertThatThrownBy(() -> source.setMembers(Map.of("a", "127.0.0.1:4502"), Duration.ofSeconds(1)))
                .hasMessageContaining("No remote client on the class path");
    }
}
