package dev.txkv.server.auth;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.wire.WireErrors;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Finds out who makes each call, before any service sees it, and puts what they may do
 * ({@link Access}) into the call's context ({@link #current()}): the "authorization: Bearer"
 * header's token, else the client certificate's common name. A call with bad credentials is
 * closed here (6001, 6003). Sign-in ({@code Auth/Authenticate}) and health checks need no
 * credentials. The calls between the members of a sharded cluster (service ShardPeer) need a
 * member's certificate, except an operator's Split, Move and Exclude, which need the admin right.
 *
 * <p>On the network port, metadata {@value #INTERNAL_PRINCIPAL} is refused outright: only the
 * HTTP gateway, on the in-process port, may say which certificate a caller presented.
 */
public final class AuthInterceptor implements ServerInterceptor {
    /** Set by the HTTP gateway (in-process only): the common name of the HTTPS client's certificate. */
    public static final String INTERNAL_PRINCIPAL = "txkv-internal-principal";
    public static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    public static final Metadata.Key<String> INTERNAL = Metadata.Key.of(INTERNAL_PRINCIPAL, Metadata.ASCII_STRING_MARSHALLER);
    /** Set by the HTTP gateway (in-process only): the HTTP client's address, for throttling and the audit log. */
    public static final Metadata.Key<String> INTERNAL_ADDRESS = Metadata.Key.of("txkv-internal-address",
            Metadata.ASCII_STRING_MARSHALLER);
    /** What the call's caller may do, and its hold on the caller's limits: one context value per call. */
    private record Caller(Access access, PrincipalLimits.Call limits) {
    }

    private static final Context.Key<Caller> CALLER = Context.key("txkv-caller");
    private static final Context.Key<String> ADDRESS = Context.key("txkv-peer-address");
    private static final String WATCH = "txkv.v1.Txkv/Watch";
    private static final String AUTHENTICATE = "txkv.v1.Auth/Authenticate";

    private final AuthStore store;
    private final boolean inProcess;
    private final PrincipalLimits limits;

    /**
     * @param limits per-user limits, shared by the server's interceptors (network and in-process)
     */
    public AuthInterceptor(AuthStore store, boolean inProcess, PrincipalLimits limits) {
        this.store = store;
        this.inProcess = inProcess;
        this.limits = limits;
    }

    /** The current call's hold on its user's limits ({@link PrincipalLimits}); nothing is limited outside a call. */
    public static PrincipalLimits.Call limits() {
        Caller c = CALLER.get();
        return c == null ? PrincipalLimits.Call.NONE : c.limits();
    }

    /**
     * What the current call's caller may do; {@link Access#OPEN} outside a call that went
     * through an interceptor (in-process tests of a service alone).
     */
    public static Access current() {
        Caller c = CALLER.get();
        return c == null ? Access.OPEN : c.access();
    }

    /** The current call's remote address, for the audit log ("" when unknown). */
    public static String currentAddress() {
        String a = ADDRESS.get();
        return a == null ? "" : a;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        Access access;
        PrincipalLimits.Call held = PrincipalLimits.Call.NONE;
        try {
            String internal = headers.get(INTERNAL);
            if ((internal != null || headers.containsKey(INTERNAL_ADDRESS)) && !inProcess) {
                dev.txkv.server.tls.Audit.event("authentication_failed", "address", address(call, headers), "method", method,
                        "reason", "internal principal header from the network");
                throw new TxkvException(ErrorCode.UNAUTHORIZED_ATTEMPT, "Metadata txkv-internal-* is for the"
                        + " server's own gateway");
            }
            if (method.startsWith("grpc.health.") || method.equals(AUTHENTICATE)) {
                access = Access.OPEN;
            } else {
                String name = internal != null ? internal : certificateName(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
                access = store.access(headers.get(AUTHORIZATION), name);
                if (method.equals("txkv.v1.ShardPeer/Split") || method.equals("txkv.v1.ShardPeer/Move")
                        || method.equals("txkv.v1.ShardPeer/Exclude") || method.equals("txkv.v1.ShardPeer/Merge")) {
                    access.checkRight(Access.Right.ADMIN, method.substring(method.indexOf('/') + 1));
                } else if (method.startsWith("txkv.v1.ShardPeer/")) {
                    // The calls between the members of a sharded cluster.
                    access.checkMember(method);
                }
                if (!access.isOpen() && !access.isMember()) {
                    held = limits.admit(access.principal(), method.equals(WATCH));
                }
            }
        } catch (TxkvException e) {
            call.close(WireErrors.status(e), WireErrors.trailers(e, null));
            return new ServerCall.Listener<>() { };
        }
        if (access == Access.OPEN && !method.equals(AUTHENTICATE)) {
            // Authorization off: what current() answers without a context, at no cost per call.
            return next.startCall(call, headers);
        }
        Context context = Context.current().withValue(CALLER, new Caller(access, held));
        if (method.equals(AUTHENTICATE)) {
            context = context.withValue(ADDRESS, address(call, headers));
        }
        if (held == PrincipalLimits.Call.NONE) {
            return Contexts.interceptCall(context, call, headers, next);
        }
        PrincipalLimits.Call release = held;
        ServerCall.Listener<Q> listener;
        try {
            listener = Contexts.interceptCall(context, call, headers, next);
        } catch (RuntimeException e) {
            release.end();
            throw e;
        }
        return new io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onComplete() {
                release.end();
                super.onComplete();
            }

            @Override
            public void onCancel() {
                release.end();
                super.onCancel();
            }
        };
    }

    /**
     * The caller's host (without the port: failed sign-ins are counted per user and address):
     * on the in-process port, the HTTP client's as the gateway says.
     */
    private String address(ServerCall<?, ?> call, Metadata headers) {
        if (inProcess && headers.containsKey(INTERNAL_ADDRESS)) {
            return headers.get(INTERNAL_ADDRESS);
        }
        SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        return remote instanceof java.net.InetSocketAddress i && i.getAddress() != null
                ? i.getAddress().getHostAddress() : String.valueOf(remote);
    }

    /**
     * The common name of the peer's certificate, or null without one. It is worked out once per
     * TLS session and kept with the session (every call of a connection shares it): asking a
     * session without a peer certificate throws, and parsing a name is not free either.
     */
    public static String certificateName(SSLSession session) {
        if (session == null) {
            return null;
        }
        if (session.getValue(SESSION_NAME) instanceof PeerName known) {
            return known.name();
        }
        String name = null;
        try {
            Certificate[] chain = session.getPeerCertificates();
            if (chain.length > 0 && chain[0] instanceof X509Certificate c) {
                name = dev.txkv.server.tls.NameCheckingTrustManager.commonName(c);
            }
        } catch (SSLPeerUnverifiedException e) {
            name = null;
        }
        try {
            session.putValue(SESSION_NAME, new PeerName(name));
        } catch (RuntimeException e) {
            // A session that keeps no values: worked out again next time.
        }
        return name;
    }

    /** The value kept with a TLS session: its peer certificate's common name, null without one. */
    private record PeerName(String name) {
    }

    private static final String SESSION_NAME = "txkv.peer-certificate-name";
}
