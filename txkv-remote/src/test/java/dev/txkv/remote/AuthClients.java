package dev.txkv.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.proto.AuthDescription;
import dev.txkv.proto.ChangeAuthRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;

/**
 * The clients of the authorization tests against one server: users signed in (or not), changes
 * to users and roles (as root once authorization is on), and the check of an error's code.
 */
final class AuthClients implements AutoCloseable {
    private final String address;
    private final String rootPassword;
    private final List<Database> opened = new ArrayList<>();
    private volatile boolean enabled;

    AuthClients(String address, String rootPassword) {
        this.address = address;
        this.rootPassword = rootPassword;
    }

    /** From now on changes are made as root. */
    void enabled() {
        this.enabled = true;
    }

    static RemoteSettings quick() {
        return new RemoteSettings().warmUpCalls(0).requestTimeout(Duration.ofSeconds(5))
                .commitTimeout(Duration.ofSeconds(5)).connectTimeout(Duration.ofSeconds(2));
    }

    /** A client signed in as {@code user} (null: without credentials), closed with this. */
    Database open(String user, String password) {
        RemoteSettings s = quick();
        if (user != null) {
            s.credentials(user, password);
        }
        Database db = Txkv.open(RemoteBackend.connect(address, s), new TxkvConfig());
        opened.add(db);
        return db;
    }

    /** One change to users and roles: without credentials before authorization is on, as root after. */
    AuthDescription change(ChangeAuthRequest.Builder change) {
        return enabled ? changeAs(change, "root", rootPassword) : changeAs(change, null, null);
    }

    AuthDescription changeAs(ChangeAuthRequest.Builder change, String user, String password) {
        RemoteSettings s = quick();
        if (user != null) {
            s.credentials(user, password);
        }
        try (RemoteBackend backend = RemoteBackend.connect(address, s)) {
            return backend.changeAuth(change.setProtocolVersion(1).build(), Duration.ofSeconds(10)).join();
        } catch (CompletionException e) {
            throw (RuntimeException) GrpcErrors.unwrap(e);
        }
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** Runs {@code r} and expects a {@link TxkvException} with {@code code}, however wrapped. */
    static void assertCode(ThrowingRunnable r, ErrorCode code) {
        assertThatThrownBy(r::run).satisfies(t -> {
            Throwable c = GrpcErrors.unwrap(t);
            assertThat(c).isInstanceOf(TxkvException.class);
            assertThat(((TxkvException) c).getError()).as(String.valueOf(c.getMessage())).isEqualTo(code);
        });
    }

    @Override
    public void close() {
        opened.forEach(Database::close);
    }
}
