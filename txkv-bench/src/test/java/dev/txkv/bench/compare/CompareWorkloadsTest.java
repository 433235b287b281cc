package dev.txkv.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.Database;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Vector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import site.ycsb.ByteIterator;
import site.ycsb.Status;
import site.ycsb.StringByteIterator;

/** The comparison's txkv side (YCSB binding, bank workload) on an embedded database; no peers. */
class CompareWorkloadsTest {
    @TempDir
    Path dir;

    Database db;

    @BeforeEach
    void open() {
        db = Txkv.openEmbedded(dir, new TxkvConfig().durable(false));
    }

    @AfterEach
    void close() {
        db.close();
    }

    private static Map<String, String> strings(Map<String, ByteIterator> fields) {
        Map<String, String> out = new HashMap<>();
        fields.forEach((k, v) -> out.put(k, v.toString()));
        return out;
    }

    @Test
    void fieldCodecRoundTripsAndMerges() {
        Map<String, ByteIterator> fields = new LinkedHashMap<>();
        fields.put("field0", new StringByteIterator("a"));
        fields.put("field1", new StringByteIterator(""));
        fields.put("ünïcode", new StringByteIterator("x".repeat(300)));
        byte[] record = FieldCodec.encode(fields);
        Map<String, ByteIterator> decoded = new HashMap<>();
        FieldCodec.decode(record, null, decoded);
        assertThat(strings(decoded)).containsOnly(Map.entry("field0", "a"), Map.entry("field1", ""),
                Map.entry("ünïcode", "x".repeat(300)));
        byte[] merged = FieldCodec.merge(record, Map.of("field1", new StringByteIterator("b")));
        Map<String, ByteIterator> only = new HashMap<>();
        FieldCodec.decode(merged, Set.of("field1"), only);
        assertThat(strings(only)).containsOnly(Map.entry("field1", "b"));
    }

    @Test
    void ycsbBindingReadsScansUpdatesInsertsDeletes() {
        TxkvYcsbClient client = new TxkvYcsbClient(db);
        for (int i = 0; i < 20; i++) {
            Map<String, ByteIterator> values = new HashMap<>();
            values.put("field0", new StringByteIterator("v" + i));
            values.put("field1", new StringByteIterator("w" + i));
            assertThat(client.insert("usertable", String.format("user%02d", i), values)).isEqualTo(Status.OK);
        }
        Map<String, ByteIterator> read = new HashMap<>();
        assertThat(client.read("usertable", "user05", null, read)).isEqualTo(Status.OK);
        assertThat(strings(read)).containsOnly(Map.entry("field0", "v5"), Map.entry("field1", "w5"));

        Map<String, ByteIterator> update = new HashMap<>();
        update.put("field1", new StringByteIterator("changed"));
        assertThat(client.update("usertable", "user05", update)).isEqualTo(Status.OK);
        Map<String, ByteIterator> afterUpdate = new HashMap<>();
        client.read("usertable", "user05", Set.of("field0", "field1"), afterUpdate);
        assertThat(strings(afterUpdate)).containsOnly(Map.entry("field0", "v5"), Map.entry("field1", "changed"));
        assertThat(client.update("usertable", "nobody", update)).isEqualTo(Status.NOT_FOUND);

        Vector<HashMap<String, ByteIterator>> scanned = new Vector<>();
        assertThat(client.scan("usertable", "user17", 10, Set.of("field0"), scanned)).isEqualTo(Status.OK);
        assertThat(scanned).extracting(row -> row.get("field0").toString()).containsExactly("v17", "v18", "v19");

        // A key of another table right after "usertable/" must not leak into the scan.
        db.run(tr -> {
            tr.set("usertablf/x".getBytes(StandardCharsets.UTF_8), new byte[0]);
            return null;
        });
        scanned.clear();
        client.scan("usertable", "user19", 10, null, scanned);
        assertThat(scanned).hasSize(1);

        assertThat(client.delete("usertable", "user05")).isEqualTo(Status.OK);
        assertThat(client.read("usertable", "user05", null, new HashMap<>())).isEqualTo(Status.NOT_FOUND);
        client.cleanup();
    }

    @Test
    void bankWorkloadConservesMoneyUnderContention() throws Exception {
        try (TxkvBank bank = new TxkvBank(db, false)) {
            for (int accounts : List.of(2, 10)) {
                BankWorkload.Result result = BankWorkload.run(bank, accounts, 8, 100, 700);
                assertThat(result.commits()).isPositive();
                assertThat(result.errors()).isZero();
                assertThat(result.attempts()).isGreaterThanOrEqualTo(result.commits());
                assertThat(result.moneyConserved()).isTrue();
                assertThat(result.totalAfter()).isEqualTo(accounts * BankWorkload.BALANCE_INITIAL);
                assertThat(result.latencyMicros().getTotalCount()).isEqualTo(result.commits());
            }
        }
    }

    @Test
    void parsesYcsbTextReport() {
        YcsbRun.Result r = YcsbRun.parse("txkv", "workloada", 16, List.of(
                "[OVERALL], RunTime(ms), 4000", "[OVERALL], Throughput(ops/sec), 2500.5",
                "[READ], Operations, 5000", "[READ], 50thPercentileLatency(us), 300", "[READ], 99thPercentileLatency(us), 900",
                "[READ], Return=OK, 4990", "[READ], Return=ERROR, 10",
                "[UPDATE], Operations, 5000", "[UPDATE], Return=OK, 5000", "[CLEANUP], Operations, 16"));
        assertThat(r.opsPerSecond()).isEqualTo(2500.5);
        assertThat(r.operations()).isEqualTo(10_000);
        assertThat(r.errors()).isEqualTo(10);
        assertThat(r.latency("READ")).containsExactly(300, 900);
    }
}
