package dev.txkv.cli.shell;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;

/**
 * The interactive front end of {@code txkv cli}: reads lines with JLine (editing, history in a
 * file, Tab completion) and hands them to a {@link Shell}. Ctrl-C cancels the command that is
 * waiting (a long watch, a slow server) or clears the line being typed; Ctrl-D or {@code exit}
 * leaves.
 */
public final class InteractiveShell {
    /** The prompt, as fdbcli's "fdb> ". */
    public static final String PROMPT = "txkv> ";
    /** Lines kept in the history file; JLine trims it to this when saving. */
    static final int HISTORY_LINES_MAX = 1_000;

    private InteractiveShell() {
    }

    /**
     * Reads and runs lines until end of input or {@code exit}. The shell should print to
     * {@code terminal.writer()} so that its output and the prompt interleave correctly.
     *
     * @param historyFile where history is loaded from and saved to; null keeps it in memory
     */
    public static void run(Terminal terminal, Shell shell, Path historyFile) {
        LineReader reader = lineReader(terminal, historyFile);
        // Outside readLine, Ctrl-C reaches this handler: it cancels the command being waited on.
        Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, signal -> shell.interrupt());
        try {
            while (!shell.exitRequested()) {
                String line;
                try {
                    line = reader.readLine(PROMPT);
                } catch (UserInterruptException e) {
                    // Ctrl-C while typing: drop the line, as a Unix shell does.
                    continue;
                } catch (EndOfFileException e) {
                    break;
                }
                shell.execute(line);
            }
        } finally {
            terminal.handle(Terminal.Signal.INT, previous);
            saveHistory(reader, terminal.writer());
        }
    }

    static LineReader lineReader(Terminal terminal, Path historyFile) {
        DefaultParser parser = new DefaultParser();
        // Only double quotes group words in the shell's syntax; an apostrophe is an ordinary byte.
        parser.setQuoteChars(new char[] {'"'});
        LineReaderBuilder builder = LineReaderBuilder.builder()
                .appName("txkv")
                .terminal(terminal)
                .parser(parser)
                .completer(new ShellCompleter())
                .variable(LineReader.HISTORY_SIZE, HISTORY_LINES_MAX)
                .variable(LineReader.HISTORY_FILE_SIZE, HISTORY_LINES_MAX)
                // '!' is an ordinary byte in keys, not a history reference.
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                .option(LineReader.Option.HISTORY_IGNORE_DUPS, true);
        if (historyFile != null) {
            builder.variable(LineReader.HISTORY_FILE, historyFile);
        }
        return builder.build();
    }

    private static void saveHistory(LineReader reader, PrintWriter out) {
        try {
            reader.getHistory().save();
        } catch (IOException | UncheckedIOException e) {
            // Losing history is no reason to fail the session; say so and move on.
            out.println("Could not save the history: " + e.getMessage());
            out.flush();
        }
    }
}
