package dev.txkv.testkit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Builds small hand-written histories: each operation gets the next id and its own process. */
final class Histories {
    private final List<Operation> ops = new ArrayList<>();

    Histories ok(long invoke, long complete, MicroOp... steps) {
        return add(OpType.OK, invoke, complete, steps);
    }

    Histories fail(long invoke, long complete, MicroOp... steps) {
        return add(OpType.FAIL, invoke, complete, steps);
    }

    Histories info(long invoke, long complete, MicroOp... steps) {
        return add(OpType.INFO, invoke, complete, steps);
    }

    History build() {
        return new History(ops);
    }

    static MicroOp a(long key, long value) {
        return MicroOp.append(key, value);
    }

    static MicroOp r(long key, long... values) {
        return MicroOp.readList(key, Arrays.stream(values).boxed().toList());
    }

    private Histories add(OpType type, long invoke, long complete, MicroOp... steps) {
        int id = ops.size();
        ops.add(new Operation(id, id, type, invoke, complete, List.of(steps), type == OpType.OK ? null : "planted"));
        return this;
    }
}
