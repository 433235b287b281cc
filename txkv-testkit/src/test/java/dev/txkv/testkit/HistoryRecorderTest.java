package dev.txkv.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class HistoryRecorderTest {
    @Test
    void concurrentWorkersGetUniqueIdsAndEveryOperationIsKept() throws InterruptedException {
        HistoryRecorder recorder = new HistoryRecorder();
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < 8; p++) {
            int process = p;
            threads.add(new Thread(() -> {
                for (int i = 0; i < 500; i++) {
                    long id = recorder.invoke(process, List.of(MicroOp.append(process, i)));
                    recorder.complete(id, OpType.OK, List.of(MicroOp.append(process, i)), null);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join(10_000);
        }
        History history = recorder.history();
        assertThat(history.operations()).hasSize(4000);
        assertThat(recorder.inFlight()).isZero();
    }

    @Test
    void inFlightOperationsReadAsIndeterminateAndNeverCompleted() throws IOException {
        AtomicLong clock = new AtomicLong(100);
        StringWriter sink = new StringWriter();
        HistoryRecorder recorder = new HistoryRecorder(clock::incrementAndGet, sink);
        recorder.putMetadata("workload", "test\twith tab");
        long done = recorder.invoke(0, List.of(MicroOp.readListUnknown(1), MicroOp.append(1, 5)));
        recorder.complete(done, OpType.FAIL, List.of(MicroOp.readList(1, List.of(3L, 4L)), MicroOp.append(1, 5)),
                "not_committed (1020)\nsecond line");
        long pending = recorder.invoke(1, List.of(MicroOp.readRegisterUnknown(2), MicroOp.write(2, 7)));

        History inMemory = recorder.history();
        Operation open = inMemory.operations().get(1);
        assertThat(open.id()).isEqualTo(pending);
        assertThat(open.type()).isEqualTo(OpType.INFO);
        assertThat(open.completeNanos()).isEqualTo(Operation.NEVER);
        assertThat(open.precedesInRealTime(inMemory.operations().get(0))).isFalse();

        History streamed = History.readFrom(new StringReader(sink.toString()));
        assertThat(streamed.operations()).hasSize(2);
        assertThat(streamed.operations().get(1)).isEqualTo(open);
        assertThat(streamed.operations().get(0).error()).isEqualTo("not_committed (1020) second line");
        assertThat(streamed.metadata()).containsEntry("workload", "test with tab");
    }

    @Test
    void everyMicroOperationSurvivesTheTextFormat() throws IOException {
        List<MicroOp> steps = List.of(MicroOp.append(1, 2), MicroOp.readList(1, List.of()),
                MicroOp.readList(1, List.of(2L, 3L)), MicroOp.readListUnknown(4), MicroOp.write(5, -6),
                MicroOp.readRegister(5, null), MicroOp.readRegister(5, -6L), MicroOp.readRegisterUnknown(7));
        History history = new History(List.of(
                new Operation(0, 3, OpType.OK, 10, 20, steps, null),
                new Operation(1, 4, OpType.INFO, 15, Operation.NEVER, List.of(), "crash")));
        StringWriter out = new StringWriter();
        history.writeTo(out);
        assertThat(History.readFrom(new StringReader(out.toString()))).isEqualTo(history);
    }

    @Test
    void malformedLineBeforeTheEndIsAnError() {
        String text = HistoryFormat.HEADER + "\ninvoke\t0\t0\t1\tbogus\ninvoke\t1\t0\t2\t\n";
        assertThatThrownBy(() -> History.readFrom(new StringReader(text))).isInstanceOf(IOException.class)
                .hasMessageContaining("line 2");
    }
}
