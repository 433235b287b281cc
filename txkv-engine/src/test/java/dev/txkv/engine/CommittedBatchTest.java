package dev.txkv.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.testkit.Seeds;
import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.spi.Mutation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The commit-log record: round trips exactly, and corrupt bytes give a clear error, never a wrong batch. */
class CommittedBatchTest {
    private static byte[] bytes(Random r, int max) {
        byte[] b = new byte[r.nextInt(max + 1)];
        r.nextBytes(b);
        return b;
    }

    private static CommittedBatch randomBatch(Random r) {
        List<CommittedBatch.Transaction> txs = new ArrayList<>();
        int n = r.nextInt(5);
        for (int i = 0; i < n; i++) {
            List<Mutation> ms = new ArrayList<>();
            int m = r.nextInt(4);
            for (int j = 0; j < m; j++) {
                ms.add(new Mutation(new int[] {0, 1, 2, 14, 15, 20}[r.nextInt(6)], bytes(r, 20), bytes(r, 40)));
            }
            txs.add(new CommittedBatch.Transaction(i, r.nextBoolean() ? null : bytes(r, 16), ms));
        }
        if (r.nextBoolean()) {
            return new CommittedBatch(r.nextLong(), r.nextLong(), txs);
        }
        // A two-phase record (format 2): any kind but a batch, with its coordinator and participants.
        CommittedBatch.Kind kind = CommittedBatch.Kind.values()[1 + r.nextInt(CommittedBatch.Kind.values().length - 1)];
        int[] participants = new int[r.nextInt(5)];
        for (int i = 0; i < participants.length; i++) {
            participants[i] = r.nextInt(1000);
        }
        return new CommittedBatch(kind, r.nextLong(), r.nextLong(), txs,
                new CommittedBatch.TwoPhase(r.nextInt(1000), participants, r.nextBoolean()));
    }

    private static void assertSame(CommittedBatch a, CommittedBatch b) {
        assertThat(b.kind()).isEqualTo(a.kind());
        if (a.twoPhase() == null) {
            assertThat(b.twoPhase()).isNull();
        } else {
            assertThat(b.twoPhase().coordinator()).isEqualTo(a.twoPhase().coordinator());
            assertThat(b.twoPhase().participants()).isEqualTo(a.twoPhase().participants());
            assertThat(b.twoPhase().commit()).isEqualTo(a.twoPhase().commit());
        }
        assertThat(b.version()).isEqualTo(a.version());
        assertThat(b.commitTimeMs()).isEqualTo(a.commitTimeMs());
        assertThat(b.transactions()).hasSameSizeAs(a.transactions());
        for (int i = 0; i < a.transactions().size(); i++) {
            CommittedBatch.Transaction x = a.transactions().get(i);
            CommittedBatch.Transaction y = b.transactions().get(i);
            assertThat(y.order()).isEqualTo(x.order());
            byte[] idX = x.idempotencyId() == null || x.idempotencyId().length == 0 ? null : x.idempotencyId();
            assertThat(y.idempotencyId()).isEqualTo(idX);
            assertThat(y.mutations()).hasSameSizeAs(x.mutations());
            for (int j = 0; j < x.mutations().size(); j++) {
                assertThat(y.mutations().get(j).type()).isEqualTo(x.mutations().get(j).type());
                assertThat(y.mutations().get(j).key()).isEqualTo(x.mutations().get(j).key());
                assertThat(y.mutations().get(j).param()).isEqualTo(x.mutations().get(j).param());
            }
        }
    }

    @Test
    void roundTripsRandomBatches() {
        long seed = Seeds.seed();
        Random r = new Random(seed);
        for (int i = 0; i < 2_000; i++) {
            CommittedBatch batch = randomBatch(r);
            assertSame(batch, CommittedBatch.decode(batch.encode()));
        }
    }

    @Test
    void corruptRecordsAreRefusedClearly() {
        long seed = Seeds.seed();
        Random r = new Random(seed);
        for (int i = 0; i < 2_000; i++) {
            byte[] good = randomBatch(r).encode();
            byte[] bad = r.nextBoolean() ? Arrays.copyOf(good, r.nextInt(good.length)) : good.clone();
            if (bad.length == good.length) {
                bad[r.nextInt(bad.length)] ^= (byte) (1 + r.nextInt(255));
            }
            // The checksum catches every truncation and every single-byte change.
            assertThatThrownBy(() -> CommittedBatch.decode(bad)).isInstanceOf(TxkvException.class)
                    .satisfies(e -> assertThat(((TxkvException) e).getCode())
                            .isEqualTo(ErrorCode.DATA_DIRECTORY_INVALID.code()));
        }
        assertThatThrownBy(() -> CommittedBatch.decode(new byte[] {1, 2, 3})).isInstanceOf(TxkvException.class)
                .hasMessageContaining("Corrupt commit batch record");
    }

    @Test
    void admissionFindsEveryRecordNoReplicaCouldDecode() {
        long seed = Seeds.seed();
        Random r = new Random(seed);
        for (int i = 0; i < 2_000; i++) {
            byte[] good = randomBatch(r).encode();
            assertThat(CommittedBatch.problem(java.nio.ByteBuffer.wrap(good))).isNull();
            byte[] bad = Arrays.copyOf(good, r.nextInt(good.length));
            assertThat(CommittedBatch.problem(java.nio.ByteBuffer.wrap(bad))).isNotNull();
        }
        // Sound checksums over unsound structure, as only a bug could write.
        Mutation set = new Mutation(Mutation.SET, new byte[] {1}, new byte[] {2});
        byte[] one = new CommittedBatch(7, 8, List.of(new CommittedBatch.Transaction(0, null, List.of(set)))).encode();
        byte[] twoClaimed = one.clone();
        twoClaimed[21] = 2;
        assertThat(CommittedBatch.problem(java.nio.ByteBuffer.wrap(resealed(twoClaimed)))).contains("truncated");
        byte[] unknownType = one.clone();
        unknownType[29] = (byte) 200;
        assertThat(CommittedBatch.problem(java.nio.ByteBuffer.wrap(resealed(unknownType)))).contains("200");
        byte[] trailing = Arrays.copyOf(one, one.length + 3);
        System.arraycopy(one, one.length - 4, trailing, one.length - 4, 4);
        assertThat(CommittedBatch.problem(java.nio.ByteBuffer.wrap(resealed(trailing)))).contains("trailing");
        byte[] decided = new CommittedBatch(CommittedBatch.Kind.DECIDED, 7, 8, List.of(),
                new CommittedBatch.TwoPhase(1, new int[] {1, 2}, true)).encode();
        assertThat(CommittedBatch.problem(java.nio.ByteBuffer.wrap(decided))).isNull();
        byte[] unknownKind = decided.clone();
        unknownKind[2] = 9;
        assertThat(CommittedBatch.problem(java.nio.ByteBuffer.wrap(resealed(unknownKind)))).contains("kind 9");
        assertThatThrownBy(() -> CommittedBatch.decode(resealed(unknownKind))).hasMessageContaining("kind 9");
    }

    /** The record with its CRC32C recomputed over what precedes it. */
    private static byte[] resealed(byte[] record) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(record, 0, record.length - 4);
        java.nio.ByteBuffer.wrap(record, record.length - 4, 4).putInt((int) crc.getValue());
        return record;
    }
}
