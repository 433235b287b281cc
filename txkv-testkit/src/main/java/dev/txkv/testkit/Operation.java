package dev.txkv.testkit;

import java.util.List;
import java.util.Objects;

/**
 * One recorded transaction attempt. Every attempt is its own operation with its own unique
 * appended values, so a retry after {@code commit_unknown_result} can never be confused with
 * the attempt before it.
 *
 * <p>Times come from one monotonic clock ({@link System#nanoTime()} by default) and are only
 * comparable within one history: the checker derives real-time order from them.
 *
 * @param id unique within the history, assigned in invocation order
 * @param process the worker (thread) that ran it
 * @param type how it ended
 * @param invokeNanos when the attempt began (before its first request)
 * @param completeNanos when its outcome was known; {@link #NEVER} if it never completed
 * @param ops the micro-operations, with reads' observed results where known
 * @param error a short description of the error that ended it, or null
 */
public record Operation(long id, int process, OpType type, long invokeNanos, long completeNanos,
                        List<MicroOp> ops, String error) {
    /** The completion time of an operation whose completion was never recorded (a crash). */
    public static final long NEVER = Long.MAX_VALUE;

    public Operation {
        Objects.requireNonNull(type, "type");
        ops = List.copyOf(ops);
        if (completeNanos != NEVER && completeNanos < invokeNanos) {
            throw new IllegalArgumentException("Operation " + id + " completes before it is invoked");
        }
        if (completeNanos == NEVER && type != OpType.INFO) {
            throw new IllegalArgumentException("Only an INFO operation may lack a completion time: " + id);
        }
    }

    /**
     * True when this operation certainly took effect before {@code other} began: it committed
     * (OK) and its completion precedes {@code other}'s invocation. An INFO operation never
     * qualifies, since it may take effect at any time after its invocation.
     */
    public boolean precedesInRealTime(Operation other) {
        return type == OpType.OK && completeNanos < other.invokeNanos;
    }

    /** The name used in anomaly reports, e.g. {@code T42}. */
    public String name() {
        return "T" + id;
    }

    @Override
    public String toString() {
        return name() + "{p" + process + " " + type.token() + " " + ops
                + (error == null ? "" : " error=" + error) + "}";
    }
}
