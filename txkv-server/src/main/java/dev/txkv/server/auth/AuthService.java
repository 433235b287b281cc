package dev.txkv.server.auth;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.proto.AuthDescription;
import dev.txkv.proto.AuthGrpc;
import dev.txkv.proto.AuthenticateRequest;
import dev.txkv.proto.AuthenticateResponse;
import dev.txkv.proto.ChangeAuthRequest;
import dev.txkv.proto.DescribeAuthRequest;
import dev.txkv.wire.WireErrors;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Service Auth (auth.proto): sign-in, and users and roles changed and described. Calls run on
 * the server's bounded executor (a sign-in hashes a password: never on a transport thread).
 */
public final class AuthService extends AuthGrpc.AuthImplBase {
    private static final Logger log = LoggerFactory.getLogger(AuthService.class);
    private static final int PROTOCOL_VERSION = 1;

    private final AuthStore store;
    private final Executor executor;
    private final Function<TxkvException, dev.txkv.proto.NotLeader> notLeader;

    /**
     * @param notLeader who leads, for a not_leader answer (may return null)
     */
    public AuthService(AuthStore store, Executor executor, Function<TxkvException, dev.txkv.proto.NotLeader> notLeader) {
        this.store = store;
        this.executor = executor;
        this.notLeader = notLeader;
    }

    @Override
    public void authenticate(AuthenticateRequest request, StreamObserver<AuthenticateResponse> observer) {
        String address = AuthInterceptor.currentAddress();
        run(observer, () -> {
            checkProtocol(request.getProtocolVersion());
            observer.onNext(store.authenticate(request.getUser(), request.getPassword(), address));
            observer.onCompleted();
        });
    }

    @Override
    public void changeAuth(ChangeAuthRequest request, StreamObserver<AuthDescription> observer) {
        Access access = AuthInterceptor.current();
        run(observer, () -> {
            checkProtocol(request.getProtocolVersion());
            access.checkRight(Access.Right.ADMIN, "ChangeAuth");
            store.change(request, access.isOpen() ? "(authorization off)" : access.principal()).whenComplete((d, e) -> {
                if (e != null) {
                    fail(observer, e);
                } else {
                    observer.onNext(d);
                    observer.onCompleted();
                }
            });
        });
    }

    @Override
    public void describeAuth(DescribeAuthRequest request, StreamObserver<AuthDescription> observer) {
        Access access = AuthInterceptor.current();
        run(observer, () -> {
            checkProtocol(request.getProtocolVersion());
            access.checkRight(Access.Right.ADMIN, "DescribeAuth");
            observer.onNext(store.describe());
            observer.onCompleted();
        });
    }

    private static void checkProtocol(int version) {
        if (version != PROTOCOL_VERSION) {
            throw new TxkvException(ErrorCode.PROTOCOL_VERSION_UNSUPPORTED, "This server speaks protocol version "
                    + PROTOCOL_VERSION + ", the request " + version);
        }
    }

    private void run(StreamObserver<?> observer, Runnable work) {
        try {
            executor.execute(() -> {
                try {
                    work.run();
                } catch (RuntimeException e) {
                    fail(observer, e);
                }
            });
        } catch (RejectedExecutionException e) {
            fail(observer, new TxkvException(ErrorCode.PROXY_MEMORY_LIMIT_EXCEEDED, "The server is busy; retry"));
        }
    }

    private void fail(StreamObserver<?> observer, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        TxkvException e = cause instanceof TxkvException t ? t
                : new TxkvException(ErrorCode.INTERNAL_ERROR, "Auth call failed: " + cause, cause);
        if (e.getError() == ErrorCode.INTERNAL_ERROR) {
            log.error("Auth call failed", cause);
        }
        observer.onError(WireErrors.toStatusException(e, e.getError() == ErrorCode.NOT_LEADER ? notLeader.apply(e) : null));
    }
}
