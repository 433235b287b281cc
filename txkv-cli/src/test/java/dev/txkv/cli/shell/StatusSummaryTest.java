package dev.txkv.cli.shell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class StatusSummaryTest {
    private static final String FULL = """
            {
              "client": {"database_status": {"available": true}},
              "cluster": {
                "configuration": {"redundancy_mode": "triple", "storage_engine": "rocksdb", "coordinators_count": 3},
                "raft": {"leader": "10.0.0.1:4500", "term": 7, "peers": ["a", "b", "c"]},
                "latest_version": 123456789,
                "data": {"total_kv_size_bytes": 2500000, "total_disk_used_bytes": 12, "keys": 1000},
                "workload": {
                  "operations": {"reads": {"hz": 150.5}, "writes": {"hz": 20}},
                  "transactions": {"started": {"hz": 30}, "committed": {"hz": 25}, "conflicted": {"hz": 1}}
                },
                "latency_probe": {"transaction_start_seconds": 0.0012, "read_seconds": 0.0005, "commit_seconds": 0.004},
                "qos": {"commit_queue_depth": 3, "grv_queue_depth": 0, "worst_version_lag_storage_server": 10},
                "processes": {
                  "p2": {"address": "10.0.0.2:4500", "roles": [{"role": "storage"}, {"role": "log"}]},
                  "p1": {"address": "10.0.0.1:4500", "roles": ["leader", "resolver"]}
                },
                "messages": [{"name": "lagging", "description": "A replica is behind"}, "plain message"],
                "something_new": {"the": "summary ignores it"}
              }
            }
            """;

    @Test
    void summarisesEverySection() {
        String summary = StatusSummary.render(FULL);
        assertThat(summary).contains(
                "Configuration:", "Cluster:", "Data:", "Workload:", "Latency probe:", "Queues:", "Processes:", "Messages:");
        assertThat(summary).containsPattern("Redundancy mode +- triple")
                .containsPattern("Storage engine +- rocksdb")
                .containsPattern("Coordinators +- 3")
                .containsPattern("Replicas +- 3")
                .containsPattern("Server processes +- 2")
                .containsPattern("Leader +- 10.0.0.1:4500")
                .containsPattern("Database available +- yes")
                .containsPattern("Latest version +- 123456789")
                .containsPattern("Sum of key-value sizes +- 2.5 MB")
                .containsPattern("Disk space used +- 12 B")
                .containsPattern("Read rate +- 150.50 Hz")
                .containsPattern("Write rate +- 20 Hz")
                .containsPattern("Transactions committed +- 25 Hz")
                .containsPattern("Commit +- 4.000 ms")
                .containsPattern("Commit queue +- 3")
                .containsPattern("10.0.0.1:4500 +- leader, resolver")
                .containsPattern("10.0.0.2:4500 +- storage, log")
                .contains("A replica is behind", "plain message");
        assertThat(summary.indexOf("10.0.0.1:4500 ")).isLessThan(summary.lastIndexOf("10.0.0.2:4500"));
    }

    @Test
    void missingSectionsPrintUnknown() {
        String summary = StatusSummary.render("{}");
        assertThat(summary).containsPattern("Redundancy mode +- unknown")
                .containsPattern("Latest version +- unknown")
                .containsPattern("Read rate +- unknown")
                .doesNotContain("Processes:");
    }

    @Test
    void valuesOfTheWrongTypePrintUnknown() {
        String summary = StatusSummary.render(
                "{\"cluster\": {\"latest_version\": \"soon\", \"data\": 5, \"processes\": {\"x\": 3, \"y\": {\"roles\": 1}}}}");
        assertThat(summary).containsPattern("Latest version +- unknown")
                .containsPattern("Sum of key-value sizes +- unknown")
                .containsPattern("y +- roles unknown");
    }

    @Test
    void aDocumentThatIsNotJsonIsAClearError() {
        assertThatThrownBy(() -> StatusSummary.render("not json"))
                .isInstanceOf(ShellUsageException.class)
                .hasMessageStartingWith("The server's status document is not a JSON object");
        assertThatThrownBy(() -> StatusSummary.render("[1, 2]")).isInstanceOf(ShellUsageException.class);
    }

    @Test
    void formatsNumbersAndBytes() {
        assertThat(StatusSummary.formatNumber(3.0)).isEqualTo("3");
        assertThat(StatusSummary.formatNumber(0.125)).isEqualTo("0.13");
        assertThat(StatusSummary.formatBytes(999)).isEqualTo("999 B");
        assertThat(StatusSummary.formatBytes(1_500_000_000)).isEqualTo("1.5 GB");
    }
}
