package dev.txkv.testkit;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A reference model: a list-append store that runs transactions one at a time, each taking
 * effect at an instant inside its recorded [invoke, complete] interval, so every history it
 * produces is strictly serializable. Some transactions fail (no effect) and some end
 * indeterminately (effect or not, reads unknown).
 */
final class SerialListAppendSimulation {
    private SerialListAppendSimulation() {
    }

    static History run(Random random, int transactions, int keys, int opsMax) {
        Map<Long, List<Long>> store = new HashMap<>();
        List<Operation> ops = new ArrayList<>();
        long nextValue = 1;
        for (int i = 0; i < transactions; i++) {
            long effectAt = 1_000 + 10L * i;
            long invoke = effectAt - random.nextInt(30);
            long complete = effectAt + random.nextInt(30);
            int roll = random.nextInt(10);
            OpType type = roll < 8 ? OpType.OK : roll == 8 ? OpType.FAIL : OpType.INFO;
            boolean applies = type == OpType.OK || (type == OpType.INFO && random.nextBoolean());
            Map<Long, List<Long>> view = new HashMap<>();
            List<MicroOp> steps = new ArrayList<>();
            int n = 1 + random.nextInt(opsMax);
            for (int j = 0; j < n; j++) {
                long key = random.nextInt(keys);
                List<Long> state = view.computeIfAbsent(key, k -> new ArrayList<>(store.getOrDefault(k, List.of())));
                if (random.nextBoolean()) {
                    state.add(nextValue);
                    steps.add(MicroOp.append(key, nextValue++));
                } else {
                    steps.add(type == OpType.INFO ? MicroOp.readListUnknown(key) : MicroOp.readList(key, state));
                }
            }
            if (applies) {
                store.putAll(view);
            }
            if (type == OpType.INFO && random.nextBoolean()) {
                complete = Operation.NEVER;
            }
            ops.add(new Operation(i, random.nextInt(4), type, invoke, complete, steps,
                    type == OpType.OK ? null : "simulated " + type.token()));
        }
        return new History(ops);
    }

    /**
     * Makes one committed read stale: drops the last element of a read whose last element was
     * appended by another committed transaction that completed before the reader began.
     * Returns null if the history has no such read.
     */
    static History plantStaleRead(History history, Random random) {
        List<Operation> ops = history.operations();
        Map<Long, Map<Long, Operation>> writers = new HashMap<>();
        for (Operation op : ops) {
            for (MicroOp m : op.ops()) {
                if (m.kind() == MicroOp.Kind.APPEND) {
                    writers.computeIfAbsent(m.key(), k -> new HashMap<>()).put(m.value(), op);
                }
            }
        }
        List<int[]> candidates = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            Operation reader = ops.get(i);
            if (reader.type() != OpType.OK) {
                continue;
            }
            for (int j = 0; j < reader.ops().size(); j++) {
                MicroOp m = reader.ops().get(j);
                if (m.kind() != MicroOp.Kind.READ_LIST || !m.known() || m.list().isEmpty()) {
                    continue;
                }
                Operation writer = writers.get(m.key()).get(m.list().get(m.list().size() - 1));
                if (writer != reader && writer.precedesInRealTime(reader)) {
                    candidates.add(new int[] {i, j});
                }
            }
        }
        if (candidates.isEmpty()) {
            return null;
        }
        int[] pick = candidates.get(random.nextInt(candidates.size()));
        Operation reader = ops.get(pick[0]);
        List<MicroOp> steps = new ArrayList<>(reader.ops());
        MicroOp read = steps.get(pick[1]);
        steps.set(pick[1], read.withList(read.list().subList(0, read.list().size() - 1)));
        List<Operation> mutated = new ArrayList<>(ops);
        mutated.set(pick[0], new Operation(reader.id(), reader.process(), reader.type(), reader.invokeNanos(),
                reader.completeNanos(), steps, reader.error()));
        return new History(mutated);
    }
}
