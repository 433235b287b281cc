package dev.txkv.check;

import com.google.protobuf.ByteString;
import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.Transaction;
import dev.txkv.TxkvException;
import dev.txkv.proto.AuthDescription;
import dev.txkv.proto.ChangeAuthRequest;
import dev.txkv.proto.Permission;
import dev.txkv.proto.RoleChange;
import dev.txkv.proto.RoleDescription;
import dev.txkv.proto.UserAdd;
import dev.txkv.proto.UserDescription;
import dev.txkv.remote.RemoteStatus;
import dev.txkv.testkit.FirstByteSpread;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Authorization for a secure run (docs/security.md, "Users, roles and authorization"): once the
 * cluster is up and before traffic starts, {@link #enable} makes user {@code root} and, per
 * workload, a role with readwrite on that workload's keys only and a user with that role; a
 * user {@value #MONITOR_USER} with the built-in role {@code monitor} (status) and role
 * {@value #PROBE_ROLE} (the harness's probe keys); then turns authorization on. Every password
 * is random, made for the run, kept in a file of mode 600 under {@code DIR/auth} and never
 * printed. Each change is retried (not_leader while a leader is elected, a conflict, no answer)
 * until it is in force or {@link #CHANGE_WAIT_MS} has passed.
 *
 * <p>The harness's status calls go through {@link RemoteStatus}, which takes its credentials
 * from the system properties {@code txkv.user} and {@code txkv.passwordFile}:
 * {@link #useForStatusCalls} sets them for the run and {@link #restoreStatusProperties} puts
 * back what was there before.
 */
final class CheckAuth {
    static final String ROOT = "root";
    static final String MONITOR_USER = "check-monitor";
    /** The built-in role with the status right only. */
    static final String MONITOR_ROLE = "monitor";
    static final String PROBE_ROLE = "check-probes";
    /** Longest a single change is retried. */
    static final long CHANGE_WAIT_MS = 30_000;
    /** Longest the members may take to enforce the record after it is turned on. */
    static final long ENFORCED_WAIT_MS = 30_000;
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    private static final long RETRY_PAUSE_MS = 200;
    /** Most key-range permissions a role keeps (the servers' limit). */
    static final int PERMISSIONS_PER_ROLE_MAX = 100;
    private static final String USER_PROPERTY = "txkv.user";
    private static final String PASSWORD_FILE_PROPERTY = "txkv.passwordFile";
    /** The key outside every grant that the bank's user tries to write at the end. */
    static final byte[] OUTSIDE_EVERY_GRANT = "check/outside-every-grant".getBytes(StandardCharsets.US_ASCII);
    static final long PROBE_WAIT_MS = 20_000;

    /** A user and its password; {@link #toString} names the user only. */
    static final class Login {
        private final String user;
        private final String password;
        private final Path file;

        private Login(String user, String password, Path file) {
            this.user = user;
            this.password = password;
            this.file = file;
        }

        String user() {
            return user;
        }

        String password() {
            return password;
        }

        /** The file (mode 600) whose only line is the password. */
        Path file() {
            return file;
        }

        @Override
        public String toString() {
            return user;
        }
    }

    /** A workload's user: its name (also its roles' names) and the key prefixes it may read and write. */
    record WorkloadGrant(String workload, String user, List<byte[]> prefixes) {
    }

    private final Path dir;
    private final Login root;
    private final Login monitor;
    private final Map<String, Login> workloadLogins = new LinkedHashMap<>();
    private final List<WorkloadGrant> workloads;
    private final List<Permission> probePermissions;
    private final boolean rootForStatus;
    private final Map<String, String> propertiesBefore = new LinkedHashMap<>();
    private boolean propertiesSet;

    private CheckAuth(Path dir, List<WorkloadGrant> workloads, List<Permission> probePermissions,
                      boolean rootForStatus) throws IOException {
        this.dir = dir;
        this.workloads = List.copyOf(workloads);
        this.probePermissions = List.copyOf(probePermissions);
        this.rootForStatus = rootForStatus;
        Files.createDirectories(dir);
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system: the files' own modes are all there is.
        }
        this.root = login(ROOT);
        this.monitor = login(MONITOR_USER);
        for (WorkloadGrant w : workloads) {
            workloadLogins.put(w.workload(), login(w.user()));
        }
    }

    /**
     * The users of a run: {@code workloadPrefixes} maps each workload (e.g. "list-append") to
     * its key prefix; with {@code spread} (sharded runs) a workload's keys are that prefix after
     * each first byte 0x00 to 0xFE ({@link FirstByteSpread}), so its role gets one prefix per
     * first byte. Passwords are made now and written under {@code dir}.
     *
     * @param rootForStatus whether the harness's status calls need the admin right (a run with
     *     split faults: a split is an admin call) and so sign in as root
     */
    static CheckAuth forRun(Path dir, Map<String, byte[]> workloadPrefixes, boolean spread, boolean rootForStatus)
            throws IOException {
        List<WorkloadGrant> grants = new ArrayList<>();
        for (Map.Entry<String, byte[]> w : workloadPrefixes.entrySet()) {
            List<byte[]> prefixes = new ArrayList<>();
            for (dev.txkv.Range r : FirstByteSpread.allRanges(spread, w.getValue())) {
                prefixes.add(r.begin);
            }
            grants.add(new WorkloadGrant(w.getKey(), userOf(w.getKey()), prefixes));
        }
        List<Permission> probes = List.of(
                prefix(Permission.Mode.READWRITE, Cluster.PROBE_KEY_PREFIX),
                prefix(Permission.Mode.READWRITE, CommitProbe.KEY),
                prefix(Permission.Mode.READ, Nemesis.FORGED_KEY));
        return new CheckAuth(dir, grants, probes, rootForStatus);
    }

    /** The user (and role) of a workload: {@code check-} and its name. */
    static String userOf(String workload) {
        return "check-" + workload;
    }

    Login root() {
        return root;
    }

    /** The harness's own user: status, and the leader and failover probes' keys. */
    Login monitor() {
        return monitor;
    }

    Login workload(String name) {
        Login l = workloadLogins.get(name);
        if (l == null) {
            throw new IllegalArgumentException("no user for workload " + name);
        }
        return l;
    }

    /** Who the status calls (and splits) sign in as. */
    Login statusLogin() {
        return rootForStatus ? root : monitor;
    }

    Path dir() {
        return dir;
    }

    /** A random password of 32 characters in a new file of mode 600 under the run's auth directory. */
    private Login login(String user) throws IOException {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        Path file = dir.resolve(user + ".password");
        Files.deleteIfExists(file);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
        Files.writeString(file, password + "\n", StandardCharsets.UTF_8);
        return new Login(user, password, file);
    }

    /** The roles of a workload: one per {@link #PERMISSIONS_PER_ROLE_MAX} prefixes ({@code check-bank}, {@code check-bank-2}, ...). */
    static List<String> roles(WorkloadGrant w) {
        List<String> roles = new ArrayList<>();
        int count = Math.max(1, (w.prefixes().size() + PERMISSIONS_PER_ROLE_MAX - 1) / PERMISSIONS_PER_ROLE_MAX);
        for (int i = 0; i < count; i++) {
            roles.add(i == 0 ? w.user() : w.user() + "-" + (i + 1));
        }
        return roles;
    }

    /** Every change that sets the run's users up, in order, turning authorization on last. */
    List<ChangeAuthRequest> changes() {
        List<ChangeAuthRequest> changes = new ArrayList<>();
        for (WorkloadGrant w : workloads) {
            List<String> roles = roles(w);
            for (String role : roles) {
                changes.add(request().setRoleAdd(role).build());
            }
            for (int i = 0; i < w.prefixes().size(); i++) {
                changes.add(request().setRoleGrant(RoleChange.newBuilder().setRole(roles.get(i / PERMISSIONS_PER_ROLE_MAX))
                        .setPermission(prefix(Permission.Mode.READWRITE, w.prefixes().get(i)))).build());
            }
        }
        changes.add(request().setRoleAdd(PROBE_ROLE).build());
        for (Permission p : probePermissions) {
            changes.add(request().setRoleGrant(RoleChange.newBuilder().setRole(PROBE_ROLE).setPermission(p)).build());
        }
        changes.add(userAdd(root, List.of(ROOT)));
        for (WorkloadGrant w : workloads) {
            changes.add(userAdd(workloadLogins.get(w.workload()), roles(w)));
        }
        changes.add(userAdd(monitor, List.of(MONITOR_ROLE, PROBE_ROLE)));
        changes.add(request().setSetEnabled(true).build());
        return changes;
    }

    private static ChangeAuthRequest userAdd(Login login, List<String> roles) {
        return request().setUserAdd(UserAdd.newBuilder().setName(login.user()).setPassword(login.password())
                .addAllRoles(roles)).build();
    }

    private static ChangeAuthRequest.Builder request() {
        return ChangeAuthRequest.newBuilder().setProtocolVersion(1);
    }

    private static Permission prefix(Permission.Mode mode, byte[] prefix) {
        return Permission.newBuilder().setMode(mode).setBegin(ByteString.copyFrom(prefix)).build();
    }

    /**
     * Makes every change of {@link #changes} through {@code connection} (authorization is off,
     * so no credentials are needed yet), each retried until it is in force, then waits until
     * every node in {@code nodeAddresses} answers a status call signed in as
     * {@link #statusLogin} (the node enforces the record), and from then on has the status
     * calls sign in ({@link #useForStatusCalls}).
     *
     * @throws IllegalStateException when a change is refused or not in force in time
     */
    void enable(String connection, List<String> nodeAddresses, Consumer<String> log) {
        List<ChangeAuthRequest> changes = changes();
        long started = System.nanoTime();
        for (ChangeAuthRequest change : changes) {
            apply(connection, change);
        }
        log.accept(String.format("authorization: %d changes in %.1f s: users %s, %s, %s; turned on; passwords in %s"
                        + " (mode 600)", changes.size(), (System.nanoTime() - started) / 1e9, ROOT,
                String.join(", ", workloads.stream().map(w -> w.user() + " (readwrite " + describePrefixes(w)
                        + ")").toList()), MONITOR_USER + " (roles monitor, " + PROBE_ROLE + ")", dir));
        useForStatusCalls();
        awaitEnforced(nodeAddresses, log);
    }

    /** The prefixes of a workload for people: the one prefix, or how many first bytes precede it. */
    static String describePrefixes(WorkloadGrant w) {
        if (w.prefixes().size() == 1) {
            return dev.txkv.ByteArrays.printable(w.prefixes().get(0));
        }
        byte[] first = w.prefixes().get(0);
        return w.prefixes().size() + " prefixes \\xNN" + dev.txkv.ByteArrays.printable(
                java.util.Arrays.copyOfRange(first, 1, first.length)) + ", one per first byte, in "
                + roles(w).size() + " roles";
    }

    /** One change, retried until it is in force or refused for good. */
    private void apply(String connection, ChangeAuthRequest change) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CHANGE_WAIT_MS);
        TxkvException last = null;
        for (int attempt = 0; attempt < 10_000; attempt++) {
            try {
                RemoteStatus.changeAuth(connection, change, CALL_TIMEOUT);
                return;
            } catch (TxkvException e) {
                last = e;
            }
            // The change may have been made although its answer was lost (a retry then says
            // "exists already"): what is in force decides.
            if (inForce(connection, change)) {
                return;
            }
            if (!retryable(last) || System.nanoTime() - deadline >= 0) {
                break;
            }
            Cluster.sleep(RETRY_PAUSE_MS);
        }
        throw new IllegalStateException("setting up authorization failed at '" + what(change) + "': "
                + (last == null ? "no answer" : last.getMessage() + " (" + last.getCode() + ")"));
    }

    private static boolean retryable(TxkvException e) {
        return e.isRetryable() || e.getError() == ErrorCode.TRANSACTION_TIMED_OUT
                || e.getError() == ErrorCode.DATABASE_CLOSED;
    }

    /** Whether {@code change} is in force, as the cluster describes its users and roles now (false when it does not say). */
    private static boolean inForce(String connection, ChangeAuthRequest change) {
        AuthDescription d;
        try {
            d = RemoteStatus.describeAuth(connection, CALL_TIMEOUT);
        } catch (TxkvException e) {
            // Without credentials, only a cluster with authorization on says 6001.
            return change.getChangeCase() == ChangeAuthRequest.ChangeCase.SET_ENABLED
                    && e.getError() == ErrorCode.UNAUTHORIZED_ATTEMPT;
        }
        return switch (change.getChangeCase()) {
            case SET_ENABLED -> d.getEnabled() == change.getSetEnabled();
            case ROLE_ADD -> d.getRolesList().stream().anyMatch(r -> r.getName().equals(change.getRoleAdd()));
            case ROLE_GRANT -> d.getRolesList().stream().filter(r -> r.getName().equals(change.getRoleGrant().getRole()))
                    .anyMatch(r -> hasGrant(r, change.getRoleGrant()));
            case USER_ADD -> d.getUsersList().stream().filter(u -> u.getName().equals(change.getUserAdd().getName()))
                    .anyMatch(u -> hasRoles(u, change.getUserAdd().getRolesList()));
            default -> false;
        };
    }

    private static boolean hasGrant(RoleDescription r, RoleChange g) {
        return g.getClusterRight().isEmpty() ? r.getPermissionsList().contains(g.getPermission())
                : r.getClusterRightsList().contains(g.getClusterRight());
    }

    private static boolean hasRoles(UserDescription u, List<String> roles) {
        return u.getHasPassword() && u.getRolesList().containsAll(roles);
    }

    /** A change for the log and errors: names only, never a password. */
    private static String what(ChangeAuthRequest c) {
        return switch (c.getChangeCase()) {
            case SET_ENABLED -> "auth " + (c.getSetEnabled() ? "enable" : "disable");
            case ROLE_ADD -> "role add " + c.getRoleAdd();
            case ROLE_GRANT -> "role grant " + c.getRoleGrant().getRole() + " "
                    + c.getRoleGrant().getPermission().getMode().name().toLowerCase(java.util.Locale.ROOT) + " "
                    + dev.txkv.ByteArrays.printable(c.getRoleGrant().getPermission().getBegin().toByteArray());
            case USER_ADD -> "user add " + c.getUserAdd().getName() + " --role " + String.join(",",
                    c.getUserAdd().getRolesList());
            default -> c.getChangeCase().name();
        };
    }

    /**
     * Waits until every node answers a status call signed in as {@link #statusLogin}: the node
     * has the record (users, key) and enforces it. Throws when one does not within
     * {@link #ENFORCED_WAIT_MS}.
     */
    private void awaitEnforced(List<String> nodeAddresses, Consumer<String> log) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ENFORCED_WAIT_MS);
        for (String address : nodeAddresses) {
            TxkvException last = null;
            boolean answered = false;
            for (int attempt = 0; attempt < 10_000 && !answered; attempt++) {
                try {
                    RemoteStatus.fetch(address, Duration.ofMillis(Cluster.LEADER_PROBE_TIMEOUT_MS));
                    answered = true;
                } catch (TxkvException e) {
                    last = e;
                    if (System.nanoTime() - deadline >= 0) {
                        break;
                    }
                    Cluster.sleep(RETRY_PAUSE_MS);
                }
            }
            if (!answered) {
                throw new IllegalStateException("authorization is on, but " + address + " did not answer "
                        + statusLogin().user() + "'s status call within " + ENFORCED_WAIT_MS + " ms: "
                        + (last == null ? "no answer" : last.getMessage()));
            }
        }
        log.accept("authorization: every node answers " + statusLogin().user() + " (status calls sign in as "
                + statusLogin().user() + ", workloads as their own users)");
    }

    /** Has {@link RemoteStatus} (the harness's status calls and splits) sign in as {@link #statusLogin}. */
    synchronized void useForStatusCalls() {
        if (!propertiesSet) {
            propertiesBefore.put(USER_PROPERTY, System.getProperty(USER_PROPERTY));
            propertiesBefore.put(PASSWORD_FILE_PROPERTY, System.getProperty(PASSWORD_FILE_PROPERTY));
            propertiesSet = true;
        }
        System.setProperty(USER_PROPERTY, statusLogin().user());
        System.setProperty(PASSWORD_FILE_PROPERTY, statusLogin().file().toString());
    }

    /** Puts back the credential properties {@link #useForStatusCalls} replaced. Idempotent. */
    synchronized void restoreStatusProperties() {
        if (!propertiesSet) {
            return;
        }
        propertiesBefore.forEach((k, v) -> {
            if (v == null) {
                System.clearProperty(k);
            } else {
                System.setProperty(k, v);
            }
        });
        propertiesSet = false;
    }

    /**
     * The negative probe at the end: the list-append user reads a key of the bank's, and the
     * bank's user writes a key outside every grant; each must be refused with
     * permission_denied (6000). Retried (at most {@link #PROBE_WAIT_MS} each) only while the
     * answer is a transient error.
     */
    static AuthProbe probeOutsidePrefixes(Database listAppendDb, byte[] bankKey, Database bankDb) {
        Outcome read = outcome(() -> {
            try (Transaction tr = listAppendDb.createTransaction()) {
                tr.options().setTimeout(RobustnessRun.OP_TIMEOUT.toMillis());
                tr.get(bankKey).get(RobustnessRun.OP_TIMEOUT.toMillis() + 500, TimeUnit.MILLISECONDS);
            }
        });
        Outcome write = outcome(() -> {
            try (Transaction tr = bankDb.createTransaction()) {
                tr.options().setTimeout(RobustnessRun.OP_TIMEOUT.toMillis());
                tr.set(OUTSIDE_EVERY_GRANT, "must be refused".getBytes(StandardCharsets.US_ASCII));
                tr.commit().get(RobustnessRun.OP_TIMEOUT.toMillis() + 500, TimeUnit.MILLISECONDS);
            }
        });
        String detail = userOf("list-append") + " reading " + dev.txkv.ByteArrays.printable(bankKey) + ": "
                + read.text() + "; " + userOf("bank") + " writing " + dev.txkv.ByteArrays.printable(OUTSIDE_EVERY_GRANT)
                + ": " + write.text();
        return new AuthProbe(read.denied() && write.denied(), detail);
    }

    private interface Attempt {
        void run() throws Exception;
    }

    private record Outcome(boolean denied, String text) {
    }

    private static Outcome outcome(Attempt attempt) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PROBE_WAIT_MS);
        String last = "not tried";
        for (int round = 0; round < 1_000; round++) {
            try {
                attempt.run();
                return new Outcome(false, "ALLOWED (the restriction was not in force)");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Outcome(false, "interrupted");
            } catch (Exception e) {
                TxkvException t = txkvCause(e);
                if (t != null && t.getError() == ErrorCode.PERMISSION_DENIED) {
                    return new Outcome(true, "refused with " + t.getCode() + " permission_denied");
                }
                last = t == null ? e.toString() : t.getCode() + " " + t.getMessage();
                boolean transient_ = t == null || retryable(t);
                if (!transient_ || System.nanoTime() - deadline >= 0) {
                    break;
                }
                Cluster.sleep(RETRY_PAUSE_MS);
            }
        }
        return new Outcome(false, "not refused with 6000: " + last);
    }

    private static TxkvException txkvCause(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof TxkvException t) {
                return t;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return null;
    }
}
