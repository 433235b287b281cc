package dev.txkv.remote;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import java.time.Duration;

/**
 * Client-side network settings of the remote backend: deadlines, keepalive, message size and
 * reconnect pacing. Mutable until handed to {@link RemoteBackend#connect(String, RemoteSettings)};
 * every setter checks its argument.
 *
 * <p>{@code Txkv.open(connection)} uses {@link #fromSystemProperties()}, so the deadlines can be
 * changed without code: {@code -Dtxkv.remote.requestTimeoutMs=...},
 * {@code -Dtxkv.remote.commitTimeoutMs=...}, {@code -Dtxkv.remote.watchTimeoutMs=...}.
 */
public final class RemoteSettings {
    /** Largest message accepted from a server; range reads ask for about 1 MiB per call. */
    public static final int MAX_INBOUND_MESSAGE_BYTES_DEFAULT = 16 << 20;

    private Duration requestTimeout = Duration.ofSeconds(10);
    private Duration commitTimeout = Duration.ofSeconds(10);
    private Duration watchTimeout = Duration.ZERO;
    private Duration connectTimeout = Duration.ofSeconds(3);
    private Duration keepAliveTime = Duration.ofSeconds(30);
    private Duration keepAliveTimeout = Duration.ofSeconds(20);
    private Duration reconnectBackoffInitial = Duration.ofMillis(100);
    private Duration reconnectBackoffMax = Duration.ofSeconds(2);
    private Duration shutdownTimeout = Duration.ofSeconds(5);
    private int maxInboundMessageBytes = MAX_INBOUND_MESSAGE_BYTES_DEFAULT;
    private int warmUpCalls = 400;
    private Duration warmUpTimeout = Duration.ofSeconds(1);
    private boolean shardRouting = true;
    private io.grpc.ChannelCredentials credentials;
    private String user;
    private String password;
    private String token;

    /** The defaults, with the deadlines overridden by the {@code txkv.remote.*} system properties. */
    public static RemoteSettings fromSystemProperties() {
        RemoteSettings s = new RemoteSettings();
        Long request = Long.getLong("txkv.remote.requestTimeoutMs");
        if (request != null) {
            s.requestTimeout(Duration.ofMillis(request));
        }
        Long commit = Long.getLong("txkv.remote.commitTimeoutMs");
        if (commit != null) {
            s.commitTimeout(Duration.ofMillis(commit));
        }
        Long watch = Long.getLong("txkv.remote.watchTimeoutMs");
        if (watch != null) {
            s.watchTimeout(Duration.ofMillis(watch));
        }
        Integer warmUp = Integer.getInteger("txkv.remote.warmUpCalls");
        if (warmUp != null) {
            s.warmUpCalls(warmUp);
        }
        Long warmUpTimeout = Long.getLong("txkv.remote.warmUpTimeoutMs");
        if (warmUpTimeout != null) {
            s.warmUpTimeout(Duration.ofMillis(warmUpTimeout));
        }
        String routing = System.getProperty("txkv.remote.shardRouting");
        if (routing != null) {
            s.shardRouting(Boolean.parseBoolean(routing.trim()));
        }
        String user = setting("txkv.user", "TXKV_USER");
        String passwordFile = setting("txkv.passwordFile", "TXKV_PASSWORD_FILE");
        String tokenFile = setting("txkv.tokenFile", "TXKV_TOKEN_FILE");
        if (user != null || passwordFile != null) {
            if (user == null || passwordFile == null) {
                throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Signing in needs both the user (TXKV_USER)"
                        + " and the file that holds the password (TXKV_PASSWORD_FILE)");
            }
            s.credentials(user, firstLine(passwordFile, "password"));
        } else if (tokenFile != null) {
            s.token(firstLine(tokenFile, "token"));
        }
        String ca = setting("txkv.tls.caFile", "TXKV_TLS_CA_FILE");
        String cert = setting("txkv.tls.certFile", "TXKV_TLS_CERT_FILE");
        String key = setting("txkv.tls.keyFile", "TXKV_TLS_KEY_FILE");
        if (ca != null || cert != null || key != null) {
            if (ca == null) {
                throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "TLS needs the CA file (TXKV_TLS_CA_FILE or"
                        + " -Dtxkv.tls.caFile) that signed the servers' certificates");
            }
            s.tls(java.nio.file.Path.of(ca), cert == null ? null : java.nio.file.Path.of(cert),
                    key == null ? null : java.nio.file.Path.of(key));
        }
        return s;
    }

    /** The first line of a secret's file, without its line end. */
    private static String firstLine(String file, String what) {
        try (java.io.BufferedReader reader = java.nio.file.Files.newBufferedReader(java.nio.file.Path.of(file),
                java.nio.charset.StandardCharsets.UTF_8)) {
            String line = reader.readLine();
            return line == null ? "" : line;
        } catch (java.io.IOException | RuntimeException e) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Cannot read the " + what + " file " + file + ": " + e, e);
        }
    }

    /**
     * Signs in as {@code user} with {@code password} (servers with authorization on,
     * docs/security.md): the client asks a server for a token, sends it with every call and
     * renews it before it expires. {@code Txkv.open} takes them from {@code TXKV_USER} and the
     * first line of the file {@code TXKV_PASSWORD_FILE} names (or the {@code txkv.user} and
     * {@code txkv.passwordFile} system properties): never from a command line.
     */
    public RemoteSettings credentials(String user, String password) {
        if (user == null || user.isEmpty() || password == null || password.isEmpty()) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Signing in needs a user and a password");
        }
        this.user = user;
        this.password = password;
        this.token = null;
        return this;
    }

    /**
     * Sends {@code token} (a token from {@code Auth/Authenticate}) with every call instead of
     * signing in; {@code TXKV_TOKEN_FILE} names a file whose first line is one.
     */
    public RemoteSettings token(String token) {
        if (token == null || token.isBlank()) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "A token must not be empty");
        }
        this.token = token.trim();
        this.user = null;
        this.password = null;
        return this;
    }

    /** Whether calls carry credentials ({@link #credentials} or {@link #token}). */
    public boolean signsIn() {
        return user != null || token != null;
    }

    /** A new sign-in for one client, or null without credentials. */
    SignIn newSignIn() {
        return signsIn() ? new SignIn(user, password, token, requestTimeout) : null;
    }

    /** A system property, else an environment variable, else null (blank counts as unset). */
    private static String setting(String property, String environment) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) {
            v = System.getenv(environment);
        }
        return v == null || v.isBlank() ? null : v.trim();
    }

    /**
     * Connects over TLS (1.2 or 1.3): servers must present a certificate signed by the CA in
     * {@code caFile} (PEM) for the host name or address the connection string gives; with
     * {@code certFile} and {@code keyFile} (PEM, PKCS#8) the client presents its own certificate
     * (for servers that ask for one, docs/security.md). {@code Txkv.open} takes them from
     * {@code TXKV_TLS_CA_FILE}, {@code TXKV_TLS_CERT_FILE} and {@code TXKV_TLS_KEY_FILE} (or the
     * {@code txkv.tls.caFile}, {@code certFile}, {@code keyFile} system properties). Default:
     * plaintext.
     *
     * @throws TxkvException invalid_option_value when a file cannot be read or only one of the
     *     certificate and key is given
     */
    public RemoteSettings tls(java.nio.file.Path caFile, java.nio.file.Path certFile, java.nio.file.Path keyFile) {
        if ((certFile == null) != (keyFile == null)) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "A client certificate needs its key, and a key its"
                    + " certificate (TXKV_TLS_CERT_FILE and TXKV_TLS_KEY_FILE go together)");
        }
        io.grpc.TlsChannelCredentials.Builder b = io.grpc.TlsChannelCredentials.newBuilder();
        try {
            b.trustManager(java.util.Objects.requireNonNull(caFile, "caFile").toFile());
            if (certFile != null) {
                b.keyManager(certFile.toFile(), keyFile.toFile());
            }
        } catch (java.io.IOException | RuntimeException e) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Cannot load the client's TLS files (CA " + caFile
                    + (certFile == null ? "" : ", certificate " + certFile + ", key " + keyFile) + "): " + e.getMessage(), e);
        }
        this.credentials = b.build();
        return this;
    }

    /** Whether connections use TLS ({@link #tls}). */
    public boolean tlsEnabled() {
        return credentials != null;
    }

    /** The credentials of every connection: TLS ({@link #tls}) or plaintext. */
    io.grpc.ChannelCredentials channelCredentials() {
        return credentials == null ? io.grpc.InsecureChannelCredentials.create() : credentials;
    }

    /**
     * Whether calls to a sharded cluster go where they need no hop between servers (default
     * true; {@code -Dtxkv.remote.shardRouting=false} turns it off): read versions and the reads
     * and watches at them to the server that runs the sequencer, each commit to the server that
     * leads its home shard, as a server's status names them (refreshed every second while calls
     * are made; docs/sharding.md, "Clients"). Off, every call goes to one server, which forwards.
     * Unsharded clusters are not affected either way.
     */
    public RemoteSettings shardRouting(boolean enabled) {
        this.shardRouting = enabled;
        return this;
    }

    public boolean shardRouting() {
        return shardRouting;
    }

    /**
     * Calls {@code Txkv.open} makes before it returns so that the first transactions find the
     * connections open and the call path loaded and compiled (default 400; 0: none): read
     * versions and reads of the empty key, which change nothing. They stop at the first
     * failure (an unreachable server is reported on first use, as without warm-up) and after
     * {@link #warmUpTimeout(Duration)}.
     */
    public RemoteSettings warmUpCalls(int calls) {
        if (calls < 0) {
            throw new IllegalArgumentException("warmUpCalls must not be negative, got " + calls);
        }
        this.warmUpCalls = calls;
        return this;
    }

    /** The longest the warm-up of {@code Txkv.open} takes (default 1 s). */
    public RemoteSettings warmUpTimeout(Duration timeout) {
        this.warmUpTimeout = nonNegative(timeout, "warmUpTimeout");
        return this;
    }

    public int warmUpCalls() {
        return warmUpCalls;
    }

    public Duration warmUpTimeout() {
        return warmUpTimeout;
    }

    /** Deadline of a read version request, a read or a range read (default 10 s); zero: none. */
    public RemoteSettings requestTimeout(Duration timeout) {
        this.requestTimeout = nonNegative(timeout, "requestTimeout");
        return this;
    }

    /**
     * Deadline of a commit (default 10 s); zero: none. A commit that misses it fails with
     * commit_unknown_result (1021): the server may still apply it.
     */
    public RemoteSettings commitTimeout(Duration timeout) {
        this.commitTimeout = nonNegative(timeout, "commitTimeout");
        return this;
    }

    /** Deadline of a watch (default zero: none, a watch waits as long as it takes). */
    public RemoteSettings watchTimeout(Duration timeout) {
        this.watchTimeout = nonNegative(timeout, "watchTimeout");
        return this;
    }

    /** How long one TCP connect attempt may take (default 3 s). */
    public RemoteSettings connectTimeout(Duration timeout) {
        this.connectTimeout = positive(timeout, "connectTimeout");
        return this;
    }

    /**
     * Interval of HTTP/2 keepalive pings while calls are outstanding (default 30 s); detects a
     * dead connection under a long watch. The txkv server accepts pings every 10 s; a plain
     * gRPC server only every 5 minutes, and closes connections that ping more often.
     */
    public RemoteSettings keepAliveTime(Duration time) {
        this.keepAliveTime = positive(time, "keepAliveTime");
        return this;
    }

    /** How long a keepalive ping may go unanswered before the connection counts as dead (default 20 s). */
    public RemoteSettings keepAliveTimeout(Duration timeout) {
        this.keepAliveTimeout = positive(timeout, "keepAliveTimeout");
        return this;
    }

    /**
     * Pacing of reconnects to a server that refused connections: the first retry after this
     * (default 100 ms), doubling up to {@link #reconnectBackoffMax(Duration)}.
     */
    public RemoteSettings reconnectBackoffInitial(Duration backoff) {
        this.reconnectBackoffInitial = positive(backoff, "reconnectBackoffInitial");
        return this;
    }

    /** Cap of the reconnect backoff (default 2 s), so a restarted server is found quickly. */
    public RemoteSettings reconnectBackoffMax(Duration backoff) {
        this.reconnectBackoffMax = positive(backoff, "reconnectBackoffMax");
        return this;
    }

    /** How long {@code close()} waits for calls to finish before cutting them off (default 5 s). */
    public RemoteSettings shutdownTimeout(Duration timeout) {
        this.shutdownTimeout = nonNegative(timeout, "shutdownTimeout");
        return this;
    }

    /** Largest message accepted from a server (default 16 MiB). */
    public RemoteSettings maxInboundMessageBytes(int bytes) {
        if (bytes <= 0) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "maxInboundMessageBytes must be positive, got " + bytes);
        }
        this.maxInboundMessageBytes = bytes;
        return this;
    }

    public Duration requestTimeout() {
        return requestTimeout;
    }

    public Duration commitTimeout() {
        return commitTimeout;
    }

    public Duration watchTimeout() {
        return watchTimeout;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    public Duration keepAliveTime() {
        return keepAliveTime;
    }

    public Duration keepAliveTimeout() {
        return keepAliveTimeout;
    }

    public Duration reconnectBackoffInitial() {
        return reconnectBackoffInitial;
    }

    public Duration reconnectBackoffMax() {
        return reconnectBackoffMax;
    }

    public Duration shutdownTimeout() {
        return shutdownTimeout;
    }

    public int maxInboundMessageBytes() {
        return maxInboundMessageBytes;
    }

    private static Duration nonNegative(Duration d, String name) {
        if (d == null || d.isNegative()) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, name + " must be zero or more, got " + d);
        }
        return d;
    }

    private static Duration positive(Duration d, String name) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, name + " must be positive, got " + d);
        }
        return d;
    }
}
