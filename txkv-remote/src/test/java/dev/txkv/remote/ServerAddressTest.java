package dev.txkv.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.ErrorCode;
import dev.txkv.Txkv;
import dev.txkv.TxkvException;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ServerAddressTest {
    @Test
    void parsesOneOrSeveralServersInOrder() {
        assertThat(ServerAddress.parseConnection("127.0.0.1:4500")).containsExactly(new ServerAddress("127.0.0.1", 4500));
        assertThat(ServerAddress.parseConnection(" a:1 , b.example:65535,[::1]:4500"))
                .containsExactly(new ServerAddress("a", 1), new ServerAddress("b.example", 65_535),
                        new ServerAddress("::1", 4500));
        assertThat(ServerAddress.parseConnection("[::1]:4500").get(0).toString()).isEqualTo("[::1]:4500");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "localhost", "localhost:", ":4500", "host:0", "host:65536", "host:-1",
            "host:port", "a:1,", "a:1,,b:2", "::1:4500", "[::1]", "[::1]4500", "host:99999999999"})
    void rejectsMalformedConnectionStringsWithClientInvalidOperation(String connection) {
        assertThatThrownBy(() -> ServerAddress.parseConnection(connection))
                .isInstanceOfSatisfying(TxkvException.class, e -> {
                    assertThat(e.getError()).isEqualTo(ErrorCode.CLIENT_INVALID_OPERATION);
                    assertThat(e.getMessage()).contains("Invalid connection string");
                });
    }

    @Test
    void nullConnectionStringIsRejectedToo() {
        assertThatThrownBy(() -> ServerAddress.parseConnection(null)).isInstanceOf(TxkvException.class);
    }

    @Test
    void txkvOpenFindsTheRemoteProviderAndChecksTheString() {
        assertThatThrownBy(() -> Txkv.open("no-port-here"))
                .isInstanceOfSatisfying(TxkvException.class,
                        e -> assertThat(e.getError()).isEqualTo(ErrorCode.CLIENT_INVALID_OPERATION));
        // A well-formed string connects lazily: opening succeeds even with nothing listening.
        Txkv.open("127.0.0.1:1").close();
        try (RemoteBackend backend = RemoteBackend.connect("127.0.0.1:1, 127.0.0.1:2", new RemoteSettings())) {
            assertThat(backend.servers()).isEqualTo(List.of("127.0.0.1:1", "127.0.0.1:2"));
        }
    }
}
