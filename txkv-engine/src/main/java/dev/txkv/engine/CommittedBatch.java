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
 * A resolved commit batch: what the commit log carries and every replica applies. It is a
 * redo record: only transactions that passed the resolver are in it, with their batch order,
 * so applying it needs no resolver.
 *
 * <pre>
 * encoded (big-endian):
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
 * </pre>
 */
public record CommittedBatch(long version, long commitTimeMs, List<CommittedBatch.Transaction> transactions) {
    static final byte MAGIC = 0x54;
    static final byte FORMAT = 1;
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

    /** One committed transaction of the batch. */
    public record Transaction(int order, byte[] idempotencyId, List<Mutation> mutations) {
        CommitResult result(long version) {
            return new CommitResult(version, order);
        }
    }

    /** The batch as a log record: envelope, CRC32C and body (see above). */
    public byte[] encode() {
        int size = 22 + 4;
        for (Transaction t : transactions) {
            size += 2 + 1 + (t.idempotencyId() == null ? 0 : t.idempotencyId().length) + 4;
            for (Mutation m : t.mutations()) {
                size += 1 + 4 + m.key().length + 4 + (m.param() == null ? 0 : m.param().length);
            }
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        b.put(MAGIC).put(FORMAT).putLong(version).putLong(commitTimeMs).putInt(transactions.size());
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
        if (b.get(0) != MAGIC || b.get(1) != FORMAT) {
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
        b.limit(b.limit() - 4).position(18);
        try {
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
            long version = b.getLong();
            long timeMs = b.getLong();
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
            return new CommittedBatch(version, timeMs, transactions);
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
