package dev.txkv.cli.shell;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;
import picocli.CommandLine;

/**
 * Tab completion for the interactive shell: command names first, then the keywords a command
 * takes ({@code on}/{@code off}, option names, {@code json}, {@code reverse}, the subcommands of
 * {@code user}, {@code role} and {@code auth}, the rights of {@code role grant}). Keys are not
 * completed: that would read the database on every Tab.
 */
final class ShellCompleter implements Completer {
    @Override
    public void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
        List<String> words = line.words();
        int index = line.wordIndex();
        // Several commands may share a line; complete within the last one.
        int start = 0;
        for (int i = 0; i < index && i < words.size(); i++) {
            if (words.get(i).endsWith(";")) {
                start = i + 1;
            }
        }
        int position = index - start;
        if (position == 0) {
            addCommands(candidates);
            return;
        }
        String command = words.get(start).toLowerCase(Locale.ROOT);
        switch (command) {
            case "help" -> {
                if (position == 1) {
                    addCommands(candidates);
                }
            }
            case "option" -> {
                if (position == 1) {
                    addKeywords(candidates, "on", "off");
                } else if (position == 2) {
                    for (ShellOption option : ShellOption.values()) {
                        candidates.add(new Candidate(option.optionName(), option.optionName(), "options",
                                option.description(), null, null, true));
                    }
                }
            }
            case "writemode" -> {
                if (position == 1) {
                    addKeywords(candidates, "on", "off");
                }
            }
            case "status" -> {
                if (position == 1) {
                    addKeywords(candidates, "json");
                }
            }
            case "user", "role", "auth" -> {
                if (position == 1) {
                    addKeywords(candidates, subcommands(command).toArray(new String[0]));
                } else if (position == 3 && command.equals("role")
                        && (words.get(start + 1).equals("grant") || words.get(start + 1).equals("revoke"))) {
                    for (RoleCommand.Right right : RoleCommand.Right.values()) {
                        addKeywords(candidates, right.word());
                    }
                }
            }
            case "getrange", "getrangekeys" -> {
                if (position >= 2) {
                    addKeywords(candidates, "reverse");
                }
            }
            default -> {
                // Keys and values: nothing to offer.
            }
        }
    }

    /** The subcommands of {@code user}, {@code role} or {@code auth}, as their picocli commands declare them. */
    private static Set<String> subcommands(String group) {
        return new CommandLine(AuthCommands.group(group, AuthCommands.Context.launcher())).getSubcommands().keySet();
    }

    private static void addCommands(List<Candidate> candidates) {
        for (ShellCommandInfo command : ShellCommandInfo.values()) {
            candidates.add(new Candidate(command.commandName(), command.commandName(), "commands",
                    command.summary(), null, null, true));
        }
    }

    private static void addKeywords(List<Candidate> candidates, String... keywords) {
        for (String keyword : keywords) {
            candidates.add(new Candidate(keyword));
        }
    }
}
