package dev.txkv.testkit;

import dev.txkv.ByteArrays;
import dev.txkv.Database;
import dev.txkv.MutationType;
import dev.txkv.Range;
import dev.txkv.Transaction;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The list-append workload of Elle: transactions of a few random appends of unique values to
 * keys and reads of whole lists, run concurrently and recorded attempt by attempt.
 *
 * <p>Data layout: list {@code k} is one database key, {@code keyPrefix} followed by the decimal
 * digits of {@code k} in ASCII; its value is the elements in append order, each an 8-byte
 * big-endian long:
 * <pre>
 *   key:   keyPrefix | "17"
 *   value: [element 0: 8 bytes BE][element 1: 8 bytes BE]...
 * </pre>
 * A value whose length is not a multiple of 8 decodes with a trailing element -1, which no
 * transaction appends, so the checker reports the corruption as a garbage read. With
 * {@link WorkloadOptions#spreadFirstByte(boolean)}, list {@code k}'s key starts with the byte
 * {@link FirstByteSpread#firstByte(long) FirstByteSpread.firstByte(k)} ahead of the prefix.
 *
 * <p>An append is either a read-modify-write ({@code get} then {@code set}, the default, which
 * exercises read conflicts) or an atomic {@link MutationType#APPEND_IF_FITS} (blind, no read
 * conflict). Keys retire after {@link Options#appendsPerKeyMax} appends so lists stay short and
 * the values far below the value size limit.
 *
 * <p>Each attempt is its own operation with fresh values: a retry after
 * {@code commit_unknown_result} never re-appends a value whose fate is unknown.
 */
public final class ListAppendWorkload {
    /** What an append does in the database. */
    public enum AppendMode {
        /** Read the value, then set it to the value plus the element: conflicts with concurrent writers. */
        READ_MODIFY_WRITE,
        /** {@link MutationType#APPEND_IF_FITS}: a blind atomic append, no read conflict. */
        ATOMIC_APPEND
    }

    /** Parameters of a run. Every count and duration is bounded and checked. */
    public static final class Options extends WorkloadOptions<Options> {
        @Override
        protected Options self() {
            return this;
        }

        private int activeKeys = 6;
        private int appendsPerKeyMax = 32;
        private int opsPerTxnMax = 4;
        private double readFraction = 0.5;
        private AppendMode appendMode = AppendMode.READ_MODIFY_WRITE;
        private byte[] keyPrefix = "testkit/list-append/".getBytes(StandardCharsets.US_ASCII);
        private boolean clearFirst = true;
        private boolean finalReads = true;






        /** Keys in use at once (default 6): fewer keys, more contention. */
        public Options activeKeys(int activeKeys) {
            WorkloadSupport.requirePositive(activeKeys, "activeKeys");
            this.activeKeys = activeKeys;
            return this;
        }

        /** Appends planned to one key before it retires (default 32). At most 10,000. */
        public Options appendsPerKeyMax(int appendsPerKeyMax) {
            WorkloadSupport.requirePositive(appendsPerKeyMax, "appendsPerKeyMax");
            if (appendsPerKeyMax > 10_000) {
                throw new IllegalArgumentException("appendsPerKeyMax must be at most 10000 to stay within value limits");
            }
            this.appendsPerKeyMax = appendsPerKeyMax;
            return this;
        }

        /** Most micro-operations per transaction (default 4; each has 1 to this many). */
        public Options opsPerTxnMax(int opsPerTxnMax) {
            WorkloadSupport.requirePositive(opsPerTxnMax, "opsPerTxnMax");
            this.opsPerTxnMax = opsPerTxnMax;
            return this;
        }

        /** Probability that a micro-operation is a read (default 0.5). */
        public Options readFraction(double readFraction) {
            if (!(readFraction >= 0 && readFraction <= 1)) {
                throw new IllegalArgumentException("readFraction must be in [0, 1], got " + readFraction);
            }
            this.readFraction = readFraction;
            return this;
        }

        /** How appends are written (default read-modify-write). */
        public Options appendMode(AppendMode appendMode) {
            this.appendMode = Objects.requireNonNull(appendMode, "appendMode");
            return this;
        }

        /** Prefix of the workload's keys (default {@code testkit/list-append/}). */
        public Options keyPrefix(byte[] keyPrefix) {
            if (keyPrefix.length == 0) {
                throw new IllegalArgumentException("keyPrefix must not be empty");
            }
            this.keyPrefix = keyPrefix.clone();
            return this;
        }

        /** Whether to clear the prefix (every first byte's, when spread) before the run (default true); lists must start empty. */
        public Options clearFirst(boolean clearFirst) {
            this.clearFirst = clearFirst;
            return this;
        }

        /** Whether to read every key used once the workers are done (default true), to catch lost writes. */
        public Options finalReads(boolean finalReads) {
            this.finalReads = finalReads;
            return this;
        }
    }

    private static final int FINAL_READ_KEYS_PER_TXN = 64;

    private final Database db;
    private final Options options;
    private final HistoryRecorder recorder;
    private final AtomicLong nextValue = new AtomicLong(1);
    private final long[] slots;
    private final int[] slotAppends;
    private long nextKey;

    private ListAppendWorkload(Database db, Options options, HistoryRecorder recorder) {
        this.db = Objects.requireNonNull(db, "db");
        this.options = Objects.requireNonNull(options, "options");
        this.recorder = Objects.requireNonNull(recorder, "recorder");
        this.slots = new long[options.activeKeys];
        this.slotAppends = new int[options.activeKeys];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = nextKey++;
        }
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

    /**
     * Runs the workload, recording into {@code recorder} (e.g. one streaming to a file, for runs
     * that may be killed), and returns the history. Does not close the recorder.
     */
    public static History run(Database db, Options options, HistoryRecorder recorder) {
        return new ListAppendWorkload(db, options, recorder).execute();
    }

    private History execute() {
        recorder.putMetadata("workload", "list-append");
        recorder.putMetadata("seed", String.valueOf(options.seed));
        recorder.putMetadata("threads", String.valueOf(options.threads));
        recorder.putMetadata("txnsPerThread", String.valueOf(options.txnsPerThread));
        recorder.putMetadata("appendMode", options.appendMode.name());
        if (options.spreadFirstByte) {
            recorder.putMetadata("spreadFirstByte", "true");
        }
        if (options.clearFirst) {
            WorkloadSupport.runUnrecorded(db, options.opTimeout, tr -> {
                for (Range r : FirstByteSpread.allRanges(options.spreadFirstByte, options.keyPrefix)) {
                    tr.clear(r);
                }
            });
        }
        long deadline = System.nanoTime() + options.maxTime.toNanos();
        SplittableRandom root = new SplittableRandom(options.seed);
        SplittableRandom[] randoms = new SplittableRandom[options.threads];
        for (int p = 0; p < randoms.length; p++) {
            randoms[p] = root.split();
        }
        WorkloadSupport.runThreads(options.threads, deadline, graceNanos(), "list-append",
                p -> WorkloadSupport.work(db, recorder, p, options.txnsPerThread, deadline, options.opTimeout,
                        () -> plan(randoms[p])));
        if (options.finalReads) {
            finalReads();
        }
        return recorder.history();
    }

    private long graceNanos() {
        // An attempt in flight at the deadline may still wait for each of its calls and onError.
        return options.opTimeout.toNanos() * (options.opsPerTxnMax + 2);
    }

    private WorkloadSupport.Attempt plan(SplittableRandom random) {
        int n = 1 + random.nextInt(options.opsPerTxnMax);
        List<MicroOp> planned = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            if (random.nextDouble() < options.readFraction) {
                planned.add(MicroOp.readListUnknown(pickKey(random, false)));
            } else {
                planned.add(MicroOp.append(pickKey(random, true), nextValue.getAndIncrement()));
            }
        }
        return attemptOf(planned);
    }

    private synchronized long pickKey(SplittableRandom random, boolean forAppend) {
        int slot = random.nextInt(slots.length);
        long key = slots[slot];
        if (forAppend && ++slotAppends[slot] >= options.appendsPerKeyMax) {
            slots[slot] = nextKey++;
            slotAppends[slot] = 0;
        }
        return key;
    }

    private synchronized long keysUsed() {
        return nextKey;
    }

    private WorkloadSupport.Attempt attemptOf(List<MicroOp> planned) {
        return new WorkloadSupport.Attempt() {
            @Override
            public List<MicroOp> planned() {
                return planned;
            }

            @Override
            public void perform(Transaction tr, List<MicroOp> steps, Duration opTimeout) throws Exception {
                for (int i = 0; i < steps.size(); i++) {
                    MicroOp step = steps.get(i);
                    byte[] key = key(options.keyPrefix, step.key(), options.spreadFirstByte);
                    if (step.kind() == MicroOp.Kind.READ_LIST) {
                        steps.set(i, step.withList(decodeList(WorkloadSupport.await(tr.get(key), opTimeout))));
                    } else if (options.appendMode == AppendMode.ATOMIC_APPEND) {
                        tr.mutate(MutationType.APPEND_IF_FITS, key, encodeElement(step.value()));
                    } else {
                        byte[] current = WorkloadSupport.await(tr.get(key), opTimeout);
                        byte[] base = current == null ? ByteArrays.EMPTY : current;
                        tr.set(key, ByteArrays.concat(base, encodeElement(step.value())));
                    }
                }
            }
        };
    }

    /** Reads every key used, a batch per transaction, so appends nobody read are checked too. */
    private void finalReads() {
        int process = options.threads;
        long keys = keysUsed();
        Transaction tr = db.createTransaction();
        try {
            for (long first = 0; first < keys; first += FINAL_READ_KEYS_PER_TXN) {
                List<MicroOp> planned = new ArrayList<>();
                for (long k = first; k < Math.min(keys, first + FINAL_READ_KEYS_PER_TXN); k++) {
                    planned.add(MicroOp.readListUnknown(k));
                }
                for (int attempt = 0; attempt < WorkloadSupport.SUPPORT_ATTEMPTS_MAX; attempt++) {
                    WorkloadSupport.Outcome outcome =
                            WorkloadSupport.attempt(db, tr, recorder, process, options.opTimeout, attemptOf(planned));
                    tr = outcome.transaction();
                    if (outcome.operation().type() == OpType.OK || Thread.currentThread().isInterrupted()) {
                        break;
                    }
                }
            }
        } finally {
            tr.close();
        }
    }

    /** The database key of list {@code key}. */
    public static byte[] key(byte[] prefix, long key) {
        return key(prefix, key, false);
    }

    /** The database key of list {@code key}, its first byte spread or not (see {@link FirstByteSpread}). */
    public static byte[] key(byte[] prefix, long key, boolean spreadFirstByte) {
        return FirstByteSpread.key(spreadFirstByte, key, prefix, Long.toString(key).getBytes(StandardCharsets.US_ASCII));
    }

    /** One element as stored: 8 bytes, big-endian. */
    public static byte[] encodeElement(long value) {
        return ByteBuffer.allocate(Long.BYTES).putLong(value).array();
    }

    /** The elements of a stored list; null (absent key) is the empty list. */
    public static List<Long> decodeList(byte[] value) {
        if (value == null) {
            return List.of();
        }
        ByteBuffer buffer = ByteBuffer.wrap(value);
        List<Long> list = new ArrayList<>(value.length / Long.BYTES + 1);
        while (buffer.remaining() >= Long.BYTES) {
            list.add(buffer.getLong());
        }
        if (buffer.hasRemaining()) {
            list.add(-1L);
        }
        return list;
    }
}
