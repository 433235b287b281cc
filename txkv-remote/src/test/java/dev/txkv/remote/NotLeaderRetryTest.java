package dev.txkv.remote;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.ErrorCode;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.proto.CommitResponse;
import dev.txkv.proto.ElementError;
import dev.txkv.proto.GetReadVersionResponse;
import dev.txkv.proto.NotLeader;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.Mutation;
import dev.txkv.wire.WireErrors;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * not_leader (1060) against scripted servers: commits and read versions move on to the next
 * server (or the leader the NotLeader detail names, when it is one of ours) with a backoff,
 * within the call's deadline; the server that answered is preferred afterwards; reads stay where they are.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class NotLeaderRetryTest {
    private final List<FakeServer> fakes = new ArrayList<>();
    private RemoteBackend backend;

    @AfterEach
    void stop() {
        if (backend != null) {
            backend.close();
        }
        fakes.forEach(FakeServer::close);
    }

    private FakeServer fake() throws IOException {
        FakeServer f = new FakeServer();
        fakes.add(f);
        return f;
    }

    private static CommitRequest commit() {
        return new CommitRequest(-1, List.of(), List.of(new Range(new byte[] {3}, new byte[] {3, 0})),
                List.of(new Mutation(Mutation.SET, new byte[] {3}, new byte[] {9})), null, false);
    }

    private static Metadata notLeader(NotLeader detail) {
        Metadata m = new Metadata();
        m.put(WireErrors.ERROR_CODE, Integer.toString(ErrorCode.NOT_LEADER.code()));
        m.put(WireErrors.ERROR_NAME, ErrorCode.NOT_LEADER.errorName());
        if (detail != null) {
            m.put(WireErrors.NOT_LEADER, detail.toByteArray());
        }
        return m;
    }

    /** Answers not_leader with {@code leader} as the detail (null: no detail trailer at all). */
    private static void refuse(StreamObserver<?> o, NotLeader leader) {
        o.onError(Status.UNAVAILABLE.withDescription("This server does not lead the cluster")
                .asRuntimeException(notLeader(leader)));
    }

    private static void follower(FakeServer f, NotLeader leader) {
        f.onCommit = (r, o) -> refuse(o, leader);
        f.onGrv = (r, o) -> refuse(o, leader);
    }

    private static NotLeader leader(String id, String address) {
        return NotLeader.newBuilder().setLeaderId(id).setLeaderAddress(address).setMemberId("follower").build();
    }

    private static long count(FakeServer f, Class<?> type) {
        return f.requests.stream().filter(type::isInstance).count();
    }

    @Test
    void commitsAndReadVersionsFindTheLeaderAndPreferItAfterwards() throws IOException {
        FakeServer a = fake();
        FakeServer b = fake();
        FakeServer c = fake();
        follower(a, null);
        follower(b, null);
        backend = RemoteBackend.connect(a.connection() + "," + b.connection() + "," + c.connection(), new RemoteSettings());
        assertThat(backend.commit(commit()).join().version()).isEqualTo(100);
        assertThat(count(a, dev.txkv.proto.CommitRequest.class)).isEqualTo(1);
        assertThat(count(b, dev.txkv.proto.CommitRequest.class)).isEqualTo(1);
        assertThat(count(c, dev.txkv.proto.CommitRequest.class)).isEqualTo(1);
        // c answered as leader: it is preferred now, for read versions, commits and reads.
        assertThat(backend.getReadVersion().join()).isEqualTo(42);
        assertThat(backend.commit(commit()).join().version()).isEqualTo(100);
        assertThat(backend.get(new byte[] {1}, 42).join()).isNull();
        assertThat(count(a, dev.txkv.proto.GetReadVersionRequest.class)).isZero();
        assertThat(count(c, dev.txkv.proto.CommitRequest.class)).isEqualTo(2);
        assertThat(count(c, dev.txkv.proto.GetRequest.class)).isEqualTo(1);
    }

    @Test
    void readVersionsMoveOnFromAFollower() throws IOException {
        FakeServer a = fake();
        FakeServer b = fake();
        follower(a, null);
        b.onGrv = (r, o) -> {
            o.onNext(GetReadVersionResponse.newBuilder().setReadVersion(77).build());
            o.onCompleted();
        };
        backend = RemoteBackend.connect(a.connection() + "," + b.connection(), new RemoteSettings());
        assertThat(backend.getReadVersion().join()).isEqualTo(77);
        // Reads go to the preferred server, now b; a follower would serve them as well.
        backend.get(new byte[] {1}, 77).join();
        assertThat(count(b, dev.txkv.proto.GetRequest.class)).isEqualTo(1);
    }

    @Test
    void theLeaderNamedInTheDetailIsTriedFirstWhenItIsOneOfOurServers() throws IOException {
        FakeServer a = fake();
        FakeServer b = fake();
        FakeServer c = fake();
        follower(a, leader("c", c.connection()));
        follower(b, null);
        backend = RemoteBackend.connect(a.connection() + "," + b.connection() + "," + c.connection(),
                new RemoteSettings());
        assertThat(backend.commit(commit()).join().version()).isEqualTo(100);
        assertThat(backend.getReadVersion().join()).isEqualTo(42);
        assertThat(count(b, dev.txkv.proto.CommitRequest.class)).isZero();
        assertThat(count(c, dev.txkv.proto.CommitRequest.class)).isEqualTo(1);
    }

    @Test
    void withoutAnAddressTheLeadersIdIsMatchedAgainstOurHosts() throws IOException {
        FakeServer a = fake();
        FakeServer b = fake();
        FakeServer c = fake();
        follower(a, leader("localhost", ""));
        follower(b, null);
        backend = RemoteBackend.connect(a.connection() + "," + b.connection() + ",localhost:" + c.port(),
                new RemoteSettings());
        assertThat(backend.commit(commit()).join().version()).isEqualTo(100);
        assertThat(count(b, dev.txkv.proto.CommitRequest.class)).isZero();
        assertThat(count(c, dev.txkv.proto.CommitRequest.class)).isEqualTo(1);
    }

    @Test
    void theMessageTextDoesNotSteerTheSearchAndAnUnknownLeaderMeansTheNextServer() throws IOException {
        FakeServer a = fake();
        FakeServer b = fake();
        FakeServer c = fake();
        // Text that the old English-parsing client would have followed to c; no detail trailer.
        a.onCommit = (r, o) -> o.onError(Status.UNAVAILABLE
                .withDescription("This server does not lead the cluster; member localhost does")
                .asRuntimeException(notLeader(null)));
        // A leader that is not one of our servers: walk the list.
        follower(b, leader("z", "elsewhere.invalid:4500"));
        backend = RemoteBackend.connect(a.connection() + "," + b.connection() + ",localhost:" + c.port(),
                new RemoteSettings());
        assertThat(backend.commit(commit()).join().version()).isEqualTo(100);
        assertThat(count(b, dev.txkv.proto.CommitRequest.class)).isEqualTo(1);
        assertThat(count(c, dev.txkv.proto.CommitRequest.class)).isEqualTo(1);
    }

    @Test
    void aBatchElementsNotLeaderMapsAsItsSingleCallWouldWithTheDetail() {
        NotLeader detail = leader("b", "127.0.0.1:4510");
        ElementError element = WireErrors.elementError(new TxkvException(ErrorCode.NOT_LEADER, "not me"), detail);
        ServerAddress server = new ServerAddress("127.0.0.1", 4500);
        GrpcErrors.Mapped fromElement = GrpcErrors.map(GrpcErrors.elementFailure(element), GrpcErrors.Call.COMMIT,
                server, false);
        GrpcErrors.Mapped fromCall = GrpcErrors.map(WireErrors.toStatusException(
                new TxkvException(ErrorCode.NOT_LEADER, "not me"), detail), GrpcErrors.Call.COMMIT, server, false);
        assertThat(fromElement.leader()).isEqualTo(detail).isEqualTo(fromCall.leader());
        assertThat(fromElement.error().getError()).isEqualTo(ErrorCode.NOT_LEADER);
        assertThat(fromElement.error().getMessage()).isEqualTo(fromCall.error().getMessage());
        assertThat(fromElement.transport()).isFalse();
        assertThat(fromElement.error().isRetryableNotCommitted()).isTrue();
    }

    @Test
    void duringAnElectionTheCommitWaitsForTheLeaderWithinItsDeadline() throws IOException {
        FakeServer a = fake();
        FakeServer b = fake();
        long electedAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(600);
        follower(a, null);
        b.onCommit = (r, o) -> {
            if (System.nanoTime() < electedAt) {
                refuse(o, null);
            } else {
                o.onNext(CommitResponse.newBuilder().setVersion(200).build());
                o.onCompleted();
            }
        };
        backend = RemoteBackend.connect(a.connection() + "," + b.connection(), new RemoteSettings());
        assertThat(backend.commit(commit()).join().version()).isEqualTo(200);
        assertThat(count(b, dev.txkv.proto.CommitRequest.class)).isGreaterThan(1);
        // The backoff keeps the retries few: at most 50 ms apart after the first ones.
        assertThat(count(a, dev.txkv.proto.CommitRequest.class)).isLessThan(20);
    }

    @Test
    void aServerThatNamesItselfTheLeaderIsAskedAgainUntilItTakesTheCommit() throws IOException {
        FakeServer a = fake();
        FakeServer b = fake();
        FakeServer c = fake();
        follower(a, null);
        follower(c, null);
        // b was just elected: it names itself while it applies what the old leader committed.
        long readyAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        b.onCommit = (r, o) -> {
            if (System.nanoTime() < readyAt) {
                refuse(o, leader("b", b.connection()));
            } else {
                o.onNext(CommitResponse.newBuilder().setVersion(400).build());
                o.onCompleted();
            }
        };
        backend = RemoteBackend.connect(a.connection() + "," + b.connection() + "," + c.connection(),
                new RemoteSettings());
        long start = System.nanoTime();
        assertThat(backend.commit(commit()).join().version()).isEqualTo(400);
        // Taken within a backoff (at most 50 ms) of b being ready, and without walking on to c.
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(1_000);
        assertThat(count(b, dev.txkv.proto.CommitRequest.class)).isGreaterThan(2);
        assertThat(count(c, dev.txkv.proto.CommitRequest.class)).isZero();
        assertThat(count(a, dev.txkv.proto.CommitRequest.class)).isEqualTo(1);
    }

    @Test
    void withoutALeaderBeforeTheDeadlineTheCallerSeesNotLeaderNeverCommitUnknownResult() throws IOException {
        FakeServer a = fake();
        FakeServer b = fake();
        follower(a, null);
        follower(b, null);
        backend = RemoteBackend.connect(a.connection() + "," + b.connection(),
                new RemoteSettings().commitTimeout(Duration.ofMillis(700)).requestTimeout(Duration.ofMillis(700)));
        long start = System.nanoTime();
        TxkvException e = RemoteBackendProtocolTest.failure(backend.commit(commit()));
        assertThat(e.getError()).isEqualTo(ErrorCode.NOT_LEADER);
        assertThat(e.isRetryableNotCommitted()).isTrue();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(500L, 5_000L);
        assertThat(count(a, dev.txkv.proto.CommitRequest.class) + count(b, dev.txkv.proto.CommitRequest.class))
                .isGreaterThan(3);
        assertThat(RemoteBackendProtocolTest.failure(backend.getReadVersion()).getError()).isEqualTo(ErrorCode.NOT_LEADER);
    }

    @Test
    void aFollowerAndARefusedServerTogetherStillLeadToTheLeader() throws IOException {
        FakeServer b = fake();
        FakeServer c = fake();
        follower(b, null);
        long electedAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(400);
        c.onCommit = (r, o) -> {
            if (System.nanoTime() < electedAt) {
                refuse(o, null);
            } else {
                o.onNext(CommitResponse.newBuilder().setVersion(300).build());
                o.onCompleted();
            }
        };
        // The first server is down (a dead leader): refused, then followers until one is elected.
        backend = RemoteBackend.connect("127.0.0.1:" + RemoteBackendProtocolTest.refusedPort() + "," + b.connection()
                + "," + c.connection(), new RemoteSettings());
        assertThat(backend.commit(commit()).join().version()).isEqualTo(300);
    }
}
