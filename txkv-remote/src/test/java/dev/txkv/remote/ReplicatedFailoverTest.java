package dev.txkv.remote;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.testkit.Poll;
import dev.txkv.testkit.Ports;
import java.util.Optional;
import dev.txkv.Database;
import dev.txkv.Txkv;
import dev.txkv.replication.ReplicationConfig;
import dev.txkv.server.ServerConfig;
import dev.txkv.server.TxkvServer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three replicated txkv servers in this JVM on 127.0.0.1 behind one {@code Txkv.open("a,b,c")}:
 * the database commits and reads wherever the leader is; the leader's server is closed and the
 * same database keeps committing once another member leads (the failover time is printed);
 * status shows the roles; SetMembers through the client adds a fourth member.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReplicatedFailoverTest {
    @TempDir
    Path dir;
    private final List<TxkvServer> servers = new ArrayList<>();
    private Database db;

    private TxkvServer start(String id, Map<String, String> members) throws IOException {
        TxkvServer s = TxkvServer.start(new ServerConfig().dataDir(dir.resolve(id)).grpcAddress("127.0.0.1", 0)
                .replication(new ReplicationConfig(id, members).clusterName("failover-test").electionTimeoutMs(500, 1000)));
        servers.add(s);
        return s;
    }

    @AfterEach
    void stop() {
        if (db != null) {
            db.close();
        }
        for (TxkvServer s : servers) {
            s.close();
        }
    }

    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    private TxkvServer awaitLeader() {
        return Poll.until("a ready leader among " + servers.size() + " servers", Duration.ofSeconds(30),
                () -> servers.stream().filter(s -> s.isReady() && s.engine().isLeading()).findFirst(),
                Optional::isPresent).get();
    }

    private static dev.txkv.proto.Status status(String connection) {
        return RemoteStatus.fetch(connection, Duration.ofSeconds(10));
    }

    /** The process that answered the status call on {@code connection}. */
    private static dev.txkv.proto.Status.Process self(String connection) {
        dev.txkv.proto.Status status = status(connection);
        return status.getProcessesList().stream().filter(p -> p.getId().equals(status.getAnsweredBy())).findFirst()
                .orElseThrow();
    }

    @Test
    void theSameDatabaseKeepsCommittingAfterTheLeaderStops() throws Exception {
        Map<String, String> members = new LinkedHashMap<>();
        for (String id : List.of("a", "b", "c")) {
            members.put(id, "127.0.0.1:" + Ports.freePort());
        }
        for (String id : members.keySet()) {
            start(id, members);
        }
        TxkvServer leader = awaitLeader();
        List<String> addresses = new ArrayList<>();
        for (TxkvServer s : servers) {
            addresses.add("127.0.0.1:" + s.grpcPort());
        }
        db = Txkv.open(String.join(",", addresses));
        for (int i = 0; i < 20; i++) {
            int n = i;
            db.run(tr -> {
                tr.set(b("k" + n), b("v" + n));
                return null;
            });
        }
        byte[] k7 = db.read(tr -> tr.get(b("k7")).join());
        assertThat(k7).isEqualTo(b("v7"));

        // Roles in status, one server at a time.
        int leaders = 0;
        for (String a : addresses) {
            String role = self(a).getRole();
            assertThat(role).isIn("leader", "follower");
            leaders += role.equals("leader") ? 1 : 0;
        }
        assertThat(leaders).isEqualTo(1);

        long stopped = System.nanoTime();
        leader.close();
        db.run(tr -> {
            tr.set(b("after"), b("failover"));
            return null;
        });
        long failoverMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
        System.out.println("failover: leader stop -> first successful commit through the same Database: "
                + failoverMs + " ms");
        assertThat(failoverMs).isLessThan(15_000);
        byte[] after = db.read(tr -> tr.get(b("after")).join());
        assertThat(after).isEqualTo(b("failover"));
        List<dev.txkv.KeyValue> rows = db.read(tr -> tr.getRange(b("k"), b("l")).asList().join());
        assertThat(rows).hasSize(20);
        TxkvServer newLeader = awaitLeader();
        assertThat(newLeader).isNotSameAs(leader);

        // A fourth member joins: started with the new list, then added through the client.
        Map<String, String> four = new LinkedHashMap<>(members);
        four.put("d", "127.0.0.1:" + Ports.freePort());
        TxkvServer d = start("d", four);
        Map<String, String> now = RemoteStatus.setMembers(String.join(",", addresses), four, Duration.ofSeconds(60));
        assertThat(now).containsKeys("a", "b", "c", "d");
        assertThat(status("127.0.0.1:" + newLeader.grpcPort()).getProcessesCount()).isEqualTo(4);
        // d serves reads at a fresh read version once it has caught up.
        try (Database viaD = Txkv.open("127.0.0.1:" + d.grpcPort() + "," + String.join(",", addresses))) {
            byte[] seen = viaD.read(tr -> tr.get(b("after")).join());
            assertThat(seen).isEqualTo(b("failover"));
        }
    }
}
