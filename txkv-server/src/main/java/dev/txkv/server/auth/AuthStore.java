package dev.txkv.server.auth;

import dev.txkv.ByteArrays;
import dev.txkv.ErrorCode;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.engine.Engine;
import dev.txkv.proto.AuthDescription;
import dev.txkv.proto.AuthenticateResponse;
import dev.txkv.proto.ChangeAuthRequest;
import dev.txkv.server.tls.Audit;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.Mutation;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member's view of users and roles: the record in its replica of the group that keeps them
 * (the only group of an unsharded cluster, the control group of a sharded one, which every
 * member replicates), read again every {@value #REFRESH_MS} ms and at once after a change made
 * here. So the member that makes a change enforces it before it answers, and every other member
 * within {@value #REFRESH_MS} ms of applying it.
 *
 * <p>Changes go through the group's leader as a transaction on the record's key (concurrent
 * changes conflict, and one is retried by the caller); a password is hashed here, before the
 * change is committed, so no password reaches the Raft log.
 */
public final class AuthStore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AuthStore.class);
    static final long REFRESH_MS = 100;
    /** Failed sign-ins a user may have from one address in a minute before 1213. */
    static final int FAILURES_PER_MINUTE_MAX = 10;
    /** The common-name prefix of members' certificates. */
    public static final String MEMBER_PREFIX = "txkv-node:";

    private final Engine engine;
    private final String refusalToEnable;
    private final Tokens tokens = new Tokens();
    private final Map<String, Deque<Long>> failures = new ConcurrentHashMap<>();
    private final List<Consumer<AuthState>> listeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService refresher;
    private volatile AuthState state = AuthState.EMPTY;
    /** The stored record last read by {@link #refresh}, so that an unchanged one is not decoded again. */
    private byte[] lastRead;

    /**
     * @param engine this member's replica of the group that keeps users and roles
     * @param refusalToEnable why authorization cannot be turned on through this server (null: it can)
     */
    public AuthStore(Engine engine, String refusalToEnable) {
        this.engine = engine;
        this.refusalToEnable = refusalToEnable;
        refresh();
        this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "txkv-auth-refresh");
            t.setDaemon(true);
            return t;
        });
        refresher.scheduleWithFixedDelay(this::refresh, REFRESH_MS, REFRESH_MS, TimeUnit.MILLISECONDS);
    }

    /** The users and roles this member enforces now. */
    public AuthState state() {
        return state;
    }

    /** Calls {@code listener} with every newer state (on the refresh thread, or the changing call's). */
    public void onChange(Consumer<AuthState> listener) {
        listeners.add(listener);
    }

    private synchronized void refresh() {
        try {
            byte[] stored = engine.latestValue(AuthState.KEY);
            if (stored == null || java.util.Arrays.equals(stored, lastRead)) {
                return;
            }
            lastRead = stored;
            adopt(AuthState.decode(stored));
        } catch (RuntimeException e) {
            log.debug("Cannot read users and roles now: {}", e.toString());
        }
    }

    private synchronized void adopt(AuthState next) {
        AuthState current = state;
        if (next.revision() <= current.revision()) {
            return;
        }
        state = next;
        if (current.enabled() != next.enabled()) {
            log.info("Authorization is now {}", next.enabled() ? "on" : "off");
        }
        for (Consumer<AuthState> l : listeners) {
            try {
                l.accept(next);
            } catch (RuntimeException e) {
                log.warn("A listener of users and roles failed", e);
            }
        }
    }

    /**
     * What a caller that presented {@code bearer} (an "authorization" header's value, or null)
     * or a certificate named {@code certificateName} (or null) may do now. While authorization
     * is off: {@link Access#OPEN}. A member's certificate is a member whatever else is sent.
     *
     * @throws TxkvException 6001 with neither credential or an unknown certificate name, 6003
     *     for a bad token
     */
    public Access access(String bearer, String certificateName) {
        AuthState s = state;
        if (!s.enabled()) {
            return Access.OPEN;
        }
        if (certificateName != null && certificateName.startsWith(MEMBER_PREFIX)) {
            return Access.member(certificateName);
        }
        if (bearer != null) {
            if (bearer.trim().equalsIgnoreCase("Bearer")) {
                // The empty token a sign-in answers while authorization is off: sign in again.
                throw new TxkvException(ErrorCode.AUTHORIZATION_TOKEN_VERIFY_FAILED,
                        "Authorization is on now: the empty token of a sign-in made while it was off is refused; sign in again");
            }
            if (!bearer.regionMatches(true, 0, "Bearer ", 0, 7)) {
                throw unauthorized("The authorization header must be 'Bearer <token>'");
            }
            String user = tokens.verify(bearer.substring(7).trim(), s, System.currentTimeMillis());
            Access a = s.access(user);
            if (a == null) {
                throw new TxkvException(ErrorCode.AUTHORIZATION_TOKEN_VERIFY_FAILED, "The token's user no longer exists");
            }
            return a;
        }
        if (certificateName != null) {
            Access a = s.access(certificateName);
            if (a == null) {
                Audit.event("authentication_failed", "user", certificateName, "method", "certificate",
                        "reason", "no such user");
                throw unauthorized("No user '" + certificateName + "' for the client certificate's common name");
            }
            return a;
        }
        throw unauthorized("Authorization is on: sign in with a user and password (a token), or a client certificate");
    }

    /** A token for {@code user}, after checking its password; failures are throttled per user and address. */
    public AuthenticateResponse authenticate(String user, String password, String address) {
        AuthState s = state;
        String throttleKey = user + "\u0000" + address;
        long now = System.currentTimeMillis();
        Deque<Long> recent = failures.get(throttleKey);
        if (recent != null) {
            synchronized (recent) {
                while (!recent.isEmpty() && recent.peekFirst() < now - 60_000) {
                    recent.pollFirst();
                }
                if (recent.size() >= FAILURES_PER_MINUTE_MAX) {
                    Audit.event("authentication_throttled", "user", user, "address", address);
                    throw new TxkvException(ErrorCode.TAG_THROTTLED, "Too many failed sign-ins for user '" + user
                            + "' from " + address + "; wait a minute");
                }
            }
        }
        if (!s.enabled()) {
            // Every call is served anyway: an empty token, good for a minute, so that a client
            // set up with credentials works before authorization is turned on and signs in
            // for real soon after.
            return AuthenticateResponse.newBuilder().setToken("").setExpiresAtMs(now + 60_000).build();
        }
        String hash = s.passwordHash(user);
        boolean ok = password != null && !password.isEmpty()
                && password.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= Passwords.MAX_BYTES
                && Passwords.verify(hash, password);
        if (!ok) {
            if (failures.size() > 100_000) {
                failures.clear();
            }
            Deque<Long> d = failures.computeIfAbsent(throttleKey, k -> new ArrayDeque<>());
            synchronized (d) {
                d.addLast(now);
            }
            Audit.event("authentication_failed", "user", user, "address", address, "method", "password");
            throw unauthorized("Wrong user or password");
        }
        failures.remove(throttleKey);
        Audit.event("authenticated", "user", user, "address", address, "method", "password");
        return AuthenticateResponse.newBuilder().setToken(Tokens.issue(s.signingKey(), user, s.userEpoch(user), now))
                .setExpiresAtMs(now + Tokens.TTL_MS).build();
    }

    /** Users and roles, without password hashes. */
    public AuthDescription describe() {
        return state.describe();
    }

    /**
     * Makes {@code change} durable through this member, which must lead the group that keeps
     * users and roles (else not_leader), and enforces it here before completing.
     */
    public CompletableFuture<AuthDescription> change(ChangeAuthRequest change, String by) {
        if (change.getChangeCase() == ChangeAuthRequest.ChangeCase.SET_ENABLED && change.getSetEnabled()
                && refusalToEnable != null) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION, refusalToEnable));
        }
        if (!engine.isLeading()) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.NOT_LEADER,
                    "This member does not lead the group that keeps users and roles; retry on another"));
        }
        String hashed;
        try {
            hashed = switch (change.getChangeCase()) {
                case USER_ADD -> change.getUserAdd().getPassword().isEmpty() ? null
                        : Passwords.hash(change.getUserAdd().getPassword());
                case USER_PASSWORD -> Passwords.hash(change.getUserPassword().getPassword());
                default -> null;
            };
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        List<Range> keys = List.of(new Range(AuthState.KEY, ByteArrays.keyAfter(AuthState.KEY)));
        return engine.getReadVersion().thenCompose(rv -> engine.get(AuthState.KEY, rv).thenCompose(bytes -> {
            AuthState next = AuthState.decode(bytes).apply(change, hashed);
            CommitRequest write = new CommitRequest(rv, keys, keys,
                    List.of(new Mutation(Mutation.SET, AuthState.KEY, next.encode())), null, false);
            return engine.commit(write).thenApply(r -> {
                adopt(next);
                Audit.event("auth_changed", "by", by, "change", describe(change));
                return next.describe();
            });
        }));
    }

    /** What a change does, for the audit log: names only, never a password. */
    private static String describe(ChangeAuthRequest c) {
        return switch (c.getChangeCase()) {
            case SET_ENABLED -> c.getSetEnabled() ? "auth enable" : "auth disable";
            case USER_ADD -> "user add " + c.getUserAdd().getName() + " roles " + c.getUserAdd().getRolesList();
            case USER_DELETE -> "user delete " + c.getUserDelete();
            case USER_PASSWORD -> "user passwd " + c.getUserPassword().getName();
            case USER_GRANT -> "user grant " + c.getUserGrant().getUser() + " " + c.getUserGrant().getRole();
            case USER_REVOKE -> "user revoke " + c.getUserRevoke().getUser() + " " + c.getUserRevoke().getRole();
            case ROLE_ADD -> "role add " + c.getRoleAdd();
            case ROLE_DELETE -> "role delete " + c.getRoleDelete();
            case ROLE_GRANT -> "role grant " + c.getRoleGrant().getRole() + " " + roleChange(c.getRoleGrant());
            case ROLE_REVOKE -> "role revoke " + c.getRoleRevoke().getRole() + " " + roleChange(c.getRoleRevoke());
            default -> "none";
        };
    }

    private static String roleChange(dev.txkv.proto.RoleChange g) {
        if (!g.getClusterRight().isEmpty()) {
            return g.getClusterRight();
        }
        return g.getPermission().getMode().name().toLowerCase(java.util.Locale.ROOT) + " "
                + java.util.HexFormat.of().formatHex(g.getPermission().getBegin().toByteArray()) + " "
                + java.util.HexFormat.of().formatHex(g.getPermission().getEnd().toByteArray());
    }

    private static TxkvException unauthorized(String message) {
        return new TxkvException(ErrorCode.UNAUTHORIZED_ATTEMPT, message);
    }

    @Override
    public void close() {
        refresher.shutdownNow();
    }
}
