package dev.txkv.cli.shell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.cli.shell.ShellSyntax.Token;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class ShellSyntaxTest {
    private static List<String> texts(List<Token> command) {
        return command.stream().map(Token::text).toList();
    }

    @Test
    void splitsCommandsOnSemicolonsAndTokensOnSpaces() {
        List<List<Token>> commands = ShellSyntax.parse("  set a  b ;get a;; ");
        assertThat(commands).hasSize(2);
        assertThat(texts(commands.get(0))).containsExactly("set", "a", "b");
        assertThat(texts(commands.get(1))).containsExactly("get", "a");
        assertThat(ShellSyntax.parse("   ")).isEmpty();
    }

    @Test
    void quotesAndEscapesKeepSpacesAndSemicolons() {
        List<List<Token>> commands = ShellSyntax.parse("set \"a b;c\" x\\ y\\;z");
        assertThat(commands).hasSize(1);
        assertThat(texts(commands.get(0))).containsExactly("set", "a b;c", "x y;z");
        assertThat(commands.get(0).get(0).bare()).isTrue();
        assertThat(commands.get(0).get(1).bare()).isFalse();
        assertThat(ShellSyntax.parse("get \"\"").get(0).get(1).bytes()).isEmpty();
    }

    @Test
    void hexEscapesGiveAnyByte() {
        Token token = ShellSyntax.parse("\\x00\\xFFa\\x7f").get(0).get(0);
        assertThat(token.bytes()).containsExactly(0x00, 0xFF, 'a', 0x7f);
        assertThat(token.bare()).isFalse();
    }

    @Test
    void malformedEscapesAndQuotesAreRejected() {
        assertThatThrownBy(() -> ShellSyntax.parse("get \\xg1")).isInstanceOf(ShellUsageException.class);
        assertThatThrownBy(() -> ShellSyntax.parse("get \\x1")).isInstanceOf(ShellUsageException.class);
        assertThatThrownBy(() -> ShellSyntax.parse("get \\n")).isInstanceOf(ShellUsageException.class);
        assertThatThrownBy(() -> ShellSyntax.parse("get \"a")).isInstanceOf(ShellUsageException.class);
        assertThatThrownBy(() -> ShellSyntax.parse("get \\")).isInstanceOf(ShellUsageException.class);
    }

    @Test
    void printsAsFdbcli() {
        byte[] bytes = {'a', ' ', '"', '\\', 0, (byte) 0xFF, 0x7f, '~'};
        assertThat(ShellSyntax.printable(bytes)).isEqualTo("a \"\\\\\\x00\\xff\\x7f~");
        assertThat(ShellSyntax.typeable(bytes)).isEqualTo("a\\ \\\"\\\\\\x00\\xff\\x7f~");
    }

    @Test
    void nonAsciiTextIsItsUtf8Bytes() {
        Token token = ShellSyntax.parse("\u00e9\uD83D\uDE00").get(0).get(0);
        assertThat(token.bytes()).isEqualTo("\u00e9\uD83D\uDE00".getBytes(StandardCharsets.UTF_8));
    }

    @Property(tries = 300)
    void whatIsPrintedTypesBackAsTheSameBytes(@ForAll byte[] bytes) {
        List<List<Token>> commands = ShellSyntax.parse("get " + ShellSyntax.typeable(bytes));
        assertThat(commands).hasSize(1);
        List<Token> tokens = commands.get(0);
        if (bytes.length == 0) {
            assertThat(tokens).hasSize(1);
        } else {
            assertThat(tokens).hasSize(2);
            assertThat(tokens.get(1).bytes()).isEqualTo(bytes);
        }
    }
}
