package dev.txkv.engine;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Counters of the engine, read by status and benchmarks. Cheap to update from any thread. */
final class EngineStats {
    final LongAdder commits = new LongAdder();
    final LongAdder batches = new LongAdder();
    final LongAdder conflicts = new LongAdder();
    final LongAdder tooOld = new LongAdder();
    final LongAdder commitsRejected = new LongAdder();
    final LongAdder reads = new LongAdder();
    final AtomicLong writeNanosTotal = new AtomicLong();

    void recordBatch(int committed, long writeNanos) {
        commits.add(committed);
        batches.increment();
        writeNanosTotal.addAndGet(writeNanos);
    }
}
