package dev.txkv.cli.shell;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.tuple.Tuple;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class TupleKeysTest {
    @Test
    void showsTuplesInPythonNotation() {
        assertThat(TupleKeys.describe(Tuple.from("users", 42).pack())).contains("('users', 42)");
        assertThat(TupleKeys.describe(Tuple.from("one").pack())).contains("('one',)");
        assertThat(TupleKeys.describe(Tuple.from(new byte[] {1, '\''}, null, true, false, -7L).pack()))
                .contains("(b'\\x01\\'', None, True, False, -7)");
        assertThat(TupleKeys.describe(Tuple.from("it's", Tuple.from(1, "a\\b")).pack()))
                .contains("('it\\'s', (1, 'a\\\\b'))");
        UUID uuid = new UUID(1, 2);
        assertThat(TupleKeys.describe(Tuple.from(uuid, 1.5d).pack())).contains("(UUID('" + uuid + "'), 1.5)");
    }

    @Test
    void leavesOtherKeysAlone() {
        assertThat(TupleKeys.describe("hello".getBytes(StandardCharsets.US_ASCII))).isEmpty();
        assertThat(TupleKeys.describe(new byte[0])).isEmpty();
        // Decodes as the tuple (False,), but someone typing "&" meant text.
        assertThat(TupleKeys.describe(new byte[] {'&'})).isEmpty();
        // Not a tuple: unknown type code, truncated string, trailing garbage.
        assertThat(TupleKeys.describe(new byte[] {(byte) 0xFF, 1})).isEmpty();
        assertThat(TupleKeys.describe(new byte[] {0x02, 'a'})).isEmpty();
        assertThat(TupleKeys.describe(new byte[] {0x15, 1, (byte) 0x99})).isEmpty();
    }
}
