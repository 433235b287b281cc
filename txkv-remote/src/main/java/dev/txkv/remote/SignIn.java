package dev.txkv.remote;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.proto.AuthGrpc;
import dev.txkv.proto.AuthenticateRequest;
import dev.txkv.proto.AuthenticateResponse;
import dev.txkv.wire.WireErrors;
import io.grpc.CallCredentials;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * A user's sign-in, shared by every call of one client: it asks a server for a token with the
 * user's password ({@code Auth/Authenticate}), puts it on every call ("authorization: Bearer"),
 * and asks for a new one a minute before it expires, or at once after a server refused it
 * (authorization_token_verify_failed, 6003, which is retryable: the retry signs in again).
 * A fixed token (from a tool) is sent as it is; its refusal is reported as
 * unauthorized_attempt (6001), which is final, since there is nothing to renew it with.
 */
final class SignIn implements ClientInterceptor {
    private static final String AUTHENTICATE = AuthGrpc.getAuthenticateMethod().getFullMethodName();
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final long REFRESH_BEFORE_MS = 60_000;

    private final String user;
    private final String password;
    private final String fixedToken;
    private final Duration timeout;
    private volatile List<Channel> channels = List.of();
    private volatile String token;
    private volatile long refreshAtMs;
    private CompletableFuture<String> pending;

    SignIn(String user, String password, String fixedToken, Duration timeout) {
        this.user = user;
        this.password = password;
        this.fixedToken = fixedToken;
        this.timeout = timeout;
        this.token = fixedToken;
        this.refreshAtMs = Long.MAX_VALUE;
    }

    /** The servers' channels a sign-in may go to, in order. */
    void channels(List<Channel> channels) {
        this.channels = List.copyOf(channels);
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        if (method.getFullMethodName().equals(AUTHENTICATE)) {
            return next.newCall(method, options);
        }
        ClientCall<Q, R> call = next.newCall(method, options.withCallCredentials(credentials));
        return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
            @Override
            public void start(Listener<R> listener, Metadata headers) {
                super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                    @Override
                    public void onClose(Status status, Metadata trailers) {
                        String code = trailers == null ? null : trailers.get(WireErrors.ERROR_CODE);
                        if (Integer.toString(ErrorCode.AUTHORIZATION_TOKEN_VERIFY_FAILED.code()).equals(code)) {
                            if (fixedToken != null) {
                                // Nothing to renew a fixed token with: a retry would only meet the same refusal.
                                TxkvException final_ = new TxkvException(ErrorCode.UNAUTHORIZED_ATTEMPT,
                                        "The server refused the client's token: " + status.getDescription());
                                super.onClose(WireErrors.status(final_), WireErrors.trailers(final_, null));
                                return;
                            }
                            forget();
                        }
                        super.onClose(status, trailers);
                    }
                }, headers);
            }
        };
    }

    /** A refused token: the next call signs in again. */
    private synchronized void forget() {
        token = null;
    }

    private final CallCredentials credentials = new CallCredentials() {
        @Override
        public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
            current().whenComplete((t, error) -> {
                if (error != null) {
                    Throwable cause = GrpcErrors.unwrap(error);
                    applier.fail(Status.UNAUTHENTICATED.withDescription("Sign-in failed: " + cause.getMessage())
                            .withCause(cause));
                    return;
                }
                Metadata m = new Metadata();
                m.put(AUTHORIZATION, "Bearer " + t);
                applier.apply(m);
            });
        }
    };

    /** The token to send now: the one held, or a sign-in's (one at a time, shared by every waiting call). */
    private synchronized CompletableFuture<String> current() {
        String t = token;
        if (t != null && System.currentTimeMillis() < refreshAtMs) {
            return CompletableFuture.completedFuture(t);
        }
        if (pending == null) {
            CompletableFuture<String> p = authenticate(0, null);
            pending = p;
            p.whenComplete((x, e) -> {
                synchronized (SignIn.this) {
                    pending = null;
                }
            });
        }
        return pending;
    }

    private CompletableFuture<String> authenticate(int index, Throwable last) {
        List<Channel> list = channels;
        if (index >= list.size()) {
            return CompletableFuture.failedFuture(last != null ? last
                    : new TxkvException(ErrorCode.CONNECTION_FAILED, "No server to sign in to"));
        }
        CompletableFuture<AuthenticateResponse> answer = new CompletableFuture<>();
        AuthGrpc.newStub(list.get(index)).withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                .authenticate(AuthenticateRequest.newBuilder().setProtocolVersion(ProtoCodec.PROTOCOL_VERSION)
                        .setUser(user).setPassword(password).build(), new StreamObserver<>() {
                            @Override
                            public void onNext(AuthenticateResponse r) {
                                answer.complete(r);
                            }

                            @Override
                            public void onError(Throwable t) {
                                answer.completeExceptionally(t);
                            }

                            @Override
                            public void onCompleted() {
                            }
                        });
        return answer.handle((r, error) -> {
            if (error == null) {
                synchronized (SignIn.this) {
                    token = r.getToken();
                    long lifetime = r.getExpiresAtMs() - System.currentTimeMillis();
                    refreshAtMs = System.currentTimeMillis() + Math.max(lifetime / 2, lifetime - REFRESH_BEFORE_MS);
                }
                return CompletableFuture.completedFuture(r.getToken());
            }
            GrpcErrors.Mapped m = GrpcErrors.map(error, GrpcErrors.Call.STATUS, null, false);
            if (m.transport()) {
                return authenticate(index + 1, m.error());
            }
            return CompletableFuture.<String>failedFuture(m.error());
        }).thenCompose(f -> f);
    }
}
