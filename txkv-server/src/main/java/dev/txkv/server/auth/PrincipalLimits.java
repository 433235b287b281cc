package dev.txkv.server.auth;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one user may hold on one server at once, so that a single service cannot take a
 * server's memory or threads from the others: {@value #CALLS_MAX} calls in flight (watches
 * apart), {@value #WATCHES_MAX} open watches, and {@value #ANSWER_BYTES_MAX} bytes of
 * GetRange and GetMany answers in calls not yet finished (a client that never reads its
 * answers holds them; past the limit its next large answer is refused instead of buffered).
 * Over a limit: tag_throttled (1213, retryable) for calls and bytes, too_many_watches (1032)
 * for watches. Members and servers without authorization have no such limits (the server's
 * own limits still apply, docs/server.md).
 */
public final class PrincipalLimits {
    public static final int CALLS_MAX = 1_024;
    public static final int WATCHES_MAX = 1_000;
    public static final long ANSWER_BYTES_MAX = 64L << 20;

    private static final class Counters {
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger watches = new AtomicInteger();
        final AtomicLong bytes = new AtomicLong();
    }

    /** One admitted call: what it holds, given back once when it ends. */
    public static final class Call {
        static final Call NONE = new Call(null, null, false);
        private final Counters counters;
        private final String principal;
        private final boolean watch;
        private final AtomicLong charged = new AtomicLong();
        private final AtomicBoolean ended = new AtomicBoolean();

        private Call(Counters counters, String principal, boolean watch) {
            this.counters = counters;
            this.principal = principal;
            this.watch = watch;
        }

        /**
         * Counts {@code bytes} of answer against the user's limit until the call ends, or
         * throws tag_throttled (1213) when they do not fit: send nothing then.
         */
        public void charge(long bytes) {
            if (counters == null || bytes <= 0) {
                return;
            }
            long after = counters.bytes.addAndGet(bytes);
            if (after > ANSWER_BYTES_MAX && after != bytes) {
                counters.bytes.addAndGet(-bytes);
                throw new TxkvException(ErrorCode.TAG_THROTTLED, "User '" + principal + "' holds "
                        + (after - bytes) + " bytes of answers its calls have not received yet, and this one has " + bytes
                        + " (limit " + ANSWER_BYTES_MAX + "); read the answers of open calls first, then retry");
            }
            charged.addAndGet(bytes);
        }

        void end() {
            if (counters == null || !ended.compareAndSet(false, true)) {
                return;
            }
            (watch ? counters.watches : counters.calls).decrementAndGet();
            counters.bytes.addAndGet(-charged.get());
        }
    }

    private final ConcurrentHashMap<String, Counters> byPrincipal = new ConcurrentHashMap<>();

    /** Admits one call of {@code principal} (a watch or any other call), or throws. */
    Call admit(String principal, boolean watch) {
        Counters c = byPrincipal.computeIfAbsent(principal, p -> new Counters());
        AtomicInteger count = watch ? c.watches : c.calls;
        int max = watch ? WATCHES_MAX : CALLS_MAX;
        if (count.incrementAndGet() > max) {
            count.decrementAndGet();
            dev.txkv.server.tls.Audit.event("principal_limit", "principal", principal, "limit", watch ? "watches" : "calls");
            throw watch
                    ? new TxkvException(ErrorCode.TOO_MANY_WATCHES, "User '" + principal + "' has " + max
                            + " open watches on this server, its limit")
                    : new TxkvException(ErrorCode.TAG_THROTTLED, "User '" + principal + "' has " + max
                            + " calls in flight on this server, its limit; retry when some have finished");
        }
        return new Call(c, principal, watch);
    }
}
