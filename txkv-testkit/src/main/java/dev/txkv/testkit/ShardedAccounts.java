package dev.txkv.testkit;

import dev.txkv.ByteArrays;
import dev.txkv.Database;
import dev.txkv.KeyValue;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Bank accounts for tests of sharded clusters: account {@code i} of {@code n} starts with the
 * byte {@code i * 256 / n}, so that the accounts spread evenly over shards that split the first
 * key byte; balances are big-endian 64-bit integers.
 */
public final class ShardedAccounts {
    private ShardedAccounts() {
    }

    /** The key of account {@code i} of {@code accounts}. */
    public static byte[] key(int i, int accounts) {
        return ByteArrays.concat(new byte[] {(byte) (i * 256 / accounts)}, ("acct/" + i).getBytes(StandardCharsets.UTF_8));
    }

    /** The balance a value holds; 0 for an absent one. */
    public static long balance(byte[] value) {
        return value == null ? 0 : ByteBuffer.wrap(value).getLong();
    }

    /** {@code amount} as a value. */
    public static byte[] amount(long amount) {
        return ByteBuffer.allocate(8).putLong(amount).array();
    }

    /** The sum of every balance, read in one transaction over the whole keyspace (every shard). */
    public static long total(Database db) {
        return db.read(tr -> {
            long sum = 0;
            for (KeyValue kv : tr.getRange(new byte[0], new byte[] {(byte) 0xff}).asList().join()) {
                sum += balance(kv.getValue());
            }
            return sum;
        });
    }
}
