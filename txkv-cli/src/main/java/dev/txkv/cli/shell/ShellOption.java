package dev.txkv.cli.shell;

import dev.txkv.TransactionOptions;
import java.util.Locale;
import java.util.Optional;

/**
 * The options {@code option on|off NAME [ARG]} knows: transaction options named as
 * FoundationDB's, and {@code tuple_keys}, which only changes how the shell prints keys.
 */
public enum ShellOption {
    TIMEOUT("timeout", "MS", "Fails the transaction after MS milliseconds (0: never). Also bounds watch."),
    RETRY_LIMIT("retry_limit", "N", "Retries a failed transaction at most N times (-1: no limit)."),
    MAX_RETRY_DELAY("max_retry_delay", "MS", "Caps the backoff between retries at MS milliseconds."),
    SIZE_LIMIT("size_limit", "BYTES", "Refuses to commit a transaction larger than BYTES."),
    REPORT_CONFLICTING_KEYS("report_conflicting_keys", null, "On a conflict, prints the conflicting key ranges."),
    ACCESS_SYSTEM_KEYS("access_system_keys", null, "Allows reading and writing keys that begin with \\xff."),
    AUTOMATIC_IDEMPOTENCY("automatic_idempotency", null, "Tags commits so a retry after an unknown result cannot commit twice."),
    TUPLE_KEYS("tuple_keys", null, "Shows keys that are packed tuples also as tuples (on by default).");

    private final String optionName;
    private final String argument;
    private final String description;

    ShellOption(String optionName, String argument, String description) {
        this.optionName = optionName;
        this.argument = argument;
        this.description = description;
    }

    /** The name typed after {@code option on}. */
    public String optionName() {
        return optionName;
    }

    /** The argument's placeholder, or null for an option without one. */
    public String argument() {
        return argument;
    }

    /** One line of help. */
    public String description() {
        return description;
    }

    /** True for {@code tuple_keys}: it changes the shell's printing, not transactions. */
    public boolean isDisplayOnly() {
        return this == TUPLE_KEYS;
    }

    /** The option with this name, ignoring case. */
    public static Optional<ShellOption> named(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (ShellOption option : values()) {
            if (option.optionName.equals(lower)) {
                return Optional.of(option);
            }
        }
        return Optional.empty();
    }

    /** Turns this option on in {@code options}; {@code value} is its argument (ignored for flags). */
    void applyOn(TransactionOptions options, long value) {
        switch (this) {
            case TIMEOUT -> options.setTimeout(value);
            case RETRY_LIMIT -> options.setRetryLimit(value);
            case MAX_RETRY_DELAY -> options.setMaxRetryDelay(value);
            case SIZE_LIMIT -> options.setSizeLimit(value);
            case REPORT_CONFLICTING_KEYS -> options.setReportConflictingKeys();
            case ACCESS_SYSTEM_KEYS -> options.setAccessSystemKeys();
            case AUTOMATIC_IDEMPOTENCY -> options.setAutomaticIdempotency();
            case TUPLE_KEYS -> {
                // Display only: nothing to set on the transaction.
            }
        }
    }
}
