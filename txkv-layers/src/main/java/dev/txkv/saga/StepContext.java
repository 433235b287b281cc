package dev.txkv.saga;

import java.util.Map;

/**
 * What a step's action or compensation gets: the saga's input, earlier steps' outputs, and an
 * idempotency key to pass to the external system, since every action and compensation runs at
 * least once (a runner may crash after the external call and before recording it).
 *
 * @param sagaId the saga's id
 * @param stepIndex the step's index, from 0
 * @param attempt which attempt of this action or compensation this is, from 1
 * @param input the input the saga was started with
 * @param outputs the recorded outputs of completed steps, by index
 */
public record StepContext(String sagaId, int stepIndex, int attempt, byte[] input, Map<Integer, byte[]> outputs) {
    /** {@code sagaId + "/" + stepIndex}: the same on every attempt and after a crash, so the external side can deduplicate. */
    public String idempotencyKey() {
        return sagaId + "/" + stepIndex;
    }

    /** The output of step {@code index}, or null if it has none yet. */
    public byte[] output(int index) {
        return outputs.get(index);
    }
}
