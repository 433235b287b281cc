package dev.txkv.server;

import static dev.txkv.server.TestServers.bytes;
import static dev.txkv.server.TestServers.keyAfter;
import static dev.txkv.server.TestServers.range;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.txkv.Range;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.proto.CommitRequest;
import dev.txkv.proto.KeyRange;
import dev.txkv.proto.Mutation;
import dev.txkv.proto.MutationType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The write conflict ranges the server derives from a commit's mutations, merged with the client's. */
class WriteConflictsTest {
    private final RequestValidator validator = new RequestValidator(new TxkvConfig());

    private static Mutation mutation(MutationType type, ByteString key, ByteString param) {
        return Mutation.newBuilder().setType(type).setKey(key).setParam(param).build();
    }

    private List<Range> writeConflicts(Mutation... mutations) {
        CommitRequest.Builder request = CommitRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT)
                .setReadVersion(-1);
        for (Mutation m : mutations) {
            request.addMutations(m);
        }
        return validator.commit(request.build()).writeConflicts();
    }

    private static Range r(ByteString begin, ByteString end) {
        return new Range(begin.toByteArray(), end.toByteArray());
    }

    /** A versionstamped key or value: {@code before}, 10 stamp bytes, {@code after}, the 4-byte offset. */
    private static ByteString stamped(String before, String after) {
        ByteString offset = bytes(before.length(), 0, 0, 0);
        return bytes(before).concat(ByteString.copyFrom(new byte[10])).concat(bytes(after)).concat(offset);
    }

    @Test
    void aSetWritesItsKey() {
        assertThat(writeConflicts(mutation(MutationType.SET_VALUE, bytes("k"), bytes("v"))))
                .containsExactly(r(bytes("k"), keyAfter(bytes("k"))));
        assertThat(writeConflicts(mutation(MutationType.SET_VALUE, ByteString.EMPTY, bytes("v"))))
                .as("the empty key").containsExactly(r(ByteString.EMPTY, bytes(0)));
    }

    @Test
    void aClearRangeWritesTheClearedRange() {
        assertThat(writeConflicts(mutation(MutationType.CLEAR_RANGE, bytes("a/"), bytes("a0"))))
                .containsExactly(r(bytes("a/"), bytes("a0")));
        assertThat(writeConflicts(mutation(MutationType.CLEAR_RANGE, bytes("a"), bytes("a"))))
                .as("an empty clear writes nothing").isEmpty();
        assertThat(writeConflicts(mutation(MutationType.CLEAR_RANGE, bytes("a"), bytes(0xFF))))
                .as("to the end of the user keyspace").containsExactly(r(bytes("a"), bytes(0xFF)));
    }

    @Test
    void everyAtomicOperationWritesItsKey() {
        for (MutationType type : List.of(MutationType.ADD, MutationType.BIT_AND, MutationType.BIT_OR,
                MutationType.BIT_XOR, MutationType.APPEND_IF_FITS, MutationType.MAX, MutationType.MIN,
                MutationType.BYTE_MIN, MutationType.BYTE_MAX, MutationType.COMPARE_AND_CLEAR)) {
            assertThat(writeConflicts(mutation(type, bytes("n"), bytes(1, 0, 0, 0))))
                    .as(type.name()).containsExactly(r(bytes("n"), keyAfter(bytes("n"))));
        }
        assertThat(writeConflicts(mutation(MutationType.SET_VERSIONSTAMPED_VALUE, bytes("n"), stamped("v", ""))))
                .as("a versionstamped value").containsExactly(r(bytes("n"), keyAfter(bytes("n"))));
    }

    @Test
    void aVersionstampedKeyWritesEveryKeyItsStampCanProduce() {
        ByteString zeros = ByteString.copyFrom(new byte[10]);
        ByteString ones = bytes(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF);
        assertThat(writeConflicts(mutation(MutationType.SET_VERSIONSTAMPED_KEY, stamped("log/", "/x"), bytes("e"))))
                .containsExactly(r(bytes("log/").concat(zeros).concat(bytes("/x")),
                        keyAfter(bytes("log/").concat(ones).concat(bytes("/x")))));
        // The stamp first: its highest key would start with 0xFF, so the range ends at 0xFF.
        assertThat(writeConflicts(mutation(MutationType.SET_VERSIONSTAMPED_KEY, stamped("", "z"), bytes("e"))))
                .containsExactly(r(zeros.concat(bytes("z")), bytes(0xFF)));
    }

    @Test
    void noWriteConflictLeavesOutThatMutationsRangeOnly() {
        Mutation quiet = mutation(MutationType.SET_VALUE, bytes("q"), bytes("v")).toBuilder()
                .setNoWriteConflict(true).build();
        assertThat(writeConflicts(quiet)).isEmpty();
        assertThat(writeConflicts(quiet, mutation(MutationType.ADD, bytes("c"), bytes(1))))
                .containsExactly(r(bytes("c"), keyAfter(bytes("c"))));
        assertThat(writeConflicts(mutation(MutationType.CLEAR_RANGE, bytes("a"), bytes("b")).toBuilder()
                .setNoWriteConflict(true).build())).isEmpty();
        assertThat(writeConflicts(mutation(MutationType.SET_VERSIONSTAMPED_KEY, stamped("log/", ""), bytes("e"))
                .toBuilder().setNoWriteConflict(true).build())).isEmpty();
    }

    @Test
    void theClientsWriteConflictsAreKeptAndEachRangeIsRecordedOnce() {
        KeyRange explicit = range(bytes("x"), bytes("y"));
        KeyRange sameAsDerived = range(bytes("k"), keyAfter(bytes("k")));
        CommitRequest request = CommitRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT).setReadVersion(-1)
                .addWriteConflicts(explicit).addWriteConflicts(sameAsDerived)
                .addMutations(mutation(MutationType.SET_VALUE, bytes("k"), bytes("v")))
                .addMutations(mutation(MutationType.SET_VALUE, bytes("k"), bytes("w")))
                .addMutations(mutation(MutationType.SET_VALUE, bytes("m"), bytes("v")))
                .build();
        assertThat(validator.commit(request).writeConflicts()).containsExactlyInAnyOrder(
                r(bytes("x"), bytes("y")), r(bytes("k"), keyAfter(bytes("k"))), r(bytes("m"), keyAfter(bytes("m"))));
    }

    @Test
    void derivedRangesCountTowardsTheTransactionSize() {
        RequestValidator small = new RequestValidator(new TxkvConfig().transactionSizeMax(100));
        ByteString key = ByteString.copyFrom(new byte[40]);
        // Mutation: 40 + 10 bytes; its write conflict 40 + 41 more: 131 > 100.
        CommitRequest request = CommitRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT).setReadVersion(-1)
                .addMutations(mutation(MutationType.SET_VALUE, key, ByteString.copyFrom(new byte[10]))).build();
        assertThatThrownBy(() -> small.commit(request)).isInstanceOf(TxkvException.class)
                .hasMessageContaining("131 bytes");
        // Sent explicitly as well, the same range is counted once.
        CommitRequest both = request.toBuilder().addWriteConflicts(range(key, keyAfter(key))).build();
        assertThatThrownBy(() -> small.commit(both)).hasMessageContaining("131 bytes");
    }
}
