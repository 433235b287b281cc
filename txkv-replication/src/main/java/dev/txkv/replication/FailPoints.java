package dev.txkv.replication;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Named places in the engine where a test can make it fail on purpose, as FoundationDB's
 * BUGGIFY and TiKV's fail points do: to show that a failure there is survived, reported and
 * repaired as documented. Nothing is armed unless a test arms it, in-process with
 * {@link #arm(String)} or in a server process with the system property
 * {@code txkv.failpoints} (names separated by commas). An unarmed check is one lookup in an
 * empty set.
 *
 * <p>Names:
 * <ul>
 *   <li>{@code raft.apply.<member id>}: that member fails to apply the next log entry it
 *       applies, as if its storage were corrupt ({@link TxkvStateMachine}).
 * </ul>
 */
public final class FailPoints {
    /** The system property that arms fail points when the engine class loads. */
    public static final String PROPERTY = "txkv.failpoints";

    private static final Set<String> ARMED = ConcurrentHashMap.newKeySet();

    static {
        String armed = System.getProperty(PROPERTY, "");
        for (String name : armed.split(",")) {
            if (!name.isBlank()) {
                ARMED.add(name.trim());
            }
        }
    }

    private FailPoints() {
    }

    /** Arms {@code name}: the next check of it fails (once). */
    public static void arm(String name) {
        ARMED.add(name);
    }

    /** Disarms {@code name}. */
    public static void disarm(String name) {
        ARMED.remove(name);
    }

    /** The fail point name for a member's log apply. */
    public static String applyOf(String memberId) {
        return "raft.apply." + memberId;
    }

    /** True once if {@code name} is armed (it is disarmed by the hit). */
    static boolean hit(String name) {
        return !ARMED.isEmpty() && ARMED.remove(name);
    }
}
