package dev.txkv.bench.compare;

import static dev.txkv.bench.compare.BankWorkload.accountKey;
import static dev.txkv.bench.compare.BankWorkload.amount;
import static dev.txkv.bench.compare.BankWorkload.amountOf;

import dev.txkv.Database;
import java.util.concurrent.atomic.AtomicInteger;

/** The bank on txkv: a transfer is one {@code db.run} with two gets and two sets. */
public final class TxkvBank implements BankStore {
    private static final byte[] PREFIX = BankWorkload.accountsBegin();
    private static final byte[] PREFIX_END = BankWorkload.accountsEnd();

    private final String name;
    private final Database db;
    private final boolean closeDatabase;

    /** Over {@code db}, reported as "txkv"; {@link #close()} closes it only if {@code closeDatabase}. */
    public TxkvBank(Database db, boolean closeDatabase) {
        this("txkv", db, closeDatabase);
    }

    /** Over {@code db}, reported as {@code name}; {@link #close()} closes it only if {@code closeDatabase}. */
    public TxkvBank(String name, Database db, boolean closeDatabase) {
        this.name = name;
        this.db = db;
        this.closeDatabase = closeDatabase;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void reset(int accounts, long balance) {
        db.run(tr -> {
            tr.clear(PREFIX, PREFIX_END);
            return null;
        });
        for (int from = 0; from < accounts; from += 500) {
            int first = from;
            db.run(tr -> {
                for (int id = first; id < Math.min(first + 500, accounts); id++) {
                    tr.set(accountKey(id), amount(balance));
                }
                return null;
            });
        }
    }

    @Override
    public int transfer(int from, int to, long amount) {
        AtomicInteger attempts = new AtomicInteger();
        db.run(tr -> {
            attempts.incrementAndGet();
            var fromBalance = tr.get(accountKey(from));
            var toBalance = tr.get(accountKey(to));
            long source = amountOf(fromBalance.join());
            long target = amountOf(toBalance.join());
            if (source >= amount) {
                tr.set(accountKey(from), amount(source - amount));
                tr.set(accountKey(to), amount(target + amount));
            }
            return null;
        });
        return attempts.get();
    }

    @Override
    public long total(int accounts) {
        return db.read(tr -> {
            long sum = 0;
            for (var row : tr.getRange(PREFIX, PREFIX_END).asList().join()) {
                sum += amountOf(row.getValue());
            }
            return sum;
        });
    }

    @Override
    public void close() {
        if (closeDatabase) {
            db.close();
        }
    }
}
