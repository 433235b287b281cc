package dev.txkv.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.nimbusds.jose.jwk.ECKey;
import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.proto.ChangeAuthRequest;
import dev.txkv.proto.Permission;
import dev.txkv.proto.RoleChange;
import dev.txkv.proto.UserAdd;
import dev.txkv.proto.UserRole;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.Mutation;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rules of changes to users and roles, the compiled access, and tokens. */
class AuthStateTest {
    private static final String HASH = "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static AuthState apply(AuthState s, ChangeAuthRequest.Builder c) {
        return s.apply(c.build(), HASH);
    }

    private static ChangeAuthRequest.Builder grant(String role, Permission.Mode mode, String begin, String end) {
        return ChangeAuthRequest.newBuilder().setRoleGrant(RoleChange.newBuilder().setRole(role)
                .setPermission(Permission.newBuilder().setMode(mode).setBegin(ByteString.copyFromUtf8(begin))
                        .setEnd(ByteString.copyFromUtf8(end))));
    }

    private static AuthState withOrders() {
        AuthState s = AuthState.EMPTY;
        s = apply(s, ChangeAuthRequest.newBuilder().setUserAdd(UserAdd.newBuilder().setName("root").addRoles("root")));
        s = apply(s, ChangeAuthRequest.newBuilder().setRoleAdd("orders"));
        s = apply(s, grant("orders", Permission.Mode.READWRITE, "orders/", ""));
        s = apply(s, grant("orders", Permission.Mode.READ, "catalog/", "catalog0"));
        s = apply(s, ChangeAuthRequest.newBuilder().setUserAdd(UserAdd.newBuilder().setName("orders").addRoles("orders")));
        return apply(s, ChangeAuthRequest.newBuilder().setSetEnabled(true));
    }

    private static void assertRefused(Runnable r, ErrorCode code) {
        assertThatThrownBy(r::run).isInstanceOfSatisfying(TxkvException.class, e -> assertThat(e.getError()).isEqualTo(code));
    }

    @Test
    void aUsersGrantsCompileIntoWhatItMayReadAndWrite() {
        Access orders = withOrders().access("orders");
        orders.checkReadKey(b("orders/1"), "Get");
        orders.checkReadKey(b("catalog/1"), "Get");
        orders.checkRead(b("orders/"), b("orders0"), "GetRange");
        assertRefused(() -> orders.checkReadKey(b("payments/1"), "Get"), ErrorCode.PERMISSION_DENIED);
        assertRefused(() -> orders.checkRead(b("orders/"), b("orders1"), "GetRange"), ErrorCode.PERMISSION_DENIED);
        orders.checkCommit(commit(new Mutation(Mutation.SET, b("orders/1"), b("v"))), "Commit");
        assertRefused(() -> orders.checkCommit(commit(new Mutation(Mutation.SET, b("catalog/1"), b("v"))), "Commit"),
                ErrorCode.PERMISSION_DENIED);
        assertRefused(() -> orders.checkRight(Access.Right.STATUS, "Status"), ErrorCode.PERMISSION_DENIED);
        Access root = withOrders().access("root");
        root.checkRight(Access.Right.ADMIN, "ChangeAuth");
        root.checkCommit(commit(new Mutation(Mutation.CLEAR_RANGE, new byte[0], new byte[] {(byte) 0xFF})), "Commit");
        assertThat(withOrders().access("nobody")).isNull();
        // Idempotency ids are per principal.
        assertThat(orders.idempotencyId(b("id"))).isNotEqualTo(root.idempotencyId(b("id")))
                .isEqualTo(withOrders().access("orders").idempotencyId(b("id")));
        assertThat(Access.OPEN.idempotencyId(b("id"))).isEqualTo(b("id"));
    }

    private static CommitRequest commit(Mutation m) {
        return new CommitRequest(-1, List.of(), List.of(), List.of(m), null, false);
    }

    @Test
    void changesThatCannotBeMadeAreRefusedWithTheReason() {
        assertRefused(() -> apply(AuthState.EMPTY, ChangeAuthRequest.newBuilder().setSetEnabled(true)),
                ErrorCode.INVALID_OPTION_VALUE);
        AuthState s = withOrders();
        assertRefused(() -> apply(s, ChangeAuthRequest.newBuilder().setRoleAdd("root")), ErrorCode.INVALID_OPTION_VALUE);
        assertRefused(() -> apply(s, grant("monitor", Permission.Mode.READ, "a", "")), ErrorCode.INVALID_OPTION_VALUE);
        assertRefused(() -> apply(s, ChangeAuthRequest.newBuilder().setRoleDelete("root")), ErrorCode.INVALID_OPTION_VALUE);
        assertRefused(() -> apply(s, ChangeAuthRequest.newBuilder().setUserDelete("root")), ErrorCode.INVALID_OPTION_VALUE);
        assertRefused(() -> apply(s, ChangeAuthRequest.newBuilder().setUserRevoke(UserRole.newBuilder().setUser("root")
                .setRole("root"))), ErrorCode.INVALID_OPTION_VALUE);
        assertRefused(() -> apply(s, ChangeAuthRequest.newBuilder().setUserAdd(UserAdd.newBuilder().setName("orders"))),
                ErrorCode.INVALID_OPTION_VALUE);
        assertRefused(() -> apply(s, ChangeAuthRequest.newBuilder().setUserAdd(UserAdd.newBuilder().setName("bad name"))),
                ErrorCode.INVALID_OPTION_VALUE);
        assertRefused(() -> apply(s, ChangeAuthRequest.newBuilder().setUserAdd(UserAdd.newBuilder().setName("x")
                .addRoles("no-such-role"))), ErrorCode.INVALID_OPTION_VALUE);
        assertRefused(() -> apply(s, grant("orders", Permission.Mode.READ, "b", "a")), ErrorCode.INVERTED_RANGE);
        assertRefused(() -> apply(s, ChangeAuthRequest.newBuilder().setRoleGrant(RoleChange.newBuilder().setRole("orders")
                .setPermission(Permission.newBuilder().setMode(Permission.Mode.READ)
                        .setBegin(ByteString.copyFrom(new byte[] {(byte) 0xFF, 1}))))), ErrorCode.KEY_OUTSIDE_LEGAL_RANGE);
        assertRefused(() -> apply(s, ChangeAuthRequest.newBuilder().setRoleGrant(RoleChange.newBuilder().setRole("orders")
                .setPermission(Permission.newBuilder().setMode(Permission.Mode.READ).setBegin(ByteString.copyFromUtf8("a"))
                        .setEnd(ByteString.copyFrom(new byte[] {(byte) 0xFF, 1}))))), ErrorCode.KEY_OUTSIDE_LEGAL_RANGE);
        assertRefused(() -> apply(s, grant("orders", Permission.Mode.MODE_UNSPECIFIED, "a", "")),
                ErrorCode.INVALID_OPTION_VALUE);
        assertRefused(() -> apply(s, grant("orders", Permission.Mode.READWRITE, "orders/", "")),
                ErrorCode.INVALID_OPTION_VALUE);
        assertRefused(() -> apply(s, ChangeAuthRequest.newBuilder().setRoleRevoke(RoleChange.newBuilder().setRole("orders")
                .setClusterRight("admin"))), ErrorCode.INVALID_OPTION_VALUE);
        assertRefused(() -> apply(s, ChangeAuthRequest.newBuilder().setRoleGrant(RoleChange.newBuilder().setRole("orders")
                .setClusterRight("everything"))), ErrorCode.INVALID_OPTION_VALUE);
        // Turning authorization off lets the last root go.
        AuthState off = apply(s, ChangeAuthRequest.newBuilder().setSetEnabled(false));
        assertThat(apply(off, ChangeAuthRequest.newBuilder().setUserDelete("root")).access("root")).isNull();
    }

    @Test
    void deletingARoleTakesItFromItsUsersAndEveryChangeIsANewRevision() {
        AuthState s = withOrders();
        AuthState next = apply(s, ChangeAuthRequest.newBuilder().setRoleDelete("orders"));
        assertThat(next.revision()).isEqualTo(s.revision() + 1);
        assertRefused(() -> next.access("orders").checkReadKey(b("orders/1"), "Get"), ErrorCode.PERMISSION_DENIED);
        assertThat(next.describe().getUsersList()).filteredOn(u -> u.getName().equals("orders"))
                .allSatisfy(u -> assertThat(u.getRolesList()).isEmpty());
        // The stored form round-trips, and the description never shows a hash.
        assertThat(AuthState.decode(next.encode()).describe()).isEqualTo(next.describe());
        assertThat(next.describe().toString()).doesNotContain("argon2");
    }

    @Test
    void tokensAreCheckedForKeyAlgorithmExpiryAndTheUsersEpoch() {
        AuthState s = withOrders();
        ECKey key = s.signingKey();
        assertThat(key).isNotNull();
        long now = System.currentTimeMillis();
        Tokens tokens = new Tokens();
        long epoch = s.userEpoch("orders");
        assertThat(tokens.verify(Tokens.issue(key, "orders", epoch, now), s, now)).isEqualTo("orders");
        // Expired (beyond the minute of clock skew allowed).
        String old = Tokens.issue(key, "orders", epoch, now - Tokens.TTL_MS - Tokens.SKEW_MS - 1_000);
        assertRefused(() -> tokens.verify(old, s, now), ErrorCode.AUTHORIZATION_TOKEN_VERIFY_FAILED);
        // A stale epoch: the password changed since.
        assertRefused(() -> tokens.verify(Tokens.issue(key, "orders", epoch - 1, now), s, now),
                ErrorCode.AUTHORIZATION_TOKEN_VERIFY_FAILED);
        // Another cluster's key, garbage, an oversized token.
        assertRefused(() -> tokens.verify(Tokens.issue(Tokens.newSigningKey(), "orders", epoch, now), s, now),
                ErrorCode.AUTHORIZATION_TOKEN_VERIFY_FAILED);
        assertRefused(() -> tokens.verify("not.a.token", s, now), ErrorCode.AUTHORIZATION_TOKEN_VERIFY_FAILED);
        assertRefused(() -> tokens.verify("x".repeat(Tokens.MAX_CHARS + 1), s, now),
                ErrorCode.AUTHORIZATION_TOKEN_VERIFY_FAILED);
        // A user deleted (authorization off for the deletion, then on again) loses its tokens.
        String t = Tokens.issue(key, "orders", epoch, now);
        AuthState gone = apply(apply(apply(s, ChangeAuthRequest.newBuilder().setSetEnabled(false)),
                ChangeAuthRequest.newBuilder().setUserDelete("orders")), ChangeAuthRequest.newBuilder().setSetEnabled(true));
        assertRefused(() -> tokens.verify(t, gone, now), ErrorCode.AUTHORIZATION_TOKEN_VERIFY_FAILED);
    }

    @Test
    void passwordsHashWithArgon2idAndVerifyOnlyTheRightOne() {
        String hash = Passwords.hash("correct horse battery");
        assertThat(hash).startsWith("$argon2id$v=19$m=19456,t=2,p=1$").doesNotContain("correct");
        assertThat(Passwords.verify(hash, "correct horse battery")).isTrue();
        assertThat(Passwords.verify(hash, "correct horse batterz")).isFalse();
        assertThat(Passwords.verify(null, "correct horse battery")).isFalse();
        assertThat(Passwords.verify("", "correct horse battery")).isFalse();
        assertThat(Passwords.verify("$argon2id$garbage", "x")).isFalse();
        assertThat(Passwords.hash("correct horse battery")).isNotEqualTo(hash);
        assertRefused(() -> Passwords.hash("short"), ErrorCode.INVALID_OPTION_VALUE);
        assertRefused(() -> Passwords.hash("x".repeat(1025)), ErrorCode.INVALID_OPTION_VALUE);
    }

    @Test
    void aVersionstampedKeyCoversEveryKeyItsStampCanMake() {
        byte[] key = new byte[] {'o', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'z', 1, 0, 0, 0};
        byte[][] span = Access.stampedKeys(key);
        assertThat(span[0]).isEqualTo(new byte[] {'o', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'z'});
        assertThat(span[1]).isEqualTo(new byte[] {'o', -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 'z'});
    }
}
