package dev.txkv.engine;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Named steps of the two-phase protocol where a fault test can crash this member on purpose,
 * to hit a narrow window that random kills rarely meet (a coordinator between the last vote and
 * its decision). A point does nothing until armed; once reached it disarms itself and runs the
 * crash, which for a server process is {@link #haltingProcess()}: the process ends at once, as
 * under SIGKILL. A server arms points only when started with {@code --crash-points}, a flag for
 * fault tests ({@code txkv check}); production servers never have one armed.
 */
public final class CrashPoints {
    /** The exit status of a process halted by a crash point. */
    public static final int EXIT_STATUS = 99;

    /** Where in the protocol. */
    public enum Point {
        /** A coordinator has every yes vote; its decision is not yet in its log. */
        COORDINATOR_BEFORE_DECISION,
        /** A coordinator's commit decision is durable; the client is not answered yet. */
        COORDINATOR_AFTER_DECISION,
        /** A participant's prepared record is durable; its yes vote is on its way or not yet. */
        PARTICIPANT_AFTER_VOTE;

        /** The point's name on the command line and the wire, e.g. coordinator-before-decision. */
        public String token() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** The point a {@link #token()} names; IllegalArgumentException listing the known ones. */
        public static Point ofToken(String token) {
            for (Point p : values()) {
                if (p.token().equals(token)) {
                    return p;
                }
            }
            StringBuilder known = new StringBuilder();
            for (Point p : values()) {
                known.append(known.length() == 0 ? "" : ", ").append(p.token());
            }
            throw new IllegalArgumentException("unknown crash point '" + token + "' (known: " + known + ")");
        }
    }

    /** Points that can never be armed: what every engine has unless given others. */
    public static final CrashPoints NONE = new CrashPoints(p -> {
        throw new IllegalStateException("crash points are off");
    });

    private final Set<Point> armed = EnumSet.noneOf(Point.class);
    private final Consumer<Point> crash;

    /** Points that run {@code crash} when an armed one is reached. */
    public CrashPoints(Consumer<Point> crash) {
        this.crash = crash;
    }

    /** Points that end this process at once (exit status {@link #EXIT_STATUS}) when an armed one is reached. */
    public static CrashPoints haltingProcess() {
        return new CrashPoints(p -> {
            System.err.println("txkv: crash point " + p.token() + " reached: halting the process on purpose");
            System.err.flush();
            Runtime.getRuntime().halt(EXIT_STATUS);
        });
    }

    /** Arms {@code point}: the next time any shard of this member reaches it, the crash runs. */
    public synchronized void arm(Point point) {
        if (this == NONE) {
            throw new IllegalStateException("crash points are off");
        }
        armed.add(point);
    }

    /** Disarms {@code point}; whether it was armed. */
    public synchronized boolean disarm(Point point) {
        return armed.remove(point);
    }

    /** The armed points. */
    public synchronized Set<Point> armed() {
        return armed.isEmpty() ? Set.of() : EnumSet.copyOf(armed);
    }

    /** The protocol reached {@code point}: crash if it is armed (it disarms itself first). */
    void reach(Point point) {
        boolean fire;
        synchronized (this) {
            fire = armed.remove(point);
        }
        if (fire) {
            crash.accept(point);
        }
    }
}
