package dev.txkv.saga;

import java.util.Map;

/**
 * The persisted state of one saga, as read from txkv.
 *
 * @param id the saga's id
 * @param definition the name of its {@link SagaDefinition}
 * @param status where it stands
 * @param step RUNNING: the step to run next; COMPENSATING: the step to compensate next
 *     (counting down; -1 when done); final states: where it ended
 * @param attempts failed attempts of the current action or compensation
 * @param createdAtMs when it was started
 * @param updatedAtMs when its state last changed
 * @param nextAttemptAtMs when a runner may next work on it (after a backoff)
 * @param input the input it was started with
 * @param outcomeUnknown whether the current RUNNING step had an attempt time out (its effect is unknown,
 *     so compensation will include it)
 * @param failure why it is compensating or failed; null otherwise
 * @param outputs the outputs of completed steps, by index
 */
public record Saga(String id, String definition, SagaStatus status, int step, int attempts, long createdAtMs,
        long updatedAtMs, long nextAttemptAtMs, byte[] input, boolean outcomeUnknown, String failure,
        Map<Integer, byte[]> outputs) {
}
