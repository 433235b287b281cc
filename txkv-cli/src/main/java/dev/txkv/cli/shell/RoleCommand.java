package dev.txkv.cli.shell;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.txkv.proto.AuthDescription;
import dev.txkv.proto.ChangeAuthRequest;
import dev.txkv.proto.Permission;
import dev.txkv.proto.RoleChange;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code txkv role add|delete|grant|revoke|list}: the roles of a cluster (service Auth of
 * auth.proto). A role grants read, write or both on key ranges or key prefixes, and the cluster
 * rights status and admin.
 */
@Command(name = "role",
        description = "Add, delete and list the roles of a txkv cluster, and grant them keys (read, write, readwrite on"
                + " a prefix or a range) or cluster rights (status, admin). Needs the admin right once authorization"
                + " is on (txkv auth).",
        synopsisSubcommandLabel = "COMMAND",
        subcommands = {RoleCommand.Add.class, RoleCommand.Delete.class, RoleCommand.Grant.class,
            RoleCommand.Revoke.class, RoleCommand.ListRoles.class},
        footer = {
            "",
            "Keys are written as the shell writes them: printable ASCII as is, \\xNN for a byte.",
            "",
            "Examples:",
            "  txkv role add orders",
            "  txkv role grant orders readwrite orders/       # keys starting with orders/",
            "  txkv role grant orders read catalog/a catalog/n   # [catalog/a, catalog/n)",
            "  txkv role grant orders status",
            "  txkv role revoke orders read catalog/a catalog/n",
            "  txkv role list"})
public final class RoleCommand extends AuthCommands.Group {
    /** As {@code txkv role}: the remote client. */
    public RoleCommand() {
        this(AuthCommands.Context.launcher());
    }

    RoleCommand(AuthCommands.Context context) {
        super(context);
    }

    /** What {@code role grant} and {@code role revoke} take: a mode on keys, or a cluster right. */
    enum Right {
        READ(Permission.Mode.READ),
        WRITE(Permission.Mode.WRITE),
        READWRITE(Permission.Mode.READWRITE),
        STATUS(null),
        ADMIN(null);

        /** The mode on keys; null for a cluster right. */
        final Permission.Mode mode;

        Right(Permission.Mode mode) {
            this.mode = mode;
        }

        String word() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Reads the lower-case words, as typed. */
        static final class Converter implements ITypeConverter<Right> {
            @Override
            public Right convert(String value) {
                for (Right right : values()) {
                    if (right.word().equals(value.toLowerCase(Locale.ROOT))) {
                        return right;
                    }
                }
                throw new TypeConversionException("expected read, write, readwrite, status or admin, got '" + value + "'");
            }
        }

        /** The words, for the help. */
        static final class Words implements Iterable<String> {
            @Override
            public Iterator<String> iterator() {
                return Arrays.stream(values()).map(Right::word).iterator();
            }
        }
    }

    @Command(name = "add", description = "Add a role, granting nothing yet.")
    static final class Add extends AuthCommands.Leaf {
        @Parameters(index = "0", paramLabel = "ROLE",
                description = "1 to 64 letters, digits, '.', '_', '@' or '-', beginning with a letter or digit.")
        String role;

        @Override
        void run(PrintWriter out) {
            change(ChangeAuthRequest.newBuilder().setRoleAdd(role), servers.timeout());
            out.println("Role " + role + " added; it grants nothing yet (txkv role grant " + role + " ...).");
        }
    }

    @Command(name = "delete", description = "Delete a role; the users that have it lose it.")
    static final class Delete extends AuthCommands.Leaf {
        @Parameters(index = "0", paramLabel = "ROLE", description = "The role (not a built-in one).")
        String role;

        @Override
        void run(PrintWriter out) {
            change(ChangeAuthRequest.newBuilder().setRoleDelete(role), servers.timeout());
            out.println("Role " + role + " deleted; no user has it any more.");
        }
    }

    /** What grant and revoke share: one permission or one cluster right of one role. */
    abstract static class Change extends AuthCommands.Leaf {
        @Parameters(index = "0", paramLabel = "ROLE", description = "The role (not a built-in one).")
        String role;

        @Parameters(index = "1", paramLabel = "RIGHT", converter = Right.Converter.class,
                completionCandidates = Right.Words.class,
                description = "read, write or readwrite on keys from BEGIN; or the cluster right status (cluster status"
                        + " and metrics) or admin (users, roles, members, splits).")
        Right right;

        @Parameters(index = "2", arity = "0..1", paramLabel = "BEGIN",
                description = "The first key; without END, every key that starts with BEGIN (\"\" for every key).")
        String begin;

        @Parameters(index = "3", arity = "0..1", paramLabel = "END", description = "The end of the range, excluded.")
        String end;

        /** True for grant, false for revoke. */
        abstract boolean grant();

        @Override
        final void run(PrintWriter out) {
            Duration timeout = servers.timeout();
            RoleChange.Builder change = RoleChange.newBuilder().setRole(role);
            String what;
            if (right.mode == null) {
                if (begin != null) {
                    throw usage("The cluster right " + right.word() + " takes no keys, got '" + begin + "'");
                }
                change.setClusterRight(right.word());
                what = "the " + right.word() + " right";
            } else {
                if (begin == null) {
                    throw usage(right.word() + " needs the keys: BEGIN (a prefix) or BEGIN END (a range)");
                }
                Permission.Builder p = Permission.newBuilder().setMode(right.mode)
                        .setBegin(ByteString.copyFrom(AuthCommands.key(spec.commandLine(), "BEGIN", begin, true)));
                if (end != null) {
                    p.setEnd(ByteString.copyFrom(AuthCommands.key(spec.commandLine(), "END", end, false)));
                }
                change.setPermission(p);
                what = AuthCommands.permission(p.build());
            }
            ChangeAuthRequest.Builder request = ChangeAuthRequest.newBuilder();
            if (grant()) {
                request.setRoleGrant(change);
            } else {
                request.setRoleRevoke(change);
            }
            change(request, timeout);
            out.println(grant() ? "Role " + role + " granted " + what + "." : "Role " + role + " no longer has " + what + ".");
        }
    }

    @Command(name = "grant",
            description = {"Grant a role read, write or readwrite on a prefix (BEGIN) or a range [BEGIN, END) of keys, or a"
                    + " cluster right.",
                "  role grant ROLE read|write|readwrite BEGIN [END]",
                "  role grant ROLE status|admin"})
    static final class Grant extends Change {
        @Override
        boolean grant() {
            return true;
        }
    }

    @Command(name = "revoke",
            description = {"Take back from a role what grant gave it, named the same way (mode, BEGIN and END as granted).",
                "  role revoke ROLE read|write|readwrite BEGIN [END]",
                "  role revoke ROLE status|admin"})
    static final class Revoke extends Change {
        @Override
        boolean grant() {
            return false;
        }
    }

    @Command(name = "list",
            description = "List the roles, each with its permissions (mode and keys: a prefix or BEGIN..END) and cluster"
                    + " rights; built-in roles are marked.")
    static final class ListRoles extends AuthCommands.Leaf {
        @Option(names = "--json", description = "Print the users and roles as JSON (message AuthDescription of auth.proto).")
        boolean json;

        @Override
        void run(PrintWriter out) throws InvalidProtocolBufferException {
            AuthDescription d = describe();
            out.print(json ? AuthCommands.json(d) + "\n" : AuthCommands.roles(d));
        }
    }
}
