package dev.txkv.server;

import static dev.txkv.server.TestServers.bytes;
import static dev.txkv.server.TestServers.failure;
import static dev.txkv.server.TestServers.keyAfter;
import static dev.txkv.server.TestServers.range;
import static dev.txkv.server.TestServers.readVersion;
import static dev.txkv.server.TestServers.set;
import static dev.txkv.server.TestServers.setCommit;
import static dev.txkv.server.TestServers.txkvCode;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.txkv.proto.CommitRequest;
import dev.txkv.proto.GetManyRequest;
import dev.txkv.proto.GetManyResponse;
import dev.txkv.proto.GetRequest;
import dev.txkv.proto.GetResponse;
import dev.txkv.proto.TxkvGrpc;
import dev.txkv.testkit.Seeds;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Get or GetMany element with read version -1: the server takes a new read version, reads at
 * it and returns it; a transaction reads on and commits at it as at one from GetReadVersion.
 */
class AssignedReadVersionTest {
    private static final int V = ProtocolVersion.CURRENT;
    @TempDir
    static Path dir;
    static TxkvServer server;
    static ManagedChannel channel;
    static TxkvGrpc.TxkvBlockingStub stub;

    @BeforeAll
    static void start() throws Exception {
        TestServers.quietLogs();
        server = TxkvServer.start(new ServerConfig().dataDir(dir.resolve("data")).grpcAddress("127.0.0.1", 0));
        channel = TestServers.channel(server);
        stub = TxkvGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        TestServers.close(channel);
        server.close();
    }

    private static GetRequest get(ByteString key, long rv) {
        return GetRequest.newBuilder().setProtocolVersion(V).setKey(key).setReadVersion(rv).build();
    }

    private static CommitRequest readModifyWrite(ByteString key, long rv, ByteString value) {
        return CommitRequest.newBuilder().setProtocolVersion(V).setReadVersion(rv)
                .addReadConflicts(range(key, keyAfter(key))).addMutations(set(key, value)).build();
    }

    @Test
    void aGetWithoutVersionSeesEveryAcknowledgedCommitAndReturnsItsVersion() {
        long committed = stub.commit(setCommit(bytes("av/a"), bytes("1"))).getVersion();
        GetResponse r = stub.get(get(bytes("av/a"), -1));
        assertThat(r.hasReadVersion()).isTrue();
        assertThat(r.getReadVersion().getValue()).isGreaterThanOrEqualTo(committed);
        assertThat(r.getPresent()).isTrue();
        assertThat(r.getValue().toStringUtf8()).isEqualTo("1");
        // A read at a given version says nothing about versions.
        assertThat(stub.get(get(bytes("av/a"), readVersion(stub))).hasReadVersion()).isFalse();
    }

    @Test
    void aTransactionWhoseFirstReadTookTheVersionCommitsAndConflictsAsUsual() {
        stub.commit(setCommit(bytes("av/t"), bytes("0")));
        long rv = stub.get(get(bytes("av/t"), -1)).getReadVersion().getValue();
        assertThat(stub.commit(readModifyWrite(bytes("av/t"), rv, bytes("1"))).getVersion()).isGreaterThan(rv);

        long stale = stub.get(get(bytes("av/t"), -1)).getReadVersion().getValue();
        stub.commit(setCommit(bytes("av/t"), bytes("2")));   // a write after the read
        assertThat(txkvCode(failure(() -> stub.commit(readModifyWrite(bytes("av/t"), stale, bytes("3")))))).isEqualTo(1020);
        assertThat(stub.get(get(bytes("av/t"), readVersion(stub))).getValue().toStringUtf8()).isEqualTo("2");
    }

    @Test
    void getManyElementsWithoutVersionShareOneNewVersion() {
        long committed = stub.commit(CommitRequest.newBuilder().setProtocolVersion(V).setReadVersion(-1)
                .addMutations(set(bytes("av/m1"), bytes("x"))).addMutations(set(bytes("av/m2"), bytes("y"))).build())
                .getVersion();
        long old = committed;
        GetManyResponse r = stub.getMany(GetManyRequest.newBuilder().setProtocolVersion(V)
                .addRequests(get(bytes("av/m1"), -1))
                .addRequests(get(bytes("av/m2"), old))
                .addRequests(get(bytes("av/m2"), -1))
                .addRequests(get(bytes("av/none"), -1))
                .addRequests(get(bytes(0xFF, 1), -1))        // still checked: 2004
                .addRequests(get(bytes("av/m1"), -2))        // 2011
                .build());
        long v0 = r.getResults(0).getResponse().getReadVersion().getValue();
        assertThat(v0).isGreaterThanOrEqualTo(committed);
        assertThat(r.getResults(0).getResponse().getValue().toStringUtf8()).isEqualTo("x");
        assertThat(r.getResults(1).getResponse().hasReadVersion()).isFalse();
        assertThat(r.getResults(2).getResponse().getReadVersion().getValue()).isEqualTo(v0);
        assertThat(r.getResults(2).getResponse().getValue().toStringUtf8()).isEqualTo("y");
        assertThat(r.getResults(3).getResponse().getPresent()).isFalse();
        assertThat(r.getResults(3).getResponse().getReadVersion().getValue()).isEqualTo(v0);
        assertThat(r.getResults(4).getError().getCode()).isEqualTo(2004);
        assertThat(r.getResults(5).getError().getCode()).isEqualTo(2011);
    }

    @Test
    void otherNegativeVersionsAreStillInvalid() {
        assertThat(txkvCode(failure(() -> stub.get(get(bytes("av/a"), -2))))).isEqualTo(2011);
    }

    /**
     * Random commits interleaved with reads that take their version: each read's version is
     * at or after every commit acknowledged before it, and the value is the last one committed.
     */
    @Test
    void assignedVersionsFollowEveryAcknowledgedCommit() {
        Random random = new Random(Seeds.seed());
        String[] values = new String[8];
        long lastCommitted = 0;
        long lastAssigned = 0;
        for (int i = 0; i < 300; i++) {
            int k = random.nextInt(values.length);
            ByteString key = bytes("av/r/" + k);
            if (random.nextBoolean()) {
                String value = Integer.toString(random.nextInt(1_000_000));
                lastCommitted = stub.commit(setCommit(key, bytes(value))).getVersion();
                values[k] = value;
            } else {
                GetResponse r = stub.get(get(key, -1));
                long assigned = r.getReadVersion().getValue();
                assertThat(assigned).isGreaterThanOrEqualTo(lastCommitted).isGreaterThanOrEqualTo(lastAssigned);
                lastAssigned = assigned;
                assertThat(r.getPresent()).isEqualTo(values[k] != null);
                if (values[k] != null) {
                    assertThat(r.getValue().toStringUtf8()).isEqualTo(values[k]);
                }
            }
        }
    }
}
