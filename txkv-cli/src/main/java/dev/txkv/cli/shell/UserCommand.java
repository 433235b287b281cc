package dev.txkv.cli.shell;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.txkv.proto.AuthDescription;
import dev.txkv.proto.ChangeAuthRequest;
import dev.txkv.proto.UserAdd;
import dev.txkv.proto.UserDescription;
import dev.txkv.proto.UserPassword;
import dev.txkv.proto.UserRole;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code txkv user add|delete|passwd|grant|revoke|list}: the users of a cluster (service Auth
 * of auth.proto). Passwords come from the first line of a file or are typed twice on the
 * console; never from the command line.
 */
@Command(name = "user",
        description = "Add, delete and list the users of a txkv cluster, set their passwords and grant them roles."
                + " Needs the admin right once authorization is on (txkv auth).",
        synopsisSubcommandLabel = "COMMAND",
        subcommands = {UserCommand.Add.class, UserCommand.Delete.class, UserCommand.Passwd.class,
            UserCommand.Grant.class, UserCommand.Revoke.class, UserCommand.ListUsers.class},
        footer = {
            "",
            "Examples:",
            "  txkv user add root --role root          # asks for the password twice",
            "  txkv user add orders --role orders --password-file orders.password",
            "  txkv user add backup --role monitor --no-password   # certificate only",
            "  txkv user grant orders monitor",
            "  txkv user list"})
public final class UserCommand extends AuthCommands.Group {
    /** As {@code txkv user}: the remote client and the process's console. */
    public UserCommand() {
        this(AuthCommands.Context.launcher());
    }

    UserCommand(AuthCommands.Context context) {
        super(context);
    }

    /** Where the password of {@code user add} comes from. */
    static final class PasswordSource {
        @Option(names = "--password-file", paramLabel = "FILE", required = true,
                description = "Read the password from the first line of FILE instead of asking for it.")
        Path file;

        @Option(names = "--no-password", required = true,
                description = "No password: the user signs in with a client certificate (common name NAME) only.")
        boolean none;
    }

    @Command(name = "add",
            description = "Add a user. Without --password-file or --no-password, asks for the password twice on the"
                    + " console (12 to 1,024 bytes).")
    static final class Add extends AuthCommands.Leaf {
        @Parameters(index = "0", paramLabel = "NAME",
                description = "1 to 64 letters, digits, '.', '_', '@' or '-', beginning with a letter or digit.")
        String name;

        @Option(names = {"-r", "--role"}, paramLabel = "ROLE",
                description = "A role for the user; repeat for more (txkv role list shows them).")
        List<String> roles = new ArrayList<>();

        @ArgGroup(exclusive = true, multiplicity = "0..1")
        PasswordSource password;

        @Override
        void run(PrintWriter out) {
            Duration timeout = servers.timeout();
            String secret;
            if (password != null && password.none) {
                secret = "";
            } else if (password != null && password.file != null) {
                secret = AuthCommands.passwordFromFile(spec.commandLine(), password.file);
            } else {
                secret = AuthCommands.promptPassword(spec.commandLine(), group.context.consoles(), name,
                        "--password-file FILE (its first line is the password), or --no-password for a user that signs"
                                + " in with a client certificate only");
            }
            AuthDescription after = change(ChangeAuthRequest.newBuilder().setUserAdd(
                    UserAdd.newBuilder().setName(name).setPassword(secret).addAllRoles(roles)), timeout);
            UserDescription user = AuthCommands.user(after, name);
            List<String> granted = user == null ? roles : user.getRolesList();
            out.println("User " + name + " added; roles: " + (granted.isEmpty() ? "none" : String.join(", ", granted))
                    + "; " + (secret.isEmpty() ? "no password (client certificate only)." : "signs in with a password."));
        }
    }

    @Command(name = "delete", description = "Delete a user. Tokens already issued to it stop being accepted.")
    static final class Delete extends AuthCommands.Leaf {
        @Parameters(index = "0", paramLabel = "NAME", description = "The user.")
        String name;

        @Override
        void run(PrintWriter out) {
            change(ChangeAuthRequest.newBuilder().setUserDelete(name), servers.timeout());
            out.println("User " + name + " deleted.");
        }
    }

    @Command(name = "passwd",
            description = "Set a user's password, asked twice on the console unless --password-file is given."
                    + " Tokens issued to the user before stop being accepted.")
    static final class Passwd extends AuthCommands.Leaf {
        @Parameters(index = "0", paramLabel = "NAME", description = "The user.")
        String name;

        @Option(names = "--password-file", paramLabel = "FILE",
                description = "Read the password from the first line of FILE instead of asking for it.")
        Path file;

        @Override
        void run(PrintWriter out) {
            Duration timeout = servers.timeout();
            String secret = file != null ? AuthCommands.passwordFromFile(spec.commandLine(), file)
                    : AuthCommands.promptPassword(spec.commandLine(), group.context.consoles(), name,
                            "--password-file FILE (its first line is the password)");
            change(ChangeAuthRequest.newBuilder().setUserPassword(
                    UserPassword.newBuilder().setName(name).setPassword(secret)), timeout);
            out.println("Password of " + name + " changed; tokens issued to it before are no longer accepted.");
        }
    }

    /** A user and one of its roles, given or taken. */
    abstract static class RoleOfUser extends AuthCommands.Leaf {
        @Parameters(index = "0", paramLabel = "NAME", description = "The user.")
        String name;

        @Parameters(index = "1", paramLabel = "ROLE", description = "The role.")
        String role;

        /** The change of the user's role. */
        abstract ChangeAuthRequest.Builder request(UserRole userRole);

        /** What the change did, for the output. */
        abstract String done();

        @Override
        void run(PrintWriter out) {
            AuthDescription after = change(request(UserRole.newBuilder().setUser(name).setRole(role).build()),
                    servers.timeout());
            out.println("User " + name + " " + done() + " " + role + "; roles now: " + rolesOf(after, name) + ".");
        }
    }

    @Command(name = "grant", description = "Give a user a role. It applies to the user's next call.")
    static final class Grant extends RoleOfUser {
        @Override
        ChangeAuthRequest.Builder request(UserRole userRole) {
            return ChangeAuthRequest.newBuilder().setUserGrant(userRole);
        }

        @Override
        String done() {
            return "granted role";
        }
    }

    @Command(name = "revoke", description = "Take a role from a user. It applies to the user's next call.")
    static final class Revoke extends RoleOfUser {
        @Override
        ChangeAuthRequest.Builder request(UserRole userRole) {
            return ChangeAuthRequest.newBuilder().setUserRevoke(userRole);
        }

        @Override
        String done() {
            return "no longer has role";
        }
    }

    @Command(name = "list", description = "List the users: name, roles, and whether each has a password.")
    static final class ListUsers extends AuthCommands.Leaf {
        @Option(names = "--json", description = "Print the users and roles as JSON (message AuthDescription of auth.proto).")
        boolean json;

        @Override
        void run(PrintWriter out) throws InvalidProtocolBufferException {
            AuthDescription d = describe();
            out.print(json ? AuthCommands.json(d) + "\n" : AuthCommands.users(d));
        }
    }

    private static String rolesOf(AuthDescription d, String name) {
        UserDescription user = AuthCommands.user(d, name);
        return user == null || user.getRolesCount() == 0 ? "none" : String.join(", ", user.getRolesList());
    }
}
