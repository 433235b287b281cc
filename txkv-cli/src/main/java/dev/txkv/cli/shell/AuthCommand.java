package dev.txkv.cli.shell;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.txkv.proto.AuthDescription;
import dev.txkv.proto.ChangeAuthRequest;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code txkv auth enable|disable|status}: turns a cluster's authorization on or off, and says
 * whether it is on (service Auth of auth.proto).
 */
@Command(name = "auth",
        description = "Turn authorization on or off, or show whether it is on. While it is on, every call needs a"
                + " user's credentials (TXKV_USER and TXKV_PASSWORD_FILE, TXKV_TOKEN_FILE, or a client certificate)"
                + " and is checked against the user's roles.",
        synopsisSubcommandLabel = "COMMAND",
        subcommands = {AuthCommand.Enable.class, AuthCommand.Disable.class, AuthCommand.Status.class},
        footer = {
            "",
            "Examples:",
            "  txkv user add root --role root",
            "  txkv auth enable",
            "  TXKV_USER=root TXKV_PASSWORD_FILE=root.password txkv auth status"})
public final class AuthCommand extends AuthCommands.Group {
    /** As {@code txkv auth}: the remote client. */
    public AuthCommand() {
        this(AuthCommands.Context.launcher());
    }

    AuthCommand(AuthCommands.Context context) {
        super(context);
    }

    @Command(name = "enable",
            description = "Turn authorization on. Needs a user root with a password and the role root first"
                    + " (txkv user add root --role root).")
    static final class Enable extends AuthCommands.Leaf {
        @Override
        void run(PrintWriter out) {
            change(ChangeAuthRequest.newBuilder().setSetEnabled(true), servers.timeout());
            out.println("Authorization enabled: every call now needs a user's credentials (TXKV_USER and"
                    + " TXKV_PASSWORD_FILE, TXKV_TOKEN_FILE, or a client certificate).");
        }
    }

    @Command(name = "disable", description = "Turn authorization off: every client may then do everything.")
    static final class Disable extends AuthCommands.Leaf {
        @Override
        void run(PrintWriter out) {
            change(ChangeAuthRequest.newBuilder().setSetEnabled(false), servers.timeout());
            out.println("Authorization disabled: every client may do everything.");
        }
    }

    @Command(name = "status", description = "Show whether authorization is on, and how many users and roles there are.")
    static final class Status extends AuthCommands.Leaf {
        @Option(names = "--json", description = "Print the users and roles as JSON (message AuthDescription of auth.proto).")
        boolean json;

        @Override
        void run(PrintWriter out) throws InvalidProtocolBufferException {
            AuthDescription d = describe();
            out.print(json ? AuthCommands.json(d) + "\n" : AuthCommands.status(d));
        }
    }
}
