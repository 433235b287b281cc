package dev.txkv.cli.shell;

import dev.txkv.ByteArrays;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The shell's input and output forms of byte strings, as fdbcli's.
 *
 * <p>Input: a line holds commands separated by {@code ;}; a command is tokens separated by
 * spaces. Double quotes group a token that holds spaces or semicolons. A backslash escapes
 * the next character: {@code \\}, {@code \"}, {@code \ } (a space), {@code \;}, or starts a
 * byte {@code \xNN} (two hex digits). Any other character stands for its UTF-8 bytes.
 *
 * <p>Output: printable ASCII as is, a backslash as {@code \\}, every other byte as
 * {@code \xNN}, so that what the shell prints can be typed back (inside double quotes when it
 * holds spaces, with {@code \"} for a quote).
 */
public final class ShellSyntax {
    private ShellSyntax() {
    }

    /**
     * One token of a command.
     *
     * @param bytes the bytes it stands for
     * @param bare  true when it was typed without quotes or escapes, so it may be a keyword
     *              (such as {@code reverse}) rather than a key
     */
    public record Token(byte[] bytes, boolean bare) {
        /** The token as text, for command names, keywords and numbers. */
        public String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }

        /** True when this bare token is {@code keyword}, ignoring case. */
        public boolean isKeyword(String keyword) {
            return bare && text().equalsIgnoreCase(keyword);
        }
    }

    /**
     * Splits {@code line} into commands and each command into tokens; empty commands are
     * dropped.
     *
     * @throws ShellUsageException for an unterminated quote or a malformed escape
     */
    public static List<List<Token>> parse(String line) {
        List<List<Token>> commands = new ArrayList<>();
        List<Token> tokens = new ArrayList<>();
        ByteArrayOutputStream current = new ByteArrayOutputStream();
        boolean inToken = false;
        boolean bare = true;
        boolean quoted = false;
        int i = 0;
        while (i < line.length()) {
            int c = line.codePointAt(i);
            int width = Character.charCount(c);
            if (c == '"') {
                quoted = !quoted;
                inToken = true;
                bare = false;
            } else if (c == '\\') {
                i += escape(line, i, current);
                inToken = true;
                bare = false;
                continue;
            } else if (!quoted && (c == ' ' || c == '\t' || c == ';')) {
                if (inToken) {
                    tokens.add(new Token(current.toByteArray(), bare));
                    current.reset();
                    inToken = false;
                    bare = true;
                }
                if (c == ';') {
                    addCommand(commands, tokens);
                    tokens = new ArrayList<>();
                }
            } else {
                current.writeBytes(new String(Character.toChars(c)).getBytes(StandardCharsets.UTF_8));
                inToken = true;
            }
            i += width;
        }
        if (quoted) {
            throw new ShellUsageException("Unterminated quote in: " + line);
        }
        if (inToken) {
            tokens.add(new Token(current.toByteArray(), bare));
        }
        addCommand(commands, tokens);
        return commands;
    }

    /** Appends the byte an escape at {@code line[at]} stands for; returns the characters it used. */
    private static int escape(String line, int at, ByteArrayOutputStream out) {
        if (at + 1 >= line.length()) {
            throw new ShellUsageException("A backslash ends the line; write \\\\ for a backslash");
        }
        char next = line.charAt(at + 1);
        switch (next) {
            case '\\':
            case '"':
            case ' ':
            case ';':
                out.write(next);
                return 2;
            case 'x':
                int high = at + 2 < line.length() ? Character.digit(line.charAt(at + 2), 16) : -1;
                int low = at + 3 < line.length() ? Character.digit(line.charAt(at + 3), 16) : -1;
                if (high < 0 || low < 0) {
                    throw badHex(line, at);
                }
                out.write(high * 16 + low);
                return 4;
            default:
                throw new ShellUsageException("Unknown escape \\" + next
                        + " (use \\xNN for a byte, \\\\ for a backslash, \\\" for a quote)");
        }
    }

    private static ShellUsageException badHex(String line, int at) {
        String shown = line.substring(at, Math.min(line.length(), at + 4));
        return new ShellUsageException("Bad byte escape " + shown + ": \\x must be followed by two hex digits");
    }

    private static void addCommand(List<List<Token>> commands, List<Token> tokens) {
        if (!tokens.isEmpty()) {
            commands.add(List.copyOf(tokens));
        }
    }

    /**
     * One key given as one command-line argument ({@code txkv split KEY}, {@code txkv role grant
     * ROLE MODE BEGIN END}), written as the shell writes keys; spaces and {@code ;} in the
     * argument are part of the key.
     *
     * @param label      the argument's name in messages, e.g. {@code KEY}
     * @param allowEmpty whether the empty key (an empty argument, or {@code ""}) is allowed
     * @throws ShellUsageException for a malformed escape or quote, or not exactly one key
     */
    public static byte[] keyArgument(String label, String argument, boolean allowEmpty) {
        if (argument.isEmpty() && allowEmpty) {
            return new byte[0];
        }
        List<List<Token>> commands;
        try {
            commands = parse(argument.contains(" ") || argument.contains(";")
                    ? '"' + argument.replace("\"", "\\\"") + '"' : argument);
        } catch (ShellUsageException e) {
            throw new ShellUsageException("Bad " + label + ": " + e.getMessage());
        }
        if (commands.size() != 1 || commands.get(0).size() != 1
                || (!allowEmpty && commands.get(0).get(0).bytes().length == 0)) {
            throw new ShellUsageException(label + " must be one " + (allowEmpty ? "" : "non-empty ") + "key, got '"
                    + argument + "'");
        }
        return commands.get(0).get(0).bytes();
    }

    /** The printable form of {@code bytes}, as fdbcli prints keys and values. */
    public static String printable(byte[] bytes) {
        return ByteArrays.printable(bytes);
    }

    /**
     * The form of {@code bytes} to type back into the shell: the printable form with quotes
     * and spaces escaped, so it stays one token.
     */
    public static String typeable(byte[] bytes) {
        return printable(bytes).replace("\"", "\\\"").replace(" ", "\\ ").replace(";", "\\;");
    }
}
