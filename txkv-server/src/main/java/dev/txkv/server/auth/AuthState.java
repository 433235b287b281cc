package dev.txkv.server.auth;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.nimbusds.jose.jwk.ECKey;
import dev.txkv.ByteArrays;
import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.proto.AuthDescription;
import dev.txkv.proto.AuthStateRecord;
import dev.txkv.proto.ChangeAuthRequest;
import dev.txkv.proto.Permission;
import dev.txkv.proto.RoleChange;
import dev.txkv.proto.RoleDescription;
import dev.txkv.proto.UserDescription;
import dev.txkv.proto.UserRecord;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Users and roles as the keyspace holds them (one {@code AuthStateRecord} under {@link #KEY}),
 * with each user's {@link Access} compiled on first use. Immutable: a change makes a new record
 * ({@link #apply}), committed like any write, and every member adopts it when it applies it.
 *
 * <p>Built in: role {@code root} (read and write every key, status, admin) and role
 * {@code monitor} (status: cluster status and metrics, no keys). They cannot be changed.
 * Deny by default: a user without roles may do nothing but sign in.
 */
public final class AuthState {
    /** The system key of the record. */
    public static final byte[] KEY = "\u00ff\u0002/auth/v1/state".getBytes(StandardCharsets.ISO_8859_1);
    /** Most users and most roles; the record must stay well under the value size limit. */
    static final int USERS_MAX = 300;
    static final int ROLES_MAX = 300;
    static final int PERMISSIONS_PER_ROLE_MAX = 100;
    /** Names of users and roles; a certificate's common name is a user name. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,63}");
    static final String ROOT = "root";
    static final String MONITOR = "monitor";
    /** The keys users can ever have: everything below the system keyspace. */
    private static final byte[] USER_KEYS_END = {(byte) 0xFF};

    static final AuthState EMPTY = new AuthState(AuthStateRecord.getDefaultInstance());

    private final AuthStateRecord record;
    private final Map<String, UserRecord> users = new LinkedHashMap<>();
    private final Map<String, RoleDescription> roles = new LinkedHashMap<>();
    private final ECKey signingKey;
    private final Map<String, Access> accessCache = new ConcurrentHashMap<>();

    private AuthState(AuthStateRecord record) {
        this.record = record;
        roles.put(ROOT, RoleDescription.newBuilder().setName(ROOT).setBuiltIn(true)
                .addPermissions(Permission.newBuilder().setMode(Permission.Mode.READWRITE)
                        .setBegin(ByteString.EMPTY).setEnd(ByteString.copyFrom(USER_KEYS_END)))
                .addClusterRights("status").addClusterRights("admin").build());
        roles.put(MONITOR, RoleDescription.newBuilder().setName(MONITOR).setBuiltIn(true)
                .addClusterRights("status").build());
        for (RoleDescription r : record.getRolesList()) {
            roles.putIfAbsent(r.getName(), r);
        }
        for (UserRecord u : record.getUsersList()) {
            users.put(u.getName(), u);
        }
        ECKey key = null;
        if (!record.getSigningKeyJwk().isEmpty()) {
            try {
                key = ECKey.parse(record.getSigningKeyJwk());
            } catch (ParseException e) {
                throw new TxkvException(ErrorCode.INTERNAL_ERROR, "The stored token signing key cannot be read", e);
            }
        }
        this.signingKey = key;
    }

    /** The state a stored value holds (null: none stored, authorization off). */
    public static AuthState decode(byte[] value) {
        if (value == null) {
            return EMPTY;
        }
        try {
            return new AuthState(AuthStateRecord.parseFrom(value));
        } catch (InvalidProtocolBufferException e) {
            throw new TxkvException(ErrorCode.INTERNAL_ERROR, "The stored users and roles cannot be read", e);
        }
    }

    byte[] encode() {
        return record.toByteArray();
    }

    public boolean enabled() {
        return record.getEnabled();
    }

    long revision() {
        return record.getRevision();
    }

    ECKey signingKey() {
        return signingKey;
    }

    /** The user's epoch, or null when there is no such user. */
    Long userEpoch(String user) {
        UserRecord u = users.get(user);
        return u == null ? null : u.getEpoch();
    }

    /** The user's password hash ("" when the user has none), or null when there is no such user. */
    String passwordHash(String user) {
        UserRecord u = users.get(user);
        return u == null ? null : u.getPasswordHash();
    }

    /** What {@code user} may do, or null when there is no such user. */
    Access access(String user) {
        if (!users.containsKey(user)) {
            return null;
        }
        return accessCache.computeIfAbsent(user, this::compile);
    }

    private Access compile(String user) {
        List<byte[][]> read = new ArrayList<>();
        List<byte[][]> write = new ArrayList<>();
        boolean status = false;
        boolean admin = false;
        for (String roleName : users.get(user).getRolesList()) {
            RoleDescription role = roles.get(roleName);
            if (role == null) {
                continue;
            }
            for (Permission p : role.getPermissionsList()) {
                byte[][] range = range(p);
                if (p.getMode() == Permission.Mode.READ || p.getMode() == Permission.Mode.READWRITE) {
                    read.add(range);
                }
                if (p.getMode() == Permission.Mode.WRITE || p.getMode() == Permission.Mode.READWRITE) {
                    write.add(range);
                }
            }
            status |= role.getClusterRightsList().contains("status");
            admin |= role.getClusterRightsList().contains("admin");
        }
        return Access.user(user, KeyRanges.of(read), KeyRanges.of(write), status, admin);
    }

    /**
     * Why a watch set by {@code access} on {@code key} must end under this state, or null when it
     * may go on: its user lost read on the key (6000) or no longer exists, or authorization was
     * turned on under a watch set without credentials (6001).
     */
    public TxkvException watchRefusal(Access access, byte[] key) {
        if (!enabled() || access.isMember()) {
            return null;
        }
        Access now = access.isOpen() ? null : access(access.principal());
        if (now == null) {
            return new TxkvException(ErrorCode.UNAUTHORIZED_ATTEMPT, access.isOpen()
                    ? "Authorization was turned on: set the watch again with credentials"
                    : "User '" + access.principal() + "' no longer exists");
        }
        try {
            now.checkReadKey(key, "Watch");
            return null;
        } catch (TxkvException e) {
            return e;
        }
    }

    /** A permission's keys as {begin, end}: an empty end is the prefix begin. */
    static byte[][] range(Permission p) {
        byte[] begin = p.getBegin().toByteArray();
        byte[] end = p.getEnd().isEmpty() ? (begin.length == 0 ? USER_KEYS_END : ByteArrays.strinc(begin))
                : p.getEnd().toByteArray();
        return new byte[][] {begin, end};
    }

    /** Users (without their hashes) and roles, for DescribeAuth. */
    AuthDescription describe() {
        AuthDescription.Builder d = AuthDescription.newBuilder().setEnabled(enabled());
        for (UserRecord u : new TreeMap<>(users).values()) {
            d.addUsers(UserDescription.newBuilder().setName(u.getName()).addAllRoles(u.getRolesList())
                    .setHasPassword(!u.getPasswordHash().isEmpty()).setEpoch(u.getEpoch()));
        }
        d.addAllRoles(new TreeMap<>(roles).values());
        return d.build();
    }

    /**
     * The state after {@code change}, whose passwords the caller has already replaced with their
     * hashes ({@code hashed}: the hash of the change's password, or null). Refuses, with
     * invalid_option_value, a change that names what does not exist, adds what exists, touches
     * a built-in role, would leave authorization on without a root, or exceeds a limit.
     */
    AuthState apply(ChangeAuthRequest change, String hashed) {
        AuthStateRecord.Builder next = record.toBuilder().setRevision(record.getRevision() + 1);
        Map<String, UserRecord> u = new LinkedHashMap<>(users);
        Map<String, RoleDescription> r = new LinkedHashMap<>();
        for (RoleDescription role : record.getRolesList()) {
            r.put(role.getName(), role);
        }
        switch (change.getChangeCase()) {
            case SET_ENABLED -> {
                if (change.getSetEnabled()) {
                    UserRecord root = u.get(ROOT);
                    if (root == null || root.getPasswordHash().isEmpty() || !root.getRolesList().contains(ROOT)) {
                        throw invalid("Authorization needs a user 'root' with a password and the role root first:"
                                + " txkv user add root --role root");
                    }
                    if (next.getSigningKeyJwk().isEmpty()) {
                        next.setSigningKeyJwk(Tokens.newSigningKey().toJSONString());
                    }
                }
                next.setEnabled(change.getSetEnabled());
            }
            case USER_ADD -> {
                String name = name(change.getUserAdd().getName(), "user");
                if (u.containsKey(name)) {
                    throw invalid("User '" + name + "' exists already");
                }
                if (u.size() >= USERS_MAX) {
                    throw invalid("This cluster has " + USERS_MAX + " users, the most it keeps");
                }
                for (String role : change.getUserAdd().getRolesList()) {
                    checkRoleExists(role);
                }
                long epoch = System.currentTimeMillis();
                u.put(name, UserRecord.newBuilder().setName(name).setPasswordHash(hashed == null ? "" : hashed)
                        .addAllRoles(change.getUserAdd().getRolesList().stream().distinct().toList())
                        .setEpoch(epoch).build());
            }
            case USER_DELETE -> {
                UserRecord user = user(u, change.getUserDelete());
                u.remove(user.getName());
                checkRootRemains(u, next.getEnabled());
            }
            case USER_PASSWORD -> {
                UserRecord user = user(u, change.getUserPassword().getName());
                u.put(user.getName(), user.toBuilder().setPasswordHash(hashed).setEpoch(user.getEpoch() + 1).build());
            }
            case USER_GRANT -> {
                UserRecord user = user(u, change.getUserGrant().getUser());
                String role = change.getUserGrant().getRole();
                checkRoleExists(role);
                if (user.getRolesList().contains(role)) {
                    throw invalid("User '" + user.getName() + "' has role '" + role + "' already");
                }
                u.put(user.getName(), user.toBuilder().addRoles(role).build());
            }
            case USER_REVOKE -> {
                UserRecord user = user(u, change.getUserRevoke().getUser());
                String role = change.getUserRevoke().getRole();
                if (!user.getRolesList().contains(role)) {
                    throw invalid("User '" + user.getName() + "' does not have role '" + role + "'");
                }
                List<String> left = new ArrayList<>(user.getRolesList());
                left.remove(role);
                u.put(user.getName(), user.toBuilder().clearRoles().addAllRoles(left).build());
                checkRootRemains(u, next.getEnabled());
            }
            case ROLE_ADD -> {
                String name = name(change.getRoleAdd(), "role");
                if (roles.containsKey(name)) {
                    throw invalid("Role '" + name + "' exists already");
                }
                if (r.size() >= ROLES_MAX) {
                    throw invalid("This cluster has " + ROLES_MAX + " roles, the most it keeps");
                }
                r.put(name, RoleDescription.newBuilder().setName(name).build());
            }
            case ROLE_DELETE -> {
                RoleDescription role = changeableRole(r, change.getRoleDelete());
                r.remove(role.getName());
                for (UserRecord user : List.copyOf(u.values())) {
                    if (user.getRolesList().contains(role.getName())) {
                        List<String> left = new ArrayList<>(user.getRolesList());
                        left.remove(role.getName());
                        u.put(user.getName(), user.toBuilder().clearRoles().addAllRoles(left).build());
                    }
                }
            }
            case ROLE_GRANT -> {
                RoleChange g = change.getRoleGrant();
                RoleDescription role = changeableRole(r, g.getRole());
                RoleDescription.Builder b = role.toBuilder();
                if (isRight(g)) {
                    String right = right(g.getClusterRight());
                    if (role.getClusterRightsList().contains(right)) {
                        throw invalid("Role '" + role.getName() + "' has the " + right + " right already");
                    }
                    b.addClusterRights(right);
                } else {
                    Permission p = permission(g.getPermission());
                    if (role.getPermissionsList().contains(p)) {
                        throw invalid("Role '" + role.getName() + "' has this permission already");
                    }
                    if (role.getPermissionsCount() >= PERMISSIONS_PER_ROLE_MAX) {
                        throw invalid("Role '" + role.getName() + "' has " + PERMISSIONS_PER_ROLE_MAX
                                + " permissions, the most a role keeps");
                    }
                    b.addPermissions(p);
                }
                r.put(role.getName(), b.build());
            }
            case ROLE_REVOKE -> {
                RoleChange g = change.getRoleRevoke();
                RoleDescription role = changeableRole(r, g.getRole());
                RoleDescription.Builder b = role.toBuilder();
                if (isRight(g)) {
                    String right = right(g.getClusterRight());
                    List<String> left = new ArrayList<>(role.getClusterRightsList());
                    if (!left.remove(right)) {
                        throw invalid("Role '" + role.getName() + "' does not have the " + right + " right");
                    }
                    b.clearClusterRights().addAllClusterRights(left);
                } else {
                    Permission p = permission(g.getPermission());
                    List<Permission> left = new ArrayList<>(role.getPermissionsList());
                    if (!left.remove(p)) {
                        throw invalid("Role '" + role.getName() + "' does not have this permission (revoke it with"
                                + " the mode, begin and end it was granted with)");
                    }
                    b.clearPermissions().addAllPermissions(left);
                }
                r.put(role.getName(), b.build());
            }
            default -> throw invalid("The request names no change");
        }
        next.clearUsers().addAllUsers(u.values()).clearRoles().addAllRoles(r.values());
        return new AuthState(next.build());
    }

    private static boolean isRight(RoleChange g) {
        boolean right = !g.getClusterRight().isEmpty();
        if (right == g.hasPermission()) {
            throw invalid("A role grant or revoke names either a key-range permission or a cluster right");
        }
        return right;
    }

    private static String right(String right) {
        if (!right.equals("status") && !right.equals("admin")) {
            throw invalid("Cluster rights are status and admin, not '" + right + "'");
        }
        return right;
    }

    private static Permission permission(Permission p) {
        if (p.getMode() == Permission.Mode.MODE_UNSPECIFIED || p.getMode() == Permission.Mode.UNRECOGNIZED) {
            throw invalid("A permission's mode is read, write or readwrite");
        }
        byte[] begin = p.getBegin().toByteArray();
        if (begin.length > 0 && begin[0] == (byte) 0xFF) {
            throw new TxkvException(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE, "Keys from 0xFF are the system keyspace,"
                    + " which no role can be granted");
        }
        if (!p.getEnd().isEmpty()) {
            byte[] end = p.getEnd().toByteArray();
            if (ByteArrays.compareUnsigned(begin, end) >= 0) {
                throw new TxkvException(ErrorCode.INVERTED_RANGE, "A permission's end must be above its begin");
            }
            if (ByteArrays.compareUnsigned(end, USER_KEYS_END) > 0) {
                throw new TxkvException(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE, "A permission's end is at most 0xFF,"
                        + " the end of the user keyspace");
            }
        }
        return p;
    }

    private void checkRoleExists(String role) {
        // Roles added in this very change do not matter: a change does one thing.
        if (!roles.containsKey(role)) {
            throw invalid("No role '" + role + "' (txkv role list shows them)");
        }
    }

    private static void checkRootRemains(Map<String, UserRecord> users, boolean enabled) {
        if (!enabled) {
            return;
        }
        for (UserRecord u : users.values()) {
            if (u.getRolesList().contains(ROOT) && !u.getPasswordHash().isEmpty()) {
                return;
            }
        }
        throw invalid("This would leave no user with the role root and a password while authorization is on;"
                + " turn it off first (txkv auth disable)");
    }

    private static UserRecord user(Map<String, UserRecord> users, String name) {
        UserRecord u = users.get(name);
        if (u == null) {
            throw invalid("No user '" + name + "' (txkv user list shows them)");
        }
        return u;
    }

    private static RoleDescription changeableRole(Map<String, RoleDescription> roles, String name) {
        if (name.equals(ROOT) || name.equals(MONITOR)) {
            throw invalid("Role '" + name + "' is built in and cannot be changed");
        }
        RoleDescription r = roles.get(name);
        if (r == null) {
            throw invalid("No role '" + name + "' (txkv role list shows them)");
        }
        return r;
    }

    private static String name(String name, String what) {
        if (!NAME.matcher(name).matches()) {
            throw invalid("A " + what + " name has 1 to 64 letters, digits, '.', '_', '@' or '-' and begins with a"
                    + " letter or digit; '" + name + "' does not");
        }
        return name;
    }

    private static TxkvException invalid(String message) {
        return new TxkvException(ErrorCode.INVALID_OPTION_VALUE, message);
    }
}
