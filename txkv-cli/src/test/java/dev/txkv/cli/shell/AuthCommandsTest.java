package dev.txkv.cli.shell;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.cli.Main;
import dev.txkv.proto.AuthDescription;
import dev.txkv.proto.ChangeAuthRequest;
import dev.txkv.proto.Permission;
import dev.txkv.proto.RoleChange;
import dev.txkv.proto.RoleDescription;
import dev.txkv.proto.UserDescription;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code txkv user}, {@code txkv role} and {@code txkv auth}, and the same commands in the shell,
 * against a fake remote client that records the requests they build.
 */
class AuthCommandsTest {
    private static final String CLUSTER = "10.0.0.1:4500";

    @TempDir
    Path dir;

    /** Records the changes it is sent and answers with {@link #description}, or fails with {@link #failure}. */
    private static final class FakeProvider extends AdminProviderStub {
        final List<ChangeAuthRequest> changes = new ArrayList<>();
        final List<String> connections = new ArrayList<>();
        final List<Duration> timeouts = new ArrayList<>();
        AuthDescription description = AuthDescription.getDefaultInstance();
        TxkvException failure;






        @Override
        public byte[] changeAuth(String connection, byte[] request, Duration timeout) {
            connections.add(connection);
            timeouts.add(timeout);
            try {
                changes.add(ChangeAuthRequest.parseFrom(request));
            } catch (InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            }
            if (failure != null) {
                throw failure;
            }
            return description.toByteArray();
        }

        @Override
        public byte[] describeAuth(String connection, Duration timeout) {
            connections.add(connection);
            timeouts.add(timeout);
            if (failure != null) {
                throw failure;
            }
            return description.toByteArray();
        }

        ChangeAuthRequest onlyChange() {
            assertThat(changes).hasSize(1);
            assertThat(changes.get(0).getProtocolVersion()).isEqualTo(AuthCommands.PROTOCOL_VERSION);
            return changes.get(0);
        }
    }

    /** Answers prompts from a queue and records them; null stands for "no console". */
    private static final class FakeConsole implements AuthCommands.PasswordConsole {
        final Deque<String> answers = new ArrayDeque<>();
        final List<String> prompts = new ArrayList<>();

        FakeConsole(String... answers) {
            this.answers.addAll(List.of(answers));
        }

        @Override
        public char[] readPassword(String prompt) {
            prompts.add(prompt);
            String answer = answers.poll();
            return answer == null ? null : answer.toCharArray();
        }
    }

    private final FakeProvider provider = new FakeProvider();

    /** Runs {@code txkv ARGS} as the launcher would, with the fake remote client and {@code console}. */
    private CliRun txkv(FakeConsole console, String... args) {
        AuthCommands.Context context = new AuthCommands.Context(
                cluster -> new RemoteStatusSource(cluster == null ? ShellCommand.CLUSTER_DEFAULT : cluster, List.of(provider)),
                () -> console);
        return CliRun.run(List.of(new UserCommand(context), new RoleCommand(context), new AuthCommand(context)), args);
    }

    private CliRun txkv(String... args) {
        return txkv(null, args);
    }

    private Path passwordFile(String content) throws IOException {
        Path file = dir.resolve("password");
        Files.writeString(file, content);
        return file;
    }

    private static ByteString bytes(String s) {
        return ByteString.copyFrom(s.getBytes(ISO_8859_1));
    }

    private static Permission permission(Permission.Mode mode, String begin, String end) {
        return Permission.newBuilder().setMode(mode).setBegin(bytes(begin)).setEnd(bytes(end)).build();
    }

    private void assertOk(CliRun run) {
        assertThat(run.exitCode()).as(run.err()).isEqualTo(Main.EXIT_OK);
        assertThat(run.err()).isEmpty();
    }

    private void assertRefused(CliRun run, int exitCode, String... messages) {
        assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(exitCode);
        assertThat(run.err()).contains(messages);
        assertThat(provider.changes).as("nothing is sent").isEmpty();
    }

    // ---------------------------------------------------------------- user

    @Test
    void userAddReadsThePasswordFromTheFirstLineOfAFile() throws IOException {
        Path file = passwordFile("correct horse battery\nnot this line\n");
        CliRun run = txkv("user", "add", "alice", "--role", "orders", "-r", "monitor", "--password-file", file.toString(),
                "-C", CLUSTER);
        assertOk(run);
        ChangeAuthRequest change = provider.onlyChange();
        assertThat(change.getChangeCase()).isEqualTo(ChangeAuthRequest.ChangeCase.USER_ADD);
        assertThat(change.getUserAdd().getName()).isEqualTo("alice");
        assertThat(change.getUserAdd().getPassword()).isEqualTo("correct horse battery");
        assertThat(change.getUserAdd().getRolesList()).containsExactly("orders", "monitor");
        assertThat(provider.connections).containsExactly(CLUSTER);
        assertThat(provider.timeouts).containsExactly(Duration.ofMillis(AuthCommands.TIMEOUT_MS_DEFAULT));
        assertThat(run.out()).isEqualTo("User alice added; roles: orders, monitor; signs in with a password.\n");
    }

    @Test
    void userAddWithoutPasswordMakesACertificateOnlyUser() {
        CliRun run = txkv("user", "add", "backup", "--no-password", "--timeout", "2500");
        assertOk(run);
        ChangeAuthRequest change = provider.onlyChange();
        assertThat(change.getUserAdd().getName()).isEqualTo("backup");
        assertThat(change.getUserAdd().getPassword()).isEmpty();
        assertThat(change.getUserAdd().getRolesList()).isEmpty();
        assertThat(provider.connections).containsExactly(ShellCommand.CLUSTER_DEFAULT);
        assertThat(provider.timeouts).containsExactly(Duration.ofMillis(2500));
        assertThat(run.out()).contains("no password (client certificate only)");
    }

    @Test
    void userAddAsksTwiceOnTheConsole() {
        FakeConsole console = new FakeConsole("typed-twice-secret", "typed-twice-secret");
        CliRun run = txkv(console, "user", "add", "root", "--role", "root");
        assertOk(run);
        assertThat(provider.onlyChange().getUserAdd().getPassword()).isEqualTo("typed-twice-secret");
        assertThat(console.prompts).containsExactly("Password for root: ", "Repeat the password: ");
    }

    @Test
    void userAddWithoutConsoleOrFileIsRefused() {
        assertRefused(txkv("user", "add", "root", "--role", "root"), Main.EXIT_USAGE,
                "txkv: No console to type the password of root on", "--password-file FILE", "--no-password",
                "Run 'txkv user add --help' for usage.");
    }

    @Test
    void differentOrEmptyTypedPasswordsAreRefused() {
        assertRefused(txkv(new FakeConsole("first-secret-1", "other-secret-2"), "user", "add", "root"),
                Main.EXIT_FAILURE, "txkv user add: The two passwords differ; nothing was changed");
        assertRefused(txkv(new FakeConsole("", ""), "user", "add", "root"),
                Main.EXIT_FAILURE, "The password is empty", "--no-password");
        assertRefused(txkv(new FakeConsole(), "user", "passwd", "root"),
                Main.EXIT_FAILURE, "No password typed (end of input)");
    }

    @Test
    void passwordFileProblemsAreUsageErrors() throws IOException {
        Path empty = passwordFile("\nsecond line\n");
        assertRefused(txkv("user", "add", "a", "--password-file", empty.toString()), Main.EXIT_USAGE,
                "The first line of " + empty + " is empty");
        assertRefused(txkv("user", "add", "a", "--password-file", dir.resolve("missing").toString()), Main.EXIT_USAGE,
                "Cannot read the password file", "no such file");
        assertRefused(txkv("user", "add", "a", "--password-file", empty.toString(), "--no-password"), Main.EXIT_USAGE,
                "mutually exclusive");
    }

    @Test
    void aPasswordIsNeverTakenFromTheCommandLine() {
        assertRefused(txkv("user", "add", "a", "--password", "secret-on-the-line"), Main.EXIT_USAGE, "Unknown option");
        assertRefused(txkv("user", "add", "a", "secret-on-the-line", "--no-password"), Main.EXIT_USAGE, "Unmatched argument");
        assertRefused(txkv("user", "passwd", "a", "secret-on-the-line"), Main.EXIT_USAGE, "Unmatched argument");
        assertThat(txkv("user", "add", "--help").out()).contains("--password-file=FILE", "--no-password")
                .doesNotContain("--password=", "--password ");
    }

    @Test
    void userDeletePasswdGrantRevoke() throws IOException {
        provider.description = AuthDescription.newBuilder()
                .addUsers(UserDescription.newBuilder().setName("alice").addRoles("orders").addRoles("monitor")).build();
        assertOk(txkv("user", "delete", "bob"));
        assertOk(txkv("user", "passwd", "alice", "--password-file", passwordFile("a-new-long-password\n").toString()));
        assertOk(txkv(new FakeConsole("typed-new-password", "typed-new-password"), "user", "passwd", "carol"));
        CliRun grant = txkv("user", "grant", "alice", "monitor");
        assertOk(grant);
        assertOk(txkv("user", "revoke", "alice", "orders"));
        assertThat(provider.changes).extracting(ChangeAuthRequest::getProtocolVersion).containsOnly(1);
        assertThat(provider.changes.get(0).getUserDelete()).isEqualTo("bob");
        assertThat(provider.changes.get(1).getUserPassword().getName()).isEqualTo("alice");
        assertThat(provider.changes.get(1).getUserPassword().getPassword()).isEqualTo("a-new-long-password");
        assertThat(provider.changes.get(2).getUserPassword().getName()).isEqualTo("carol");
        assertThat(provider.changes.get(2).getUserPassword().getPassword()).isEqualTo("typed-new-password");
        assertThat(provider.changes.get(3).getUserGrant().getUser()).isEqualTo("alice");
        assertThat(provider.changes.get(3).getUserGrant().getRole()).isEqualTo("monitor");
        assertThat(provider.changes.get(4).getUserRevoke().getUser()).isEqualTo("alice");
        assertThat(provider.changes.get(4).getUserRevoke().getRole()).isEqualTo("orders");
        assertThat(grant.out()).isEqualTo("User alice granted role monitor; roles now: orders, monitor.\n");
    }

    @Test
    void userPasswdWithoutConsoleOrFileIsRefused() {
        assertRefused(txkv("user", "passwd", "alice"), Main.EXIT_USAGE, "No console", "--password-file FILE");
    }

    // ---------------------------------------------------------------- role

    @Test
    void roleAddAndDelete() {
        assertOk(txkv("role", "add", "orders"));
        assertOk(txkv("role", "delete", "orders"));
        assertThat(provider.changes.get(0).getRoleAdd()).isEqualTo("orders");
        assertThat(provider.changes.get(1).getRoleDelete()).isEqualTo("orders");
    }

    @Test
    void roleGrantWithoutEndIsAPrefix() {
        CliRun run = txkv("role", "grant", "orders", "readwrite", "orders/");
        assertOk(run);
        RoleChange grant = provider.onlyChange().getRoleGrant();
        assertThat(grant.getRole()).isEqualTo("orders");
        assertThat(grant.getClusterRight()).isEmpty();
        assertThat(grant.getPermission()).isEqualTo(permission(Permission.Mode.READWRITE, "orders/", ""));
        assertThat(run.out()).isEqualTo("Role orders granted readwrite on prefix orders/.\n");
    }

    @Test
    void roleGrantWithEndIsARangeAndKeysAreWrittenAsTheShellWritesThem() {
        CliRun run = txkv("role", "grant", "orders", "READ", "catalog/\\x00", "catalog/\\xff z");
        assertOk(run);
        assertThat(provider.onlyChange().getRoleGrant().getPermission())
                .isEqualTo(permission(Permission.Mode.READ, "catalog/\u0000", "catalog/\u00ff z"));
        assertThat(run.out()).isEqualTo("Role orders granted read on catalog/\\x00..catalog/\\xff\\ z.\n");
    }

    @Test
    void anEmptyBeginWithoutEndIsEveryKey() {
        assertOk(txkv("role", "grant", "all", "write", ""));
        assertOk(txkv("role", "grant", "all", "write", "\"\"", "m"));
        assertThat(provider.changes.get(0).getRoleGrant().getPermission()).isEqualTo(permission(Permission.Mode.WRITE, "", ""));
        assertThat(provider.changes.get(1).getRoleGrant().getPermission()).isEqualTo(permission(Permission.Mode.WRITE, "", "m"));
    }

    @Test
    void roleGrantAndRevokeClusterRights() {
        assertOk(txkv("role", "grant", "ops", "status"));
        assertOk(txkv("role", "grant", "ops", "admin"));
        CliRun revoke = txkv("role", "revoke", "ops", "admin");
        assertOk(revoke);
        assertThat(provider.changes.get(0).getRoleGrant().getClusterRight()).isEqualTo("status");
        assertThat(provider.changes.get(0).getRoleGrant().hasPermission()).isFalse();
        assertThat(provider.changes.get(1).getRoleGrant().getClusterRight()).isEqualTo("admin");
        assertThat(provider.changes.get(2).getChangeCase()).isEqualTo(ChangeAuthRequest.ChangeCase.ROLE_REVOKE);
        assertThat(provider.changes.get(2).getRoleRevoke().getRole()).isEqualTo("ops");
        assertThat(provider.changes.get(2).getRoleRevoke().getClusterRight()).isEqualTo("admin");
        assertThat(revoke.out()).isEqualTo("Role ops no longer has the admin right.\n");
    }

    @Test
    void roleRevokeTakesThePermissionAsGranted() {
        assertOk(txkv("role", "revoke", "orders", "read", "catalog/"));
        assertOk(txkv("role", "revoke", "orders", "write", "a", "b"));
        assertThat(provider.changes.get(0).getRoleRevoke().getPermission())
                .isEqualTo(permission(Permission.Mode.READ, "catalog/", ""));
        assertThat(provider.changes.get(1).getRoleRevoke().getPermission())
                .isEqualTo(permission(Permission.Mode.WRITE, "a", "b"));
    }

    @Test
    void badRoleGrantsAreUsageErrors() {
        assertRefused(txkv("role", "grant", "ops", "status", "a"), Main.EXIT_USAGE, "The cluster right status takes no keys");
        assertRefused(txkv("role", "grant", "ops", "read"), Main.EXIT_USAGE, "read needs the keys");
        assertRefused(txkv("role", "grant", "ops", "execute", "a"), Main.EXIT_USAGE,
                "expected read, write, readwrite, status or admin, got 'execute'");
        assertRefused(txkv("role", "grant", "ops", "read", "a", ""), Main.EXIT_USAGE, "END must be one non-empty key");
        assertRefused(txkv("role", "grant", "ops", "read", "a\\x4"), Main.EXIT_USAGE, "Bad BEGIN: Bad byte escape");
        assertRefused(txkv("role", "revoke", "ops", "read", "a", "b", "c"), Main.EXIT_USAGE, "Unmatched argument");
        assertRefused(txkv("role", "grant", "ops", "read", "a", "--timeout", "0"), Main.EXIT_USAGE,
                "--timeout must be positive");
    }

    // ---------------------------------------------------------------- auth

    @Test
    void authEnableAndDisable() {
        CliRun enable = txkv("auth", "enable");
        assertOk(enable);
        assertOk(txkv("auth", "disable"));
        assertThat(provider.changes.get(0).getChangeCase()).isEqualTo(ChangeAuthRequest.ChangeCase.SET_ENABLED);
        assertThat(provider.changes.get(0).getSetEnabled()).isTrue();
        assertThat(provider.changes.get(1).getChangeCase()).isEqualTo(ChangeAuthRequest.ChangeCase.SET_ENABLED);
        assertThat(provider.changes.get(1).getSetEnabled()).isFalse();
        assertThat(enable.out()).contains("Authorization enabled", "TXKV_USER", "TXKV_PASSWORD_FILE", "TXKV_TOKEN_FILE");
    }

    @Test
    void aGroupWithoutSubcommandIsAUsageError() {
        assertRefused(txkv("auth"), Main.EXIT_USAGE, "Missing required subcommand");
    }

    // ---------------------------------------------------------------- errors and listings

    @Test
    void serverErrorsPrintTheirNameAndCode() {
        provider.failure = new TxkvException(ErrorCode.PERMISSION_DENIED, "User 'bob' lacks the admin right");
        CliRun change = txkv("role", "add", "orders");
        assertThat(change.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(change.err()).startsWith("txkv role add: permission_denied (6000): User 'bob' lacks the admin right\n");
        CliRun list = txkv("user", "list");
        assertThat(list.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(list.err()).startsWith("txkv user list: permission_denied (6000)");
        assertThat(list.out()).isEmpty();
    }

    static AuthDescription sample() {
        return AuthDescription.newBuilder().setEnabled(true)
                .addUsers(UserDescription.newBuilder().setName("backup").addRoles("monitor"))
                .addUsers(UserDescription.newBuilder().setName("orders").addRoles("orders").setHasPassword(true))
                .addUsers(UserDescription.newBuilder().setName("root").addRoles("root").setHasPassword(true))
                .addUsers(UserDescription.newBuilder().setName("visitor").setHasPassword(true))
                .addRoles(RoleDescription.newBuilder().setName("empty"))
                .addRoles(RoleDescription.newBuilder().setName("monitor").setBuiltIn(true).addClusterRights("status"))
                .addRoles(RoleDescription.newBuilder().setName("orders")
                        .addPermissions(permission(Permission.Mode.READWRITE, "orders/", ""))
                        .addPermissions(permission(Permission.Mode.READ, "catalog/", ""))
                        .addPermissions(permission(Permission.Mode.WRITE, "a b", "\u00ff"))
                        .addClusterRights("status"))
                .addRoles(RoleDescription.newBuilder().setName("root").setBuiltIn(true)
                        .addPermissions(permission(Permission.Mode.READWRITE, "", "\u00ff"))
                        .addClusterRights("status").addClusterRights("admin"))
                .build();
    }

    @Test
    void userListIsATable() {
        provider.description = sample();
        CliRun run = txkv("user", "list");
        assertOk(run);
        assertThat(run.out()).isEqualTo(""
                + "NAME     ROLES    PASSWORD\n"
                + "backup   monitor  no\n"
                + "orders   orders   yes\n"
                + "root     root     yes\n"
                + "visitor  -        yes\n");
        provider.description = AuthDescription.getDefaultInstance();
        assertThat(txkv("user", "list").out()).isEqualTo("No users (txkv user add NAME adds one).\n");
    }

    @Test
    void roleListShowsPermissionsRightsAndBuiltIns() {
        provider.description = sample();
        CliRun run = txkv("role", "list");
        assertOk(run);
        assertThat(run.out()).isEqualTo(""
                + "empty\n"
                + "  (nothing granted)\n"
                + "monitor (built in)\n"
                + "  cluster rights  status\n"
                + "orders\n"
                + "  readwrite       prefix orders/\n"
                + "  read            prefix catalog/\n"
                + "  write           a\\ b..\\xff\n"
                + "  cluster rights  status\n"
                + "root (built in)\n"
                + "  readwrite       \"\"..\\xff\n"
                + "  cluster rights  status, admin\n");
    }

    @Test
    void authStatusCountsUsersAndRoles() {
        provider.description = sample();
        CliRun run = txkv("auth", "status");
        assertOk(run);
        assertThat(run.out()).isEqualTo(""
                + "Authorization: enabled\n"
                + "Users:         4 (3 with a password)\n"
                + "Roles:         4 (2 built in)\n");
        provider.description = AuthDescription.newBuilder().addRoles(RoleDescription.newBuilder().setName("root").setBuiltIn(true)).build();
        assertThat(txkv("auth", "status").out()).startsWith(""
                + "Authorization: disabled\n"
                + "Users:         0 (0 with a password)\n"
                + "Roles:         1 (1 built in)\n"
                + "Every client may do everything; txkv auth enable");
    }

    @Test
    void listsPrintJsonWhenAsked() {
        provider.description = sample();
        for (String[] args : List.of(new String[] {"user", "list", "--json"}, new String[] {"role", "list", "--json"},
                new String[] {"auth", "status", "--json"})) {
            CliRun run = txkv(args);
            assertOk(run);
            assertThat(run.out()).startsWith("{").contains("\"enabled\": true", "\"has_password\": true", "\"built_in\": true");
        }
    }

    // ---------------------------------------------------------------- the launcher and the shell

    @Test
    void theLauncherHasTheCommands() {
        CommandLine launcher = Main.commandLine();
        assertThat(launcher.getSubcommands()).containsKeys("user", "role", "auth");
        assertThat(launcher.getSubcommands().get("user").getSubcommands())
                .containsOnlyKeys("add", "delete", "passwd", "grant", "revoke", "list");
        assertThat(launcher.getSubcommands().get("role").getSubcommands())
                .containsOnlyKeys("add", "delete", "grant", "revoke", "list");
        assertThat(launcher.getSubcommands().get("auth").getSubcommands()).containsOnlyKeys("enable", "disable", "status");
        StringWriter help = new StringWriter();
        launcher.setOut(new PrintWriter(help));
        assertThat(launcher.execute("role", "grant", "--help")).isEqualTo(Main.EXIT_OK);
        assertThat(help.toString()).contains("Usage: txkv role grant", "--cluster", "--timeout", "BEGIN", "END");
    }

    /** A shell whose status source is the fake remote client; its database is never used. */
    private Shell shell(StringWriter printed) {
        Database unused = (Database) Proxy.newProxyInstance(Database.class.getClassLoader(),
                new Class<?>[] {Database.class}, (proxy, method, args) -> {
                    throw new AssertionError("the database is not used: " + method);
                });
        return new Shell(unused, new PrintWriter(printed), new RemoteStatusSource(CLUSTER, List.of(provider)), 1000);
    }

    @Test
    void theShellRunsTheSameCommandsAgainstItsCluster() {
        provider.description = sample();
        StringWriter printed = new StringWriter();
        Shell shell = shell(printed);
        boolean ok = shell.execute("user add bob --no-password --role orders; role grant orders read \\xff\\x00 \"a b\";"
                + " role grant orders write \"x;y\"; role revoke orders readwrite a\\\\b; auth status; user list");
        String out = printed.toString().replace(System.lineSeparator(), "\n");
        assertThat(ok).as(out).isTrue();
        assertThat(provider.changes).hasSize(4);
        assertThat(provider.changes.get(0).getUserAdd().getName()).isEqualTo("bob");
        assertThat(provider.changes.get(0).getUserAdd().getRolesList()).containsExactly("orders");
        assertThat(provider.changes.get(1).getRoleGrant().getPermission())
                .isEqualTo(permission(Permission.Mode.READ, "\u00ff\u0000", "a b"));
        assertThat(provider.changes.get(2).getRoleGrant().getPermission())
                .isEqualTo(permission(Permission.Mode.WRITE, "x;y", ""));
        assertThat(provider.changes.get(3).getRoleRevoke().getPermission())
                .isEqualTo(permission(Permission.Mode.READWRITE, "a\\b", ""));
        assertThat(provider.connections).containsOnly(CLUSTER);
        assertThat(out).contains("User bob added", "Role orders granted read on \\xff\\x00..a\\ b.",
                "Authorization: enabled", "visitor  -        yes");
    }

    @Test
    void theShellPrintsErrorsAndGoesOn() {
        StringWriter printed = new StringWriter();
        Shell shell = shell(printed);
        provider.failure = new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "No role 'nope' (txkv role list shows them)");
        boolean ok = shell.execute("user grant bob nope; role grant r status x; user add bob; user; help user");
        String out = printed.toString().replace(System.lineSeparator(), "\n");
        assertThat(ok).isFalse();
        assertThat(out).contains(
                "ERROR: invalid_option_value (2006): No role 'nope' (txkv role list shows them)\n",
                "ERROR: The cluster right status takes no keys, got 'x' (`role grant --help' shows the usage)\n",
                "ERROR: Missing required subcommand (`user --help' shows the usage)\n",
                ShellCommandInfo.USER.usage());
        // Without a console (as in tests), a typed password cannot be asked for.
        assertThat(out).contains("ERROR: No console to type the password of bob on");
        assertThat(provider.changes).hasSize(1);
    }

    @Test
    void aServerErrorLeavesTheShellsTransactionOpen() {
        StringWriter printed = new StringWriter();
        Database db = (Database) Proxy.newProxyInstance(Database.class.getClassLoader(), new Class<?>[] {Database.class},
                (proxy, method, args) -> method.getName().equals("createTransaction") ? openTransaction() : null);
        Shell shell = new Shell(db, new PrintWriter(printed), new RemoteStatusSource(CLUSTER, List.of(provider)), 0);
        provider.failure = new TxkvException(ErrorCode.PERMISSION_DENIED, "no admin right");
        assertThat(shell.execute("begin; role list")).isFalse();
        assertThat(printed.toString()).contains("ERROR: permission_denied (6000): no admin right")
                .doesNotContain("Rolling back");
        assertThat(shell.inTransaction()).isTrue();
    }

    /** A transaction that accepts options and closing, enough for begin. */
    private static dev.txkv.Transaction openTransaction() {
        dev.txkv.TransactionOptions options = new dev.txkv.TransactionOptions();
        return (dev.txkv.Transaction) Proxy.newProxyInstance(Database.class.getClassLoader(),
                new Class<?>[] {dev.txkv.Transaction.class},
                (proxy, method, args) -> method.getName().equals("options") ? options : null);
    }

    @Test
    void theShellShowsTheHelpOfTheCommands() {
        StringWriter printed = new StringWriter();
        shell(printed).execute("user add --help");
        assertThat(printed.toString()).contains("Usage: user add", "--password-file", "--no-password", "--role");
    }

    @Test
    void aShellWithoutAServerRefuses() {
        StringWriter printed = new StringWriter();
        Database unused = (Database) Proxy.newProxyInstance(Database.class.getClassLoader(),
                new Class<?>[] {Database.class}, (proxy, method, args) -> null);
        Shell shell = new Shell(unused, new PrintWriter(printed), StatusSource.unavailable("no server"), 1000);
        assertThat(shell.execute("auth status")).isFalse();
        assertThat(printed.toString()).contains("ERROR: Users and roles need a server");
    }

    @Test
    void splitStillReadsItsKeyTheSameWay() {
        CommandLine launcher = Main.commandLine();
        StringWriter err = new StringWriter();
        launcher.setErr(new PrintWriter(err));
        assertThat(launcher.execute("split", "a\\x4")).isEqualTo(Main.EXIT_USAGE);
        assertThat(launcher.execute("split", "")).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).contains("Bad KEY: Bad byte escape", "KEY must be one non-empty key, got ''");
    }
}
