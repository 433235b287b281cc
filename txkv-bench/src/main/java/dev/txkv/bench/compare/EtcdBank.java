package dev.txkv.bench.compare;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bank on etcd: read both balances (linearizable), then one txn that puts both only if
 * neither key's mod_revision changed; a failed compare is an abort and the transfer retries.
 */
public final class EtcdBank implements BankStore {
    /** Compare-and-swap attempts per transfer before it fails. */
    static final int ATTEMPTS_MAX = 10_000;

    private final EtcdHttp etcd;
    private final AtomicInteger nextEndpoint = new AtomicInteger();
    private final ThreadLocal<Integer> endpoint = ThreadLocal.withInitial(nextEndpoint::getAndIncrement);

    public EtcdBank(String endpoints) {
        this.etcd = new EtcdHttp(endpoints);
    }

    @Override
    public String name() {
        return "etcd";
    }

    @Override
    public void reset(int accounts, long balance) throws IOException {
        etcd.deleteRange(0, BankWorkload.accountsBegin(), BankWorkload.accountsEnd());
        for (int first = 0; first < accounts; first += 100) {
            int count = Math.min(100, accounts - first);
            byte[][] keys = new byte[count][];
            byte[][] values = new byte[count][];
            for (int i = 0; i < count; i++) {
                keys[i] = BankWorkload.accountKey(first + i);
                values[i] = BankWorkload.amount(balance);
            }
            etcd.putIfUnchanged(0, keys, null, values);
        }
    }

    @Override
    public int transfer(int from, int to, long amount) throws IOException {
        int member = endpoint.get();
        byte[][] keys = {BankWorkload.accountKey(from), BankWorkload.accountKey(to)};
        for (int attempt = 1; attempt <= ATTEMPTS_MAX; attempt++) {
            EtcdHttp.Versioned source = etcd.get(member, keys[0]);
            EtcdHttp.Versioned target = etcd.get(member, keys[1]);
            long sourceBalance = BankWorkload.amountOf(source.value());
            if (sourceBalance < amount) {
                return attempt;
            }
            byte[][] values = {BankWorkload.amount(sourceBalance - amount),
                BankWorkload.amount(BankWorkload.amountOf(target.value()) + amount)};
            if (etcd.putIfUnchanged(member, keys, new long[] {source.modRevision(), target.modRevision()}, values)) {
                return attempt;
            }
        }
        throw new IOException("transfer " + from + " -> " + to + " still conflicting after " + ATTEMPTS_MAX + " attempts");
    }

    @Override
    public long total(int accounts) throws IOException {
        long sum = 0;
        for (EtcdHttp.Entry entry : etcd.range(0, BankWorkload.accountsBegin(), BankWorkload.accountsEnd(), 0)) {
            sum += BankWorkload.amountOf(entry.value());
        }
        return sum;
    }

    @Override
    public void close() {
    }
}
