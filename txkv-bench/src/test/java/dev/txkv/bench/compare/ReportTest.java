package dev.txkv.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report's tables, targets and charts from made-up figures: no systems are started. */
class ReportTest {
    @TempDir
    Path dir;

    private static final CompareBench.Settings SETTINGS = new CompareBench.Settings(1_000, 16, 4, 2, 256,
            List.of(1, 64), List.of(10, 1_000), 500, 2_000, List.of());

    private static YcsbRun.Result ycsb(String system, String workload, double opsPerSecond) {
        return new YcsbRun.Result(system, workload, workload.equals("writes") ? 256 : 16, opsPerSecond, 1_000, 0,
                Map.of("READ", new double[] {500, 2_000}));
    }

    private static BankWorkload.Result bank(String system, int accounts, int clients, long commits) {
        Histogram latency = new Histogram(3);
        latency.recordValue(1_000);
        latency.recordValue(4_000);
        return new BankWorkload.Result(system, accounts, clients, 2.0, commits, commits + 10, 0, 0, latency, 100, 100);
    }

    private Report report(List<String> systems, Map<String, Double> scale) {
        List<YcsbRun.Result> ycsb = new ArrayList<>();
        List<BankWorkload.Result> bank = new ArrayList<>();
        for (String system : systems) {
            double f = scale.get(system);
            ycsb.add(ycsb(system, "workloadc", 1_000 * f));
            ycsb.add(ycsb(system, "writes", 500 * f));
            for (int accounts : SETTINGS.bankAccounts()) {
                for (int clients : SETTINGS.bankClients()) {
                    bank.add(bank(system, accounts, clients, (long) (100 * f)));
                }
            }
        }
        return new Report(dir, "0.1, 0.1, 0.1", SETTINGS, true, Instant.now(), Instant.now(), false, systems, ycsb, bank);
    }

    @Test
    void targetsCompareLikeWithLike() throws Exception {
        Report r = report(CompareBench.SYSTEMS, Map.of(CompareBench.TXKV, 8.0, CompareBench.TXKV_REPLICATED, 6.0,
                CompareBench.ETCD, 1.0, CompareBench.POSTGRES, 2.0));
        String md = r.markdown();
        // Replicated txkv against etcd (6x: met), the single server against PostgreSQL (4x: met).
        assertThat(md).contains("| txkv ×3 / etcd, write throughput, 256 clients (YCSB inserts) | ≥ 5× | 6.00× | met |");
        assertThat(md).contains("| txkv / PostgreSQL SERIALIZABLE, bank, 1,000 accounts, 64 clients | ≥ 3× | 4.00× | met |");
        assertThat(md).contains("| Measurement | Unit | txkv | txkv ×3 | etcd | PostgreSQL | txkv ×3 / etcd | txkv / PostgreSQL |");
        assertThat(md).contains("| YCSB C, 16 threads | ops/s | 8,000 | 6,000 | 1,000 | 2,000 | 6.00× | 4.00× |");
        assertThat(r.ratioTable()).contains("txkv ×3 / etcd").contains("6.00×");
        // The method: etcd through its own gRPC client, not the HTTP/JSON gateway.
        assertThat(md).contains("through jetcd 0.8.5, etcd's own gRPC client for Java").doesNotContain("gateway");
        r.writeCharts(dir);
        assertThat(Files.size(dir.resolve("compare-ycsb-throughput.png"))).isPositive();
        assertThat(Files.size(dir.resolve("compare-bank-latency-cdf-1000.png"))).isPositive();
    }

    @Test
    void aMissedTargetIsMarkedAndAMissingPairIsNotMeasured() {
        Report r = report(List.of(CompareBench.TXKV, CompareBench.ETCD, CompareBench.POSTGRES),
                Map.of(CompareBench.TXKV, 2.0, CompareBench.ETCD, 1.0, CompareBench.POSTGRES, 1.0));
        String md = r.markdown();
        assertThat(md).contains("| txkv ×3 / etcd, write throughput, 256 clients (YCSB inserts) | ≥ 5× | - | not measured |");
        assertThat(md).contains("| txkv / PostgreSQL SERIALIZABLE, bank, 10 accounts, 64 clients | ≥ 3× | 2.00× | **missed** |");
        assertThat(md).doesNotContain("txkv ×3 / etcd |");
    }
}
