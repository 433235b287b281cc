package dev.txkv.queue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/** A clock the test moves by hand; thread-safe. Shared by the toolkit layers' tests. */
public final class ManualClock extends Clock {
    private final AtomicLong millis;

    /** A clock reading {@code startMs}. */
    public ManualClock(long startMs) {
        this.millis = new AtomicLong(startMs);
    }

    /** Moves the clock forward. */
    public void advance(Duration d) {
        millis.addAndGet(d.toMillis());
    }

    @Override
    public long millis() {
        return millis.get();
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    /** The same manual time seen from another zone. */
    @Override
    public Clock withZone(ZoneId zone) {
        ManualClock self = this;
        return new Clock() {
            @Override
            public ZoneId getZone() {
                return zone;
            }

            @Override
            public Clock withZone(ZoneId other) {
                return self.withZone(other);
            }

            @Override
            public Instant instant() {
                return self.instant();
            }
        };
    }
}
