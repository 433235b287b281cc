package dev.txkv.engine;

import dev.txkv.spi.Environment;

/**
 * Commit versions: strictly increasing, advancing about 1,000,000 per second of elapsed time
 * as in FoundationDB, so that the MVCC window in milliseconds is also a version distance.
 * Starts above every version already used (read from storage), even if the wall clock went
 * backwards, and then follows the monotonic clock of its {@link Environment}.
 */
final class VersionClock {
    private final Environment env;
    private final long baseVersion;
    private final long baseNanos;

    VersionClock(Environment env, long lastUsedVersion) {
        this.env = env;
        this.baseVersion = Math.max(lastUsedVersion + 1, env.currentTimeMillis() * 1000L);
        this.baseNanos = env.nanoTime();
    }

    /** The version that "now" corresponds to. */
    long now() {
        return baseVersion + (env.nanoTime() - baseNanos) / 1000L;
    }

    /** The next commit version: after {@code last} and no earlier than now. */
    long next(long last) {
        return Math.max(last + 1, now());
    }

    static long msToVersions(long ms) {
        return ms * 1000L;
    }
}
