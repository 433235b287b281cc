package dev.txkv.saga;

import java.util.List;
import java.util.Objects;

/**
 * A named, ordered list of steps. Runners find a stored saga's definition by name, so the
 * name and the meaning of each step index must stay stable while sagas of it are in flight.
 *
 * @param name the definition's name
 * @param steps the steps, run in this order and compensated in reverse
 */
public record SagaDefinition(String name, List<Step> steps) {
    /** Most steps in one saga. */
    public static final int STEPS_MAX = 1_000;

    /** Checks the limits and copies the list. */
    public SagaDefinition {
        Objects.requireNonNull(name, "name");
        steps = List.copyOf(steps);
        if (steps.isEmpty() || steps.size() > STEPS_MAX) {
            throw new IllegalArgumentException("a saga has 1 to " + STEPS_MAX + " steps, got " + steps.size());
        }
    }

    /** A definition of {@code steps}. */
    public static SagaDefinition of(String name, Step... steps) {
        return new SagaDefinition(name, List.of(steps));
    }
}
