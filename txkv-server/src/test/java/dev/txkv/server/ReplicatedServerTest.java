package dev.txkv.server;

import static dev.txkv.server.TestServers.bytes;
import static dev.txkv.server.TestServers.failure;
import static dev.txkv.server.TestServers.grpcCode;
import static dev.txkv.server.TestServers.readVersion;
import static dev.txkv.server.TestServers.setCommit;
import static dev.txkv.server.TestServers.txkvCode;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.testkit.Poll;
import dev.txkv.testkit.Ports;
import com.google.protobuf.util.JsonFormat;
import dev.txkv.ErrorCode;
import dev.txkv.replication.FailPoints;
import dev.txkv.replication.ReplicationConfig;
import dev.txkv.proto.CommitManyRequest;
import dev.txkv.proto.CommitManyResponse;
import dev.txkv.proto.CommitOutcome;
import dev.txkv.proto.GetRequest;
import dev.txkv.proto.Member;
import dev.txkv.proto.NotLeader;
import dev.txkv.proto.SetMembersRequest;
import dev.txkv.proto.StatusRequest;
import dev.txkv.proto.TxkvGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three replicated servers in one JVM on 127.0.0.1, spoken to over gRPC and HTTP: the leader
 * takes commits, followers answer not_leader (1060) for commits, read versions and SetMembers
 * but serve reads; every member is SERVING and reports its role in status; SetMembers through
 * the HTTP transcoder adds a fourth member. (The remote client's failover over such servers is
 * tested in txkv-remote, which may depend on this module but not the other way round.)
 */
class ReplicatedServerTest {
    private static final int V = ProtocolVersion.CURRENT;
    @TempDir
    Path dir;
    private final List<TxkvServer> servers = new ArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();

    @BeforeAll
    static void quiet() {
        TestServers.quietLogs();
    }

    private TxkvServer start(String id, Map<String, String> members) throws IOException {
        return start(id, members, Map.of());
    }

    /** A member listening for clients on {@code clients.get(id)} (port 0 when absent), knowing the others' too. */
    private TxkvServer start(String id, Map<String, String> members, Map<String, String> clients) throws IOException {
        int port = clients.containsKey(id) ? Integer.parseInt(clients.get(id).substring(clients.get(id).indexOf(':') + 1)) : 0;
        ServerConfig config = new ServerConfig().dataDir(dir.resolve(id)).grpcAddress("127.0.0.1", port)
                .httpAddress("127.0.0.1", 0)
                .replication(new ReplicationConfig(id, members).clusterName("server-test").electionTimeoutMs(500, 1000))
                .peerClientAddresses(clients);
        TxkvServer server = TxkvServer.start(config);
        servers.add(server);
        return server;
    }

    private TxkvGrpc.TxkvBlockingStub stub(TxkvServer server) {
        ManagedChannel channel = TestServers.channel(server);
        channels.add(channel);
        return TxkvGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (ManagedChannel c : channels) {
            TestServers.close(c);
        }
        for (TxkvServer s : servers) {
            s.close();
        }
    }

    private TxkvServer awaitLeader(List<TxkvServer> among) {
        return Poll.until("a leader among " + among.size() + " servers", Duration.ofSeconds(30),
                () -> among.stream().filter(s -> s.engine().isLeading()).findFirst(), java.util.Optional::isPresent).get();
    }

    private static dev.txkv.proto.Status status(TxkvGrpc.TxkvBlockingStub stub) {
        return stub.status(StatusRequest.newBuilder().setProtocolVersion(V).build()).getStatus();
    }

    /** The process that answered {@code status}. */
    private static dev.txkv.proto.Status.Process self(dev.txkv.proto.Status status) {
        return process(status, status.getAnsweredBy());
    }

    private static dev.txkv.proto.Status.Process process(dev.txkv.proto.Status status, String id) {
        return status.getProcessesList().stream().filter(p -> p.getId().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("no process " + id + " in " + status));
    }

    /** database.{available,healthy} of a status. */
    private static boolean databaseStatus(dev.txkv.proto.Status status, String field) {
        return field.equals("available") ? status.getDatabase().getAvailable() : status.getDatabase().getHealthy();
    }

    private static String messages(dev.txkv.proto.Status status) {
        return status.getDatabase().getMessagesList().toString();
    }

    private static HttpResponse<String> httpGet(TxkvServer server, String path) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + path))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Runs {@code check} until it passes, for up to {@code seconds}; a failure names {@code what}. */
    private static void eventually(String what, int seconds, Poll.Check check) {
        Poll.untilPasses(what, Duration.ofSeconds(seconds), check);
    }

    private Map<String, String> startThree() throws IOException {
        return startThree(null);
    }

    /**
     * Members a, b and c; when {@code clients} is given it is filled with each member's client
     * address, and every member knows the others' (--peer-clients).
     */
    private Map<String, String> startThree(Map<String, String> clients) throws IOException {
        Map<String, String> members = new LinkedHashMap<>();
        for (String id : List.of("a", "b", "c")) {
            members.put(id, "127.0.0.1:" + Ports.freePort());
            if (clients != null) {
                clients.put(id, "127.0.0.1:" + Ports.freePort());
            }
        }
        for (String id : members.keySet()) {
            if (clients == null) {
                start(id, members);
            } else {
                start(id, members, clients);
            }
        }
        return members;
    }

    @Test
    void statusOnAFollowerListsEveryMemberAndAStoppedOneAsUnreachable() throws Exception {
        Map<String, String> clients = new LinkedHashMap<>();
        Map<String, String> members = startThree(clients);
        TxkvServer leader = awaitLeader(servers);
        TxkvGrpc.TxkvBlockingStub toLeader = stub(leader);
        String leaderId = self(status(toLeader)).getId();
        toLeader.commit(setCommit(bytes("k"), bytes("v")));
        TxkvServer follower = servers.get((servers.indexOf(leader) + 1) % 3);
        TxkvServer other = servers.get((servers.indexOf(leader) + 2) % 3);
        TxkvGrpc.TxkvBlockingStub toFollower = stub(follower);

        eventually("the follower's status to list every member", 15, () -> {
            dev.txkv.proto.Status s = status(toFollower);
            assertThat(s.getCluster().getLeader()).isEqualTo(leaderId);
            assertThat(s.getCluster().getTerm()).isGreaterThan(0);
            assertThat(s.getProcessesList()).extracting(dev.txkv.proto.Status.Process::getId)
                    .containsExactly("a", "b", "c");
            for (dev.txkv.proto.Status.Process p : s.getProcessesList()) {
                assertThat(p.getClientAddress()).as(p.getId()).isEqualTo(clients.get(p.getId()));
                assertThat(p.getRaftAddress()).as(p.getId()).isEqualTo(members.get(p.getId()));
                assertThat(p.getRole()).as(p.getId()).isEqualTo(p.getId().equals(leaderId) ? "leader" : "follower");
                assertThat(p.getError()).as(p.getId()).isEmpty();
                assertThat(p.getHealth().getAvailable()).as(p.getId()).isTrue();
                assertThat(p.getAppliedVersion().getValue()).as(p.getId()).isGreaterThan(0);
                assertThat(p.hasLagVersions() && p.hasLagEntries()).as(p.getId()).isTrue();
                assertThat(p.getStorage().getEngine()).isEqualTo("RocksDB");
                assertThat(p.getStorage().getDiskUsedBytes()).isGreaterThan(0);
            }
            assertThat(process(s, leaderId).getLagVersions().getValue()).isZero();
            assertThat(process(s, leaderId).getLagEntries().getValue()).isZero();
        });

        // The JSON of HTTP /status is the same message: the strict parser knows every field.
        HttpResponse<String> json = httpGet(follower, "/status");
        assertThat(json.statusCode()).isEqualTo(200);
        dev.txkv.proto.Status.Builder parsed = dev.txkv.proto.Status.newBuilder();
        JsonFormat.parser().merge(json.body(), parsed);
        assertThat(parsed.getProcessesCount()).isEqualTo(3);
        assertThat(json.body()).contains("\"lag_versions\"", "\"applied_version\"", "\"client_address\"");

        String otherId = self(status(stub(other))).getId();
        other.close();
        servers.remove(other);
        long asked = System.nanoTime();
        dev.txkv.proto.Status afterStop = status(toFollower);
        long askedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - asked);
        assertThat(askedMs).as("a member that is down costs at most the peer deadline")
                .isLessThan(PeerStatusClient.PEER_STATUS_TIMEOUT_MS + 3_000);
        dev.txkv.proto.Status.Process stopped = process(afterStop, otherId);
        assertThat(stopped.getRole()).isEqualTo("unreachable");
        assertThat(stopped.getError()).isNotEmpty();
        assertThat(stopped.getClientAddress()).isEqualTo(clients.get(otherId));
        assertThat(stopped.getRaftAddress()).isEqualTo(members.get(otherId));
        assertThat(stopped.hasHealth() || stopped.hasAppliedVersion() || stopped.hasLagVersions()).isFalse();
        assertThat(process(afterStop, leaderId).getRole()).isEqualTo("leader");
        assertThat(self(afterStop).getRole()).isEqualTo("follower");
    }

    @Test
    void aMemberThatCannotApplyIsReportedAndRebuilt() throws Exception {
        Map<String, String> members = startThree();
        TxkvServer leader = awaitLeader(servers);
        TxkvServer broken = servers.get((servers.indexOf(leader) + 1) % 3);
        TxkvServer other = servers.get((servers.indexOf(leader) + 2) % 3);
        String brokenId = broken.engine().replicationState().orElseThrow().id();
        TxkvGrpc.TxkvBlockingStub toLeader = stub(leader);
        toLeader.commit(setCommit(bytes("k"), bytes("v")));
        FailPoints.arm(FailPoints.applyOf(brokenId));
        try {
            toLeader.commit(setCommit(bytes("poison"), bytes("x")));
            eventually("the broken member to fail", 30, () -> assertThat(broken.engine().health().failed()).isTrue());
        } finally {
            FailPoints.disarm(FailPoints.applyOf(brokenId));
        }

        // The failed member says so everywhere it can.
        TxkvGrpc.TxkvBlockingStub toBroken = stub(broken);
        dev.txkv.proto.Status brokenStatus = status(toBroken);
        assertThat(databaseStatus(brokenStatus, "available")).isFalse();
        assertThat(databaseStatus(brokenStatus, "healthy")).isFalse();
        assertThat(messages(brokenStatus)).contains("replica_failed", "failed to apply log entry");
        assertThat(self(brokenStatus).getRole()).isEqualTo("failed");
        eventually("the failed member's /health to answer 503", 10, () -> {
            HttpResponse<String> health = httpGet(broken, "/health");
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(health.body()).contains("failed to apply log entry");
        });
        ManagedChannel brokenChannel = TestServers.channel(broken);
        channels.add(brokenChannel);
        // The health service is refreshed once a second.
        eventually("the failed member's gRPC health to be NOT_SERVING", 5, () -> assertThat(HealthGrpc.newBlockingStub(brokenChannel).check(
                HealthCheckRequest.newBuilder().build()).getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.NOT_SERVING));
        eventually("txkv_replica_failed 1 in the failed member's metrics", 5, () -> assertThat(httpGet(broken, "/metrics").body()).contains("txkv_replica_failed 1.0"));
        // The other two serve; the leader's status names the member it cannot reach.
        toLeader.commit(setCommit(bytes("after"), bytes("failure")));
        assertThat(httpGet(other, "/health").statusCode()).isEqualTo(200);
        eventually("the leader's status to name the unreachable member", 15, () -> {
            dev.txkv.proto.Status leaderStatus = status(toLeader);
            assertThat(databaseStatus(leaderStatus, "available")).isTrue();
            assertThat(databaseStatus(leaderStatus, "healthy")).isFalse();
            assertThat(messages(leaderStatus)).contains("member_unreachable", "Member " + brokenId);
        });

        // The documented rebuild (docs/replication.md): remove, wipe, start afresh, add back.
        Map<String, String> without = new LinkedHashMap<>(members);
        without.remove(brokenId);
        toLeader.setMembers(membersRequest(without));
        broken.close();
        servers.remove(broken);
        deleteTree(dir.resolve(brokenId));
        TxkvServer rebuilt = start(brokenId, members);
        toLeader.setMembers(membersRequest(members));
        TxkvGrpc.TxkvBlockingStub toRebuilt = stub(rebuilt);
        eventually("the rebuilt member to serve the data written before", 60, () -> {
            long rv = readVersion(toLeader);
            assertThat(toRebuilt.get(GetRequest.newBuilder().setProtocolVersion(V).setKey(bytes("poison"))
                    .setReadVersion(rv).build()).getValue()).isEqualTo(bytes("x"));
        });
        eventually("the rebuilt member and the database to be healthy", 15, () -> {
            assertThat(httpGet(rebuilt, "/health").statusCode()).isEqualTo(200);
            assertThat(databaseStatus(status(toLeader), "healthy")).isTrue();
        });
    }

    @Test
    void aClusterThatCannotCommitIsReportedUnavailableByTheMemberLeft() throws Exception {
        startThree();
        TxkvServer leader = awaitLeader(servers);
        TxkvServer follower = servers.get((servers.indexOf(leader) + 1) % 3);
        stub(leader).commit(setCommit(bytes("k"), bytes("v")));
        assertThat(databaseStatus(status(stub(follower)), "available")).isTrue();
        // Only the follower is left: it can neither commit nor see commits.
        for (TxkvServer s : List.copyOf(servers)) {
            if (s != follower) {
                s.close();
                servers.remove(s);
            }
        }
        TxkvGrpc.TxkvBlockingStub toFollower = stub(follower);
        long stopped = System.nanoTime();
        eventually("the follower alone to report the database unavailable", 20, () -> {
            assertThat(databaseStatus(status(toFollower), "available")).isFalse();
            assertThat(httpGet(follower, "/health").statusCode()).isEqualTo(503);
        });
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - stopped);
        assertThat(seconds).as("reported unavailable within seconds").isLessThan(15);
    }

    private static SetMembersRequest membersRequest(Map<String, String> members) {
        SetMembersRequest.Builder b = SetMembersRequest.newBuilder().setProtocolVersion(V);
        members.forEach((id, address) -> b.addMembers(Member.newBuilder().setId(id).setRaftAddress(address)));
        return b.build();
    }

    private static void deleteTree(Path root) throws IOException {
        try (java.util.stream.Stream<Path> paths = java.nio.file.Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths.sorted(java.util.Comparator.reverseOrder())::iterator) {
                java.nio.file.Files.delete(p);
            }
        }
    }

    @Test
    void leaderCommitsFollowersReadAndRefuseAndStatusShowsRoles() throws Exception {
        Map<String, String> clients = new LinkedHashMap<>();
        Map<String, String> members = startThree(clients);
        TxkvServer leader = awaitLeader(servers);
        TxkvServer follower = servers.get((servers.indexOf(leader) + 1) % 3);
        String leaderId = leader.engine().replicationState().orElseThrow().id();
        String followerId = follower.engine().replicationState().orElseThrow().id();
        TxkvGrpc.TxkvBlockingStub toLeader = stub(leader);
        TxkvGrpc.TxkvBlockingStub toFollower = stub(follower);

        toLeader.commit(setCommit(bytes("k"), bytes("v")));
        long rv = readVersion(toLeader);
        // A follower serves a read at the leader's read version (after a ReadIndex).
        assertThat(toFollower.get(GetRequest.newBuilder().setProtocolVersion(V).setKey(bytes("k")).setReadVersion(rv)
                .build()).getValue()).isEqualTo(bytes("v"));

        for (io.grpc.StatusRuntimeException e : List.of(
                failure(() -> readVersion(toFollower)),
                failure(() -> toFollower.commit(setCommit(bytes("x"), bytes("y")))),
                failure(() -> toFollower.setMembers(SetMembersRequest.newBuilder().setProtocolVersion(V)
                        .addMembers(Member.newBuilder().setId("a").setRaftAddress(members.get("a"))).build())))) {
            assertThat(txkvCode(e)).isEqualTo(ErrorCode.NOT_LEADER.code());
            assertThat(grpcCode(e)).isEqualTo(Status.Code.UNAVAILABLE);
            // Where the leader is travels typed, in its own binary trailer, on every not_leader.
            byte[] detail = e.getTrailers().get(Metadata.Key.of("txkv-not-leader-bin", Metadata.BINARY_BYTE_MARSHALLER));
            assertThat(detail).as("txkv-not-leader-bin").isNotNull();
            assertThat(NotLeader.parseFrom(detail)).isEqualTo(NotLeader.newBuilder().setLeaderId(leaderId)
                    .setLeaderAddress(clients.get(leaderId)).setMemberId(followerId).build());
        }
        // A CommitMany element refused as not_leader carries the same detail in its ElementError.
        CommitManyResponse many = toFollower.commitMany(CommitManyRequest.newBuilder().setProtocolVersion(V)
                .addRequests(setCommit(bytes("x"), bytes("y"))).addRequests(setCommit(bytes("z"), bytes("y"))).build());
        for (CommitOutcome outcome : many.getResultsList()) {
            assertThat(outcome.getError().getCode()).isEqualTo(ErrorCode.NOT_LEADER.code());
            assertThat(outcome.getError().getNotLeader().getLeaderId()).isEqualTo(leaderId);
            assertThat(outcome.getError().getNotLeader().getLeaderAddress()).isEqualTo(clients.get(leaderId));
        }

        dev.txkv.proto.Status leaderView = status(toLeader);
        dev.txkv.proto.Status followerView = status(toFollower);
        assertThat(self(leaderView).getRole()).isEqualTo("leader");
        assertThat(self(leaderView).getAcceptingCommits().getValue()).isTrue();
        assertThat(leaderView.getProcessesCount()).isEqualTo(3);
        // The leader knows when each follower last answered it.
        assertThat(leaderView.getProcessesList().stream().filter(p -> p.hasLastContactMs()).count()).isEqualTo(2);
        assertThat(self(followerView).getRole()).isEqualTo("follower");
        assertThat(followerView.getCluster().getLeader()).isEqualTo(leaderView.getAnsweredBy());
        assertThat(self(followerView).getAcceptingCommits().getValue()).isFalse();

        // A follower is up and serving: health says so.
        ManagedChannel followerChannel = TestServers.channel(follower);
        channels.add(followerChannel);
        // (The health service is refreshed once a second, from the first commit the follower applies.)
        eventually("the follower's gRPC health to be SERVING", 5, () -> assertThat(HealthGrpc.newBlockingStub(followerChannel).check(
                HealthCheckRequest.newBuilder().build()).getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING));
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + follower.httpPort() + "/health")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);

        // A fourth member: started first with the new list, then added on the leader through HTTP.
        Map<String, String> four = new LinkedHashMap<>(members);
        four.put("d", "127.0.0.1:" + Ports.freePort());
        TxkvServer d = start("d", four);
        String body = "{\"protocolVersion\":1,\"members\":[" + String.join(",", four.entrySet().stream()
                .map(m -> "{\"id\":\"" + m.getKey() + "\",\"raftAddress\":\"" + m.getValue() + "\"}").toList()) + "]}";
        HttpResponse<String> followerAnswer = http.send(post(follower, body), HttpResponse.BodyHandlers.ofString());
        assertThat(followerAnswer.statusCode()).as(followerAnswer.body()).isEqualTo(503);
        assertThat(followerAnswer.body()).contains("1060");
        com.google.protobuf.Struct.Builder errorBody = com.google.protobuf.Struct.newBuilder();
        JsonFormat.parser().merge(followerAnswer.body(), errorBody);
        com.google.protobuf.Struct leaderInBody = errorBody.build().getFieldsOrThrow("error").getStructValue().getFieldsOrThrow("leader")
                .getStructValue();
        assertThat(leaderInBody.getFieldsOrThrow("id").getStringValue()).isEqualTo(leaderId);
        assertThat(leaderInBody.getFieldsOrThrow("address").getStringValue()).isEqualTo(clients.get(leaderId));
        HttpResponse<String> added = http.send(post(leader, body), HttpResponse.BodyHandlers.ofString());
        assertThat(added.statusCode()).as(added.body()).isEqualTo(200);
        assertThat(added.body()).contains("\"d\"");
        assertThat(status(toLeader).getProcessesCount()).isEqualTo(4);

        // The new member catches up: it serves the first commit at a fresh read version.
        long rv2 = readVersion(toLeader);
        TxkvGrpc.TxkvBlockingStub toD = stub(d);
        assertThat(toD.get(GetRequest.newBuilder().setProtocolVersion(V).setKey(bytes("k")).setReadVersion(rv2).build())
                .getValue()).isEqualTo(bytes("v"));
    }

    private static HttpRequest post(TxkvServer server, String body) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + "/v1/SetMembers"))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    @Test
    void replicationFlagsAreCheckedAsUsageErrors() {
        PrintStream oldErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            String data = dir.resolve("x").toString();
            assertThat(TestServers.serverCommand("--data", data, "--listen", "127.0.0.1:0", "--http", "none",
                    "--id", "a")).isEqualTo(2);
            assertThat(TestServers.serverCommand("--data", data, "--listen", "127.0.0.1:0", "--http", "none",
                    "--peers", "a@127.0.0.1:7001")).isEqualTo(2);
            assertThat(TestServers.serverCommand("--data", data, "--listen", "127.0.0.1:0", "--http", "none",
                    "--id", "z", "--peers", "a@127.0.0.1:7001,b@127.0.0.1:7002")).isEqualTo(2);
            assertThat(TestServers.serverCommand("--data", data, "--listen", "127.0.0.1:0", "--http", "none",
                    "--id", "a", "--peers", "a@127.0.0.1:7001,a@127.0.0.1:7002")).isEqualTo(2);
            assertThat(TestServers.serverCommand("--data", data, "--listen", "127.0.0.1:0", "--http", "none",
                    "--id", "a", "--peers", "a@127.0.0.1")).isEqualTo(2);
            assertThat(TestServers.serverCommand("--data", data, "--listen", "127.0.0.1:0", "--http", "none",
                    "--id", "a", "--peers", "a127.0.0.1:7001")).isEqualTo(2);
            assertThat(TestServers.serverCommand("--data", data, "--listen", "127.0.0.1:0", "--http", "none",
                    "--peer-clients", "a@127.0.0.1:7000")).isEqualTo(2);
            assertThat(TestServers.serverCommand("--data", data, "--listen", "127.0.0.1:0", "--http", "none",
                    "--id", "a", "--peers", "a@127.0.0.1:7001", "--peer-clients", "a:7000")).isEqualTo(2);
            assertThat(TestServers.serverCommand("--data", data, "--listen", "127.0.0.1:0", "--http", "none",
                    "--id", "a", "--peers", "a@127.0.0.1:7001", "--peer-clients", "a@127.0.0.1")).isEqualTo(2);
        } finally {
            System.setErr(oldErr);
        }
        String text = err.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("--id needs --peers", "--peers needs --id", "--id z is not among the --peers",
                "names member a twice", "ID@HOST:RAFTPORT", "--peer-clients needs --id and --peers",
                "--peer-clients entries must be ID@HOST:PORT");
    }
}
