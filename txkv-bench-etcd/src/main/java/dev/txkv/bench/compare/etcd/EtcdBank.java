package dev.txkv.bench.compare.etcd;

import static dev.txkv.bench.compare.BankWorkload.accountKey;
import static dev.txkv.bench.compare.BankWorkload.amount;
import static dev.txkv.bench.compare.BankWorkload.amountOf;

import dev.txkv.bench.compare.BankStore;
import dev.txkv.bench.compare.BankWorkload;
import java.io.IOException;

/**
 * The bank on etcd: read both balances (two linearizable gets in flight at once, as txkv's
 * transfer reads both at once), then one txn that puts both only if neither key's mod_revision
 * changed; a failed compare is an abort and the transfer retries.
 */
final class EtcdBank implements BankStore {
    /** Compare-and-swap attempts per transfer before it fails. */
    static final int ATTEMPTS_MAX = 10_000;
    /** Puts per txn when the accounts are created (etcd's default limit is 128 operations). */
    static final int RESET_BATCH = 100;

    private final EtcdKv etcd;

    EtcdBank(EtcdKv etcd) {
        this.etcd = etcd;
    }

    @Override
    public String name() {
        return "etcd";
    }

    @Override
    public void reset(int accounts, long balance) throws IOException {
        etcd.deleteRange(BankWorkload.accountsBegin(), BankWorkload.accountsEnd());
        for (int first = 0; first < accounts; first += RESET_BATCH) {
            int count = Math.min(RESET_BATCH, accounts - first);
            byte[][] keys = new byte[count][];
            byte[][] values = new byte[count][];
            for (int i = 0; i < count; i++) {
                keys[i] = accountKey(first + i);
                values[i] = amount(balance);
            }
            etcd.putIfUnchanged(keys, null, values);
        }
    }

    @Override
    public int transfer(int from, int to, long amount) throws IOException {
        byte[][] keys = {accountKey(from), accountKey(to)};
        for (int attempt = 1; attempt <= ATTEMPTS_MAX; attempt++) {
            EtcdKv.Versioned[] read = etcd.get(keys[0], keys[1]);
            EtcdKv.Versioned source = read[0];
            EtcdKv.Versioned target = read[1];
            long sourceBalance = amountOf(source.value());
            if (sourceBalance < amount) {
                return attempt;
            }
            byte[][] values = {amount(sourceBalance - amount), amount(amountOf(target.value()) + amount)};
            if (etcd.putIfUnchanged(keys, new long[] {source.modRevision(), target.modRevision()}, values)) {
                return attempt;
            }
        }
        throw new IOException("transfer " + from + " -> " + to + " still conflicting after " + ATTEMPTS_MAX + " attempts");
    }

    /** One linearizable range read: a consistent snapshot of every balance. */
    @Override
    public long total(int accounts) throws IOException {
        long sum = 0;
        for (byte[] value : etcd.range(BankWorkload.accountsBegin(), BankWorkload.accountsEnd(), 0)) {
            sum += amountOf(value);
        }
        return sum;
    }

    /** The client belongs to the driver, which closes it. */
    @Override
    public void close() {
    }
}
