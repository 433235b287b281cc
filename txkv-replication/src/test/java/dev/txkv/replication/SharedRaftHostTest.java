package dev.txkv.replication;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.engine.Engine;
import dev.txkv.testkit.Poll;
import dev.txkv.testkit.Ports;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One Raft host per process serving several Raft groups (the shape sharding needs): three
 * members, each with one Raft port and two engines whose commit logs are two groups on it.
 * Each group elects its own leader and commits on its own; after every member restarts, the
 * groups are recovered from storage and serve the data written before.
 */
class SharedRaftHostTest {
    private static final List<String> GROUPS = List.of("alpha", "beta");

    @TempDir
    Path dir;

    private final Map<String, String> members = new LinkedHashMap<>();
    private final List<RaftHost> hosts = new ArrayList<>();
    /** engines.get(member).get(group) */
    private final List<Map<String, Engine>> engines = new ArrayList<>();

    @AfterEach
    void closeAll() {
        stopAll();
    }

    private void stopAll() {
        for (Map<String, Engine> byGroup : engines) {
            byGroup.values().forEach(Engine::close);
        }
        engines.clear();
        hosts.forEach(RaftHost::close);
        hosts.clear();
    }

    private static TxkvConfig config() {
        return new TxkvConfig().durable(false);
    }

    private ReplicationConfig replication(int member) {
        return new ReplicationConfig("m" + member, members).electionTimeoutMs(500, 1000);
    }

    /** Every member: one host, one engine per group joined to it, then the host started. */
    private void startAll() {
        for (int i = 0; i < 3; i++) {
            RaftHost host = new RaftHost(replication(i), dir.resolve("m" + i).resolve("raft"), 16 << 20, true);
            hosts.add(host);
            Map<String, Engine> byGroup = new LinkedHashMap<>();
            for (String group : GROUPS) {
                ReplicationConfig rc = replication(i).clusterName(group);
                byGroup.put(group, Engine.builder(dir.resolve("m" + i).resolve(group), config())
                        .log(RaftReplication.log(rc, host)).open());
            }
            engines.add(byGroup);
            host.start();
        }
    }

    private Engine awaitLeader(String group) {
        return Poll.until("a leader of group " + group + " that takes commits", Duration.ofSeconds(30), () -> {
            for (Map<String, Engine> byGroup : engines) {
                if (byGroup.get(group).isLeading()) {
                    return byGroup.get(group);
                }
            }
            return null;
        }, leader -> leader != null);
    }

    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    @Test
    void groupsOnOneHostCommitApartAndComeBackAfterARestart() {
        for (int i = 0; i < 3; i++) {
            members.put("m" + i, "127.0.0.1:" + Ports.freePort());
        }
        startAll();
        for (String group : GROUPS) {
            Database db = Txkv.open(awaitLeader(group), config());
            db.run(tr -> {
                tr.set(b("written-in"), b(group));
                return null;
            });
        }
        // Each group holds its own data: the same key, a different value per group.
        for (String group : GROUPS) {
            Database db = Txkv.open(awaitLeader(group), config());
            assertThat(db.<byte[]>read(tr -> tr.get(b("written-in")).join())).isEqualTo(b(group));
        }
        assertThat(hosts.get(0).server().getGroupIds()).hasSize(2);

        stopAll();
        startAll();
        for (String group : GROUPS) {
            Database db = Txkv.open(awaitLeader(group), config());
            assertThat(db.<byte[]>read(tr -> tr.get(b("written-in")).join())).as("group %s after the restart", group)
                    .isEqualTo(b(group));
            db.run(tr -> {
                tr.set(b("again"), b(group));
                return null;
            });
        }
    }

    @Test
    void aHostRefusesToStartOverAGroupItDoesNotServe() {
        for (int i = 0; i < 3; i++) {
            members.put("m" + i, "127.0.0.1:" + Ports.freePort());
        }
        startAll();
        awaitLeader("alpha");
        stopAll();
        // Member 0 comes back serving alpha only: beta's directory is not silently served by alpha's state machine.
        RaftHost host = new RaftHost(replication(0), dir.resolve("m0").resolve("raft"), 16 << 20, true);
        hosts.add(host);
        Engine alpha = Engine.builder(dir.resolve("m0").resolve("alpha"), config())
                .log(logHost -> new RaftReplica(logHost, replication(0).clusterName("alpha"), host)).open();
        engines.add(Map.of("alpha", alpha));
        assertThatThrownBy(host::start).isInstanceOfSatisfying(TxkvException.class,
                e -> assertThat(e.getError()).isEqualTo(ErrorCode.DATA_DIRECTORY_INVALID))
                .hasMessageContaining(RaftHost.groupIdOf("beta").toString());
    }
}
