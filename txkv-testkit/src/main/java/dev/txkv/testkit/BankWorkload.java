package dev.txkv.testkit;

import dev.txkv.Database;
import dev.txkv.KeyValue;
import dev.txkv.Range;
import dev.txkv.Transaction;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * The bank workload: accounts holding balances, transfers that read two balances and write
 * both (the amount moves, the total stays), and transactions that read every account with one
 * range read. {@link BankChecker} then verifies the invariants.
 *
 * <p>Data layout: account {@code i} is the key {@code keyPrefix} followed by {@code i} as six
 * ASCII decimal digits (so key order is account order); its value is the balance as an 8-byte
 * big-endian signed long. With {@link WorkloadOptions#spreadFirstByte(boolean)}, account
 * {@code i}'s key starts with the byte {@link FirstByteSpread#firstByte(long)
 * FirstByteSpread.firstByte(i)} ahead of the prefix, and a read of all accounts is one range
 * read per first byte the accounts use, all in the one transaction.
 *
 * <p>Recorded micro-operations are register reads ({@code g}) and writes ({@code w}) keyed by
 * account number. A read of all accounts records one read per account (absent: nil) plus one
 * per unexpected key in the range (key -1 when its name is not an account number).
 */
public final class BankWorkload {
    /** Metadata keys under which a run describes itself for {@link BankChecker#check(History)}. */
    public static final String META_ACCOUNTS = "bank.accounts";
    /** See {@link #META_ACCOUNTS}. */
    public static final String META_INITIAL_BALANCE = "bank.initialBalance";
    /** See {@link #META_ACCOUNTS}. */
    public static final String META_NEGATIVE_ALLOWED = "bank.negativeAllowed";
    /** See {@link #META_ACCOUNTS}: the id of the read of all accounts taken after the workers stopped. */
    public static final String META_FINAL_OP = "bank.finalOp";

    /** Parameters of a run. Every count and duration is bounded and checked. */
    public static final class Options extends WorkloadOptions<Options> {
        @Override
        protected Options self() {
            return this;
        }

        private int accounts = 8;
        private long initialBalance = 100;
        private long transferMax = 20;
        private double readAllFraction = 0.25;
        private boolean negativeAllowed;
        private byte[] keyPrefix = "testkit/bank/".getBytes(StandardCharsets.US_ASCII);






        /** Number of accounts, 2 to 100,000 (default 8). */
        public Options accounts(int accounts) {
            if (accounts < 2 || accounts > 100_000) {
                throw new IllegalArgumentException("accounts must be in [2, 100000], got " + accounts);
            }
            this.accounts = accounts;
            return this;
        }

        /** Starting balance of every account (default 100). */
        public Options initialBalance(long initialBalance) {
            if (initialBalance < 0) {
                throw new IllegalArgumentException("initialBalance must not be negative");
            }
            this.initialBalance = initialBalance;
            return this;
        }

        /** Largest amount of one transfer (default 20). */
        public Options transferMax(long transferMax) {
            WorkloadSupport.requirePositive(transferMax, "transferMax");
            this.transferMax = transferMax;
            return this;
        }

        /** Probability that an attempt reads all accounts instead of transferring (default 0.25). */
        public Options readAllFraction(double readAllFraction) {
            if (!(readAllFraction >= 0 && readAllFraction <= 1)) {
                throw new IllegalArgumentException("readAllFraction must be in [0, 1], got " + readAllFraction);
            }
            this.readAllFraction = readAllFraction;
            return this;
        }

        /** Whether transfers may overdraw (default false: a transfer that would only reads). */
        public Options negativeAllowed(boolean negativeAllowed) {
            this.negativeAllowed = negativeAllowed;
            return this;
        }

        /** Prefix of the account keys (default {@code testkit/bank/}); cleared before the run. */
        public Options keyPrefix(byte[] keyPrefix) {
            if (keyPrefix.length == 0) {
                throw new IllegalArgumentException("keyPrefix must not be empty");
            }
            this.keyPrefix = keyPrefix.clone();
            return this;
        }
    }

    private final Database db;
    private final Options options;
    private final HistoryRecorder recorder;
    private final List<Range> accountRanges;

    private BankWorkload(Database db, Options options, HistoryRecorder recorder) {
        this.db = Objects.requireNonNull(db, "db");
        this.options = Objects.requireNonNull(options, "options");
        this.recorder = Objects.requireNonNull(recorder, "recorder");
        this.accountRanges = FirstByteSpread.rangesOfFirst(options.spreadFirstByte, options.keyPrefix,
                options.accounts);
    }

    /** Runs the workload with default options otherwise and returns its history. */
    public static History run(Database db, int threads, int txnsPerThread, long seed, Duration maxTime) {
        return run(db, new Options().threads(threads).txnsPerThread(txnsPerThread).seed(seed).maxTime(maxTime));
    }

    /** Runs the workload in memory and returns its history. */
    public static History run(Database db, Options options) {
        try (HistoryRecorder recorder = new HistoryRecorder()) {
            return run(db, options, recorder);
        }
    }

    /** Runs the workload recording into {@code recorder}; does not close it. */
    public static History run(Database db, Options options, HistoryRecorder recorder) {
        return new BankWorkload(db, options, recorder).execute();
    }

    private History execute() {
        recorder.putMetadata("workload", "bank");
        recorder.putMetadata("seed", String.valueOf(options.seed));
        recorder.putMetadata(META_ACCOUNTS, String.valueOf(options.accounts));
        recorder.putMetadata(META_INITIAL_BALANCE, String.valueOf(options.initialBalance));
        recorder.putMetadata(META_NEGATIVE_ALLOWED, String.valueOf(options.negativeAllowed));
        if (options.spreadFirstByte) {
            recorder.putMetadata("spreadFirstByte", "true");
        }
        WorkloadSupport.runUnrecorded(db, options.opTimeout, tr -> {
            for (Range r : FirstByteSpread.allRanges(options.spreadFirstByte, options.keyPrefix)) {
                tr.clear(r);
            }
            for (int i = 0; i < options.accounts; i++) {
                tr.set(accountKey(i), encodeBalance(options.initialBalance));
            }
        });
        long deadline = System.nanoTime() + options.maxTime.toNanos();
        SplittableRandom root = new SplittableRandom(options.seed);
        SplittableRandom[] randoms = new SplittableRandom[options.threads];
        for (int p = 0; p < randoms.length; p++) {
            randoms[p] = root.split();
        }
        WorkloadSupport.runThreads(options.threads, deadline, options.opTimeout.toNanos() * 5, "bank",
                p -> WorkloadSupport.work(db, recorder, p, options.txnsPerThread, deadline, options.opTimeout,
                        () -> plan(randoms[p])));
        finalRead();
        return recorder.history();
    }

    private WorkloadSupport.Attempt plan(SplittableRandom random) {
        if (random.nextDouble() < options.readAllFraction) {
            return readAll();
        }
        int from = random.nextInt(options.accounts);
        int to = (from + 1 + random.nextInt(options.accounts - 1)) % options.accounts;
        return transfer(from, to, 1 + random.nextLong(options.transferMax));
    }

    private WorkloadSupport.Attempt transfer(int from, int to, long amount) {
        List<MicroOp> planned = List.of(MicroOp.readRegisterUnknown(from), MicroOp.readRegisterUnknown(to));
        return new WorkloadSupport.Attempt() {
            @Override
            public List<MicroOp> planned() {
                return planned;
            }

            @Override
            public void perform(Transaction tr, List<MicroOp> steps, Duration opTimeout) throws Exception {
                Long fromBalance = decodeBalance(WorkloadSupport.await(tr.get(accountKey(from)), opTimeout));
                steps.set(0, MicroOp.readRegister(from, fromBalance));
                Long toBalance = decodeBalance(WorkloadSupport.await(tr.get(accountKey(to)), opTimeout));
                steps.set(1, MicroOp.readRegister(to, toBalance));
                if (fromBalance == null || toBalance == null || (!options.negativeAllowed && fromBalance < amount)) {
                    return;
                }
                tr.set(accountKey(from), encodeBalance(fromBalance - amount));
                steps.add(MicroOp.write(from, fromBalance - amount));
                tr.set(accountKey(to), encodeBalance(toBalance + amount));
                steps.add(MicroOp.write(to, toBalance + amount));
            }
        };
    }

    /** One read of all accounts: the one range of the prefix, or one range per first byte in use. */
    private WorkloadSupport.Attempt readAll() {
        List<MicroOp> planned = new ArrayList<>(options.accounts);
        for (int i = 0; i < options.accounts; i++) {
            planned.add(MicroOp.readRegisterUnknown(i));
        }
        return new WorkloadSupport.Attempt() {
            @Override
            public List<MicroOp> planned() {
                return planned;
            }

            @Override
            public void perform(Transaction tr, List<MicroOp> steps, Duration opTimeout) throws Exception {
                List<CompletableFuture<List<KeyValue>>> reads = new ArrayList<>(accountRanges.size());
                for (Range r : accountRanges) {
                    reads.add(tr.getRange(r).asList());
                }
                List<KeyValue> rows = new ArrayList<>();
                for (CompletableFuture<List<KeyValue>> read : reads) {
                    rows.addAll(WorkloadSupport.await(read, opTimeout));
                }
                for (int i = 0; i < options.accounts; i++) {
                    steps.set(i, MicroOp.readRegister(i, null));
                }
                for (KeyValue kv : rows) {
                    long account = accountOf(kv.getKey());
                    MicroOp read = MicroOp.readRegister(account, decodeBalance(kv.getValue()));
                    if (account >= 0 && account < options.accounts) {
                        steps.set((int) account, read);
                    } else {
                        steps.add(read);
                    }
                }
            }
        };
    }

    private void finalRead() {
        Transaction tr = db.createTransaction();
        try {
            for (int attempt = 0; attempt < WorkloadSupport.SUPPORT_ATTEMPTS_MAX; attempt++) {
                WorkloadSupport.Outcome outcome =
                        WorkloadSupport.attempt(db, tr, recorder, options.threads, options.opTimeout, readAll());
                tr = outcome.transaction();
                if (outcome.operation().type() == OpType.OK) {
                    recorder.putMetadata(META_FINAL_OP, String.valueOf(outcome.operation().id()));
                    return;
                }
                if (Thread.currentThread().isInterrupted()) {
                    return;
                }
            }
        } finally {
            tr.close();
        }
    }

    private byte[] accountKey(int account) {
        return FirstByteSpread.key(options.spreadFirstByte, account, options.keyPrefix,
                String.format("%06d", account).getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * The account number of {@code key}; -1 when the key is not an account's: not under the
     * prefix, not a number, or (spread) a first byte that is not the account's.
     */
    private long accountOf(byte[] key) {
        int offset = FirstByteSpread.restOffset(options.spreadFirstByte, options.keyPrefix, key);
        if (offset < 0) {
            return -1;
        }
        String suffix = new String(key, offset, key.length - offset, StandardCharsets.US_ASCII);
        long account;
        try {
            account = Long.parseLong(suffix);
        } catch (NumberFormatException e) {
            return -1;
        }
        if (options.spreadFirstByte && (key[0] & 0xFF) != FirstByteSpread.firstByte(account)) {
            return -1;
        }
        return account;
    }

    /** A balance as stored: 8 bytes, big-endian, signed. */
    public static byte[] encodeBalance(long balance) {
        return ByteBuffer.allocate(Long.BYTES).putLong(balance).array();
    }

    /**
     * The balance stored in {@code value}; null for an absent key. A value of the wrong length
     * decodes as {@link Long#MIN_VALUE}, which no transfer writes, so checks flag it.
     */
    public static Long decodeBalance(byte[] value) {
        if (value == null) {
            return null;
        }
        return value.length == Long.BYTES ? ByteBuffer.wrap(value).getLong() : Long.MIN_VALUE;
    }
}
