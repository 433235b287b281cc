package dev.txkv.cli.shell;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.Database;
import dev.txkv.Txkv;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jline.reader.Candidate;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.DumbTerminal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JLine front end, on a dumb terminal fed from a string. */
class InteractiveShellTest {
    @TempDir
    Path dir;

    private String session(Database db, String typed, Path history) throws IOException {
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        try (Terminal terminal = new DumbTerminal("test", Terminal.TYPE_DUMB,
                new ByteArrayInputStream(typed.getBytes(StandardCharsets.UTF_8)), screen, StandardCharsets.UTF_8);
                Shell shell = new Shell(db, terminal.writer(), StatusSource.unavailable("no server"), 2000)) {
            InteractiveShell.run(terminal, shell, history);
            terminal.flush();
        }
        return screen.toString(StandardCharsets.UTF_8);
    }

    @Test
    void readsLinesUntilExitAndKeepsHistory() throws IOException {
        Path history = dir.resolve("history");
        try (Database db = Txkv.openEmbedded(dir.resolve("db"))) {
            String screen = session(db, "writemode on\nset greeting \"hi there!\"\nget greeting\nexit\nget never\n", history);
            assertThat(screen).contains(InteractiveShell.PROMPT, "Committed (", "`greeting' is `hi there!'")
                    .doesNotContain("never");
            assertThat(Files.readString(history)).contains("set greeting \"hi there!\"", "get greeting");

            // End of input ends the session too, and history from the last one is loaded.
            String second = session(db, "get greeting\n", history);
            assertThat(second).contains("`greeting' is `hi there!'");
            assertThat(Files.readAllLines(history)).hasSizeGreaterThanOrEqualTo(4);
        }
    }

    @Test
    void errorsDoNotEndTheSession() throws IOException {
        try (Database db = Txkv.openEmbedded(dir.resolve("db"))) {
            String screen = session(db, "bogus\nget \\x4\nget it's\n", null);
            assertThat(screen).contains("ERROR: Unknown command `bogus'", "ERROR: Bad byte escape", "`it's': not found");
        }
    }

    private static List<String> complete(String line) {
        List<Candidate> candidates = new ArrayList<>();
        DefaultParser parser = new DefaultParser();
        parser.setQuoteChars(new char[] {'"'});
        new ShellCompleter().complete(null, parser.parse(line, line.length()), candidates);
        return candidates.stream().map(Candidate::value).toList();
    }

    @Test
    void completesCommandsAndKeywords() {
        assertThat(complete("")).contains("get", "getrange", "writemode", "exit");
        assertThat(complete("writemode ")).containsExactly("on", "off");
        assertThat(complete("option on ")).contains("timeout", "retry_limit", "report_conflicting_keys", "tuple_keys");
        assertThat(complete("status ")).containsExactly("json");
        assertThat(complete("getrange a ")).containsExactly("reverse");
        assertThat(complete("help ")).contains("clearrange");
        assertThat(complete("set a; wri")).contains("writemode");
        assertThat(complete("get ")).isEmpty();
    }

    @Test
    void completesTheSubcommandsOfUserRoleAndAuth() {
        assertThat(complete("")).contains("user", "role", "auth");
        assertThat(complete("user ")).containsExactlyInAnyOrder("add", "delete", "passwd", "grant", "revoke", "list");
        assertThat(complete("role ")).containsExactlyInAnyOrder("add", "delete", "grant", "revoke", "list");
        assertThat(complete("auth ")).containsExactlyInAnyOrder("enable", "disable", "status");
        assertThat(complete("role grant orders ")).containsExactly("read", "write", "readwrite", "status", "admin");
        assertThat(complete("role revoke orders ")).contains("readwrite");
        assertThat(complete("role grant orders read ")).isEmpty();
        assertThat(complete("role add ")).isEmpty();
    }
}
