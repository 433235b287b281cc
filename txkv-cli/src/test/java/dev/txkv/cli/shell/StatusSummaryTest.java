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

    /** The shape txkv-server's status document has today (StatusDocument). */
    private static final String SERVER = """
            {
              "client": {"database_status": {"available": true, "healthy": true}, "protocol_version": 1, "timestamp": 1790000000},
              "cluster": {
                "processes": {"a1b2": {"address": "127.0.0.1:4500", "roles": ["log", "resolver", "storage"],
                                       "uptime_seconds": 12.7, "start_time": 1790000000}},
                "latest_version": 1796037580702086,
                "data": {"total_kv_size_bytes_estimate": 2048, "mvcc_versions_retained": 4},
                "workload": {
                  "transactions": {"committed": {"counter": 10, "hz": 2}, "conflicted": {"counter": 0, "hz": 0},
                                   "too_old": {"counter": 0, "hz": 0}, "rejected_for_queue_full": {"counter": 0, "hz": 0}},
                  "operations": {"reads": {"counter": 50, "hz": 7.25}, "commit_batches": {"counter": 9, "hz": 1}}
                },
                "qos": {"commit_queue_depth": 0, "commit_queue_limit": 8192, "watches": 1, "watches_limit": 10000,
                        "watch_streams": 1, "watch_streams_limit": 64},
                "limits": {"key_size_bytes": 10000, "value_size_bytes": 100000, "transaction_size_bytes": 10000000,
                           "mvcc_window_seconds": 5, "range_rows_per_call": 1000, "range_bytes_per_call": 1048576},
                "latency_probe": {"read_version_seconds": 0.0002, "read_seconds": 0.0001, "commit_seconds": -1,
                                  "error": "commit_unknown_result (1021): boom"}
              }
            }
            """;

    @Test
    void summarisesTheServersDocument() {
        String summary = StatusSummary.render(SERVER);
        assertThat(summary).containsPattern("Server processes +- 1")
                .containsPattern("Database available +- yes")
                .containsPattern("Latest version +- 1796037580702086")
                .containsPattern("Sum of key-value sizes +- 2.0 KB")
                .containsPattern("Read rate +- 7.25 Hz")
                .containsPattern("Transactions committed +- 2 Hz")
                .containsPattern("Transaction start +- 0.200 ms")
                .containsPattern("Commit +- unknown")
                .containsPattern("Probe error +- commit_unknown_result \\(1021\\): boom")
                .containsPattern("Commit queue +- 0 of 8192")
                .containsPattern("Watches +- 1 of 10000")
                .containsPattern("MVCC window +- 5 s")
                .containsPattern("127.0.0.1:4500 +- log, resolver, storage, up 12 s")
                .containsPattern("Redundancy mode +- unknown");
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
        // Versions are around 2^50: whole, not in scientific or fixed-point form.
        assertThat(StatusSummary.formatNumber(1796037699758654.0)).isEqualTo("1796037699758654");
        assertThat(StatusSummary.formatNumber(0.125)).isEqualTo("0.13");
        assertThat(StatusSummary.formatBytes(999)).isEqualTo("999 B");
        assertThat(StatusSummary.formatBytes(1_500_000_000)).isEqualTo("1.5 GB");
    }
}
