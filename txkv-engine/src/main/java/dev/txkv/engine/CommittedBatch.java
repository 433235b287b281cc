package dev.txkv.engine;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.Mutation;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A record of the commit log: what every replica applies. A {@link Kind#BATCH} is a resolved
 * commit batch, a redo record: only transactions that passed the resolver are in it, with
 * their batch order, so applying it needs no resolver. The other kinds carry a sharded
 * cluster's two-phase commit (docs/sharding.md): a participant's {@link Kind#PREPARED} slice,
 * the coordinator's durable {@link Kind#DECIDE decision}, a participant's note of the outcome
 * ({@link Kind#DECIDED}) and the coordinator's {@link Kind#FORGET} once every participant has it.
 *
 * <pre>
 * encoded (big-endian), format 1 (a batch):
 *   offset 0   u8   magic 0x54 ('T')
 *          1   u8   format 1
 *          2   i64  commit version
 *         10   i64  commit time, ms since the epoch (for idempotency expiry)
 *         18   u32  transaction count
 *   per transaction:
 *              u16  batch order
 *              u8   idempotency id length (0: none), then the id
 *              u32  mutation count
 *     per mutation:
 *              u8   type (FoundationDB's code: 0 set, 1 clear range, 2.. atomic)
 *              u32  key length, then the key
 *              u32  param length, then the param
 *   last       u32  CRC32C of everything before it
 *
 * format 2 (the two-phase records):
 *   offset 0   u8   magic 0x54
 *          1   u8   format 2
 *          2   u8   kind (1 prepared, 2 decide, 3 decided, 4 forget, 5 split, 6 born, 7 absorb)
 *          3   i64  the transaction's commit version
 *         11   i64  time, ms since the epoch
 *         19   i32  coordinating shard
 *         23   u8   outcome (1 commit, 0 abort)
 *         24   u16  participant count, then each participant shard as i32
 *              u32  transaction count, then the transactions as in format 1
 *   last       u32  CRC32C of everything before it
 *
 * A split (kind 5) names the new shard in the coordinating-shard field and carries one
 * transaction whose one mutation (a set) holds the split key. A born record (kind 6) names the
 * parent shard there and carries one transaction whose one mutation (a clear range) holds the
 * new shard's first key and the first key after it (empty: the end of the keyspace); neither
 * mutation is applied as data. A split at a shard's own first key gives all its keys to the
 * shard named (the right shard of a merge). An absorb record (kind 7) names the absorbed shard
 * there and carries one transaction of two mutations: a clear range holding the absorbed keys as
 * a born record does, then a set whose 8-byte param is the absorbed shard's fence version (its
 * split at its first key); neither is applied as data.
 * </pre>
 *
 * @param kind what the record is
 * @param version the batch's commit version, or the two-phase transaction's
 * @param commitTimeMs when it was made, ms since the epoch
 * @param transactions a batch's transactions; a prepared slice's one transaction; a decision's
 *     one transaction carrying only the idempotency id
 * @param twoPhase the two-phase details of the other kinds; null for a batch
 */
public record CommittedBatch(Kind kind, long version, long commitTimeMs, List<CommittedBatch.Transaction> transactions,
        TwoPhase twoPhase) {
    static final byte MAGIC = 0x54;
    static final byte FORMAT = 1;
    static final byte FORMAT_TWO_PHASE = 2;
    /** Guards decoding against absurd lengths in a corrupt record. */
    private static final int LENGTH_MAX = 64 << 20;
    /** Mutation type codes a replica can apply: set, clear range and the atomic operations. */
    private static final boolean[] KNOWN_TYPES = new boolean[256];

    static {
        KNOWN_TYPES[Mutation.SET] = true;
        KNOWN_TYPES[Mutation.CLEAR_RANGE] = true;
        for (dev.txkv.MutationType t : dev.txkv.MutationType.values()) {
            KNOWN_TYPES[t.code()] = true;
        }
    }

    /** What a log record is. */
    public enum Kind {
        /** Resolved transactions at one version: applied at once (or after the undecided slices below it). */
        BATCH,
        /** A participant's slice of a cross-shard transaction, resolved and holding its version: applied once decided. */
        PREPARED,
        /** The coordinator's decision, the commit point; also this shard's own outcome. */
        DECIDE,
        /** A participant's note of the outcome of a slice it prepared. */
        DECIDED,
        /** The coordinator forgets a decision every participant has noted. */
        FORGET,
        /** A shard gives the keys from a split key on to a new shard, from this version on (a slot). */
        SPLIT,
        /** A new shard's first record: it takes its keys, as its parent held them at this version (a slot). */
        BORN,
        /** A shard takes the keys of its right neighbour, which gave them all away at its fence version (a slot). */
        ABSORB;

        /** Whether the record takes a version slot of its shard (versions only grow along the log). */
        public boolean isSlot() {
            return this == BATCH || this == PREPARED || this == SPLIT || this == BORN || this == ABSORB;
        }
    }

    /**
     * The two-phase details of a record.
     *
     * @param coordinator the shard whose leader coordinates the transaction
     * @param participants every shard the transaction writes or reads
     * @param commit the outcome (decide, decided); false otherwise
     */
    public record TwoPhase(int coordinator, int[] participants, boolean commit) {
    }

    /** Shard {@code child} takes the keys from {@code key} on at {@code version} (see the format above). */
    static CommittedBatch split(long version, long timeMs, int child, byte[] key) {
        return new CommittedBatch(Kind.SPLIT, version, timeMs,
                List.of(new Transaction(0, null, List.of(new Mutation(Mutation.SET, key, new byte[0])))),
                new TwoPhase(child, new int[0], false));
    }

    /** A new shard's first record: it holds [begin, end) as shard {@code parent} held them at {@code version}. */
    static CommittedBatch born(long version, long timeMs, int parent, byte[] begin, byte[] end) {
        return new CommittedBatch(Kind.BORN, version, timeMs,
                List.of(new Transaction(0, null, List.of(new Mutation(Mutation.CLEAR_RANGE, begin,
                        end == null ? new byte[0] : end)))),
                new TwoPhase(parent, new int[0], false));
    }

    /**
     * A shard absorbs [begin, end), the keys of shard {@code other}, which gave them all away at
     * {@code fence} (see the format above): it holds them from {@code version} on.
     */
    static CommittedBatch absorb(long version, long timeMs, int other, byte[] begin, byte[] end, long fence) {
        return new CommittedBatch(Kind.ABSORB, version, timeMs,
                List.of(new Transaction(0, null, List.of(
                        new Mutation(Mutation.CLEAR_RANGE, begin, end == null ? new byte[0] : end),
                        new Mutation(Mutation.SET, new byte[0], ByteBuffer.allocate(8).putLong(fence).array())))),
                new TwoPhase(other, new int[0], false));
    }

    /** A split's, born or absorb record's keys mutation (the first). */
    private Mutation shardChange() {
        int mutations = kind == Kind.ABSORB ? 2 : 1;
        if ((kind != Kind.SPLIT && kind != Kind.BORN && kind != Kind.ABSORB) || transactions.size() != 1
                || transactions.get(0).mutations().size() != mutations) {
            throw corrupt("a " + kind + " record is not a well-formed shard change");
        }
        return transactions.get(0).mutations().get(0);
    }

    /** An absorb record's fence: the version at which the absorbed shard gave its keys away. */
    long absorbFence() {
        shardChange();
        byte[] fence = transactions.get(0).mutations().get(1).param();
        if (fence == null || fence.length != 8) {
            throw corrupt("an absorb record without its fence version");
        }
        return ByteBuffer.wrap(fence).getLong();
    }

    /** A split's key. */
    byte[] splitKey() {
        return shardChange().key();
    }

    /** A born or absorb record's first key. */
    byte[] bornBegin() {
        return shardChange().key();
    }

    /** A born or absorb record's end key; null for the end of the keyspace. */
    byte[] bornEnd() {
        byte[] end = shardChange().param();
        return end == null || end.length == 0 ? null : end;
    }

    /** The other shard of a split (the new one, or the absorbing one), of a born record (the parent) or of an absorb record (the absorbed one). */
    int otherShard() {
        return twoPhase.coordinator();
    }

    /** A batch of resolved transactions (format 1). */
    public CommittedBatch(long version, long commitTimeMs, List<Transaction> transactions) {
        this(Kind.BATCH, version, commitTimeMs, transactions, null);
    }

    public CommittedBatch {
        if ((kind == Kind.BATCH) != (twoPhase == null)) {
            throw new IllegalArgumentException("A batch has no two-phase details; every other record has them");
        }
    }

    /** One committed transaction of the batch. */
    public record Transaction(int order, byte[] idempotencyId, List<Mutation> mutations) {
        CommitResult result(long version) {
            return new CommitResult(version, order);
        }
    }

    /** The batch as a log record: envelope, CRC32C and body (see above). */
    public byte[] encode() {
        int size = (kind == Kind.BATCH ? 22 : 26 + 4 * twoPhase.participants().length + 4) + 4;
        for (Transaction t : transactions) {
            size += 2 + 1 + (t.idempotencyId() == null ? 0 : t.idempotencyId().length) + 4;
            for (Mutation m : t.mutations()) {
                size += 1 + 4 + m.key().length + 4 + (m.param() == null ? 0 : m.param().length);
            }
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        if (kind == Kind.BATCH) {
            b.put(MAGIC).put(FORMAT).putLong(version).putLong(commitTimeMs);
        } else {
            b.put(MAGIC).put(FORMAT_TWO_PHASE).put((byte) kind.ordinal()).putLong(version).putLong(commitTimeMs)
                    .putInt(twoPhase.coordinator()).put((byte) (twoPhase.commit() ? 1 : 0))
                    .putShort((short) twoPhase.participants().length);
            for (int p : twoPhase.participants()) {
                b.putInt(p);
            }
        }
        b.putInt(transactions.size());
        for (Transaction t : transactions) {
            b.putShort((short) t.order());
            byte[] id = t.idempotencyId();
            b.put((byte) (id == null ? 0 : id.length));
            if (id != null) {
                b.put(id);
            }
            b.putInt(t.mutations().size());
            for (Mutation m : t.mutations()) {
                byte[] param = m.param() == null ? new byte[0] : m.param();
                b.put((byte) m.type()).putInt(m.key().length).put(m.key()).putInt(param.length).put(param);
            }
        }
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return b.array();
    }

    /** What is wrong with the record's envelope (length, magic, format, checksum), or null when it is sound. */
    public static String envelopeProblem(ByteBuffer record) {
        ByteBuffer b = record.slice();
        int length = b.remaining();
        if (length < 26) {
            return "truncated (" + length + " bytes)";
        }
        if (b.get(0) != MAGIC || (b.get(1) != FORMAT && b.get(1) != FORMAT_TWO_PHASE)) {
            return "unknown magic or format";
        }
        int stored = b.getInt(length - 4);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b.limit(length - 4));
        if ((int) crc.getValue() != stored) {
            return "checksum mismatch";
        }
        return null;
    }

    /**
     * What is wrong with the record, or null when it is sound: its envelope, then its structure
     * walked without copying anything (every length in range and inside the record, every
     * mutation type known, nothing left over). The leader checks every entry with it before
     * Raft appends it, so nothing a replica cannot decode reaches the log.
     */
    public static String problem(ByteBuffer record) {
        String envelope = envelopeProblem(record);
        if (envelope != null) {
            return envelope;
        }
        ByteBuffer b = record.slice();
        b.limit(b.limit() - 4).position(2);
        try {
            if (b.get(1) == FORMAT_TWO_PHASE) {
                int kind = b.get() & 0xFF;
                if (kind < 1 || kind >= Kind.values().length) {
                    return "unknown record kind " + kind;
                }
                b.position(b.position() + 8 + 8 + 4 + 1);
                skip(b, 4 * (b.getShort() & 0xFFFF));
            } else {
                b.position(18);
            }
            int count = b.getInt();
            if (count < 0) {
                return "negative transaction count";
            }
            for (int i = 0; i < count; i++) {
                b.getShort();
                skip(b, b.get() & 0xFF);
                int mutations = b.getInt();
                if (mutations < 0 || mutations > LENGTH_MAX) {
                    return "mutation count " + mutations + " out of range";
                }
                for (int j = 0; j < mutations; j++) {
                    int type = b.get() & 0xFF;
                    if (!KNOWN_TYPES[type]) {
                        return "unknown mutation type " + type;
                    }
                    skip(b, b.getInt());
                    skip(b, b.getInt());
                }
            }
            return b.hasRemaining() ? b.remaining() + " trailing bytes" : null;
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            return "truncated or a length out of range";
        }
    }

    private static void skip(ByteBuffer b, int n) {
        if (n < 0 || n > b.remaining()) {
            throw new BufferUnderflowException();
        }
        b.position(b.position() + n);
    }

    public static CommittedBatch decode(byte[] bytes) {
        String problem = envelopeProblem(ByteBuffer.wrap(bytes));
        if (problem != null) {
            throw corrupt(problem);
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes, 0, bytes.length - 4);
            b.position(2);
            Kind kind = Kind.BATCH;
            if (bytes[1] == FORMAT_TWO_PHASE) {
                int k = b.get() & 0xFF;
                if (k < 1 || k >= Kind.values().length) {
                    throw corrupt("unknown record kind " + k);
                }
                kind = Kind.values()[k];
            }
            long version = b.getLong();
            long timeMs = b.getLong();
            TwoPhase twoPhase = null;
            if (kind != Kind.BATCH) {
                int coordinator = b.getInt();
                boolean commit = b.get() == 1;
                int[] participants = new int[b.getShort() & 0xFFFF];
                for (int i = 0; i < participants.length; i++) {
                    participants[i] = b.getInt();
                }
                twoPhase = new TwoPhase(coordinator, participants, commit);
            }
            int count = length(b.getInt());
            List<Transaction> transactions = new ArrayList<>(Math.min(count, 65_536));
            for (int i = 0; i < count; i++) {
                int order = b.getShort() & 0xFFFF;
                int idLength = b.get() & 0xFF;
                byte[] id = null;
                if (idLength > 0) {
                    id = new byte[idLength];
                    b.get(id);
                }
                int mutationCount = length(b.getInt());
                List<Mutation> mutations = new ArrayList<>(Math.min(mutationCount, 4096));
                for (int j = 0; j < mutationCount; j++) {
                    int type = b.get() & 0xFF;
                    byte[] key = new byte[length(b.getInt())];
                    b.get(key);
                    byte[] param = new byte[length(b.getInt())];
                    b.get(param);
                    mutations.add(new Mutation(type, key, param));
                }
                transactions.add(new Transaction(order, id, mutations));
            }
            if (b.hasRemaining()) {
                throw corrupt(b.remaining() + " trailing bytes");
            }
            return new CommittedBatch(kind, version, timeMs, transactions, twoPhase);
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw corrupt("truncated");
        }
    }

    private static int length(int n) {
        if (n < 0 || n > LENGTH_MAX) {
            throw corrupt("length " + n + " out of range");
        }
        return n;
    }

    private static TxkvException corrupt(String why) {
        return new TxkvException(ErrorCode.DATA_DIRECTORY_INVALID, "Corrupt commit batch record: " + why);
    }
}
