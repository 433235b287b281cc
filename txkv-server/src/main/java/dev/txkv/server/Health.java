package dev.txkv.server;

import java.util.List;
import java.util.Objects;

/**
 * Whether the database is available and healthy as one member sees it, and why not; how a
 * member decides is in {@link StatusDocument#health()}.
 *
 * @param available reads and commits work through this member
 * @param healthy available, and on a leader every follower answers within an election timeout
 * @param messages why not, and other things an operator should know; first the reason it is
 *     not available, when it is not
 */
record Health(boolean available, boolean healthy, List<Message> messages) {
    Health {
        messages = List.copyOf(messages);
        if (healthy && !available) {
            throw new IllegalArgumentException("A member that is not available cannot be healthy");
        }
    }

    /**
     * One thing an operator should know.
     *
     * @param name a stable name, e.g. {@code no_leader}
     * @param description what happened, for people
     */
    record Message(String name, String description) {
        Message {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(description, "description");
        }
    }

    /** Why this server should not get traffic, or null when it should. */
    String problem() {
        if (available) {
            return null;
        }
        return messages.isEmpty() ? "unavailable" : messages.get(0).description();
    }
}
