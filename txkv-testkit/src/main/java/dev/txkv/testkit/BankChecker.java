package dev.txkv.testkit;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a bank history. Transfers conserve money, so under serializability:
 * <ul>
 *   <li>every committed read of all accounts sums to {@code accounts * initialBalance} and
 *       finds every account ({@link AnomalyType#BANK_WRONG_TOTAL}, {@link AnomalyType#BANK_MISSING_ACCOUNT});
 *   <li>no committed read or write shows a negative balance when overdrafts are forbidden
 *       ({@link AnomalyType#BANK_NEGATIVE_BALANCE});
 *   <li>the final read equals the initial balances plus the net amount of every committed
 *       transfer (the amount of a transfer is its written balance minus its read balance). An
 *       indeterminate transfer may or may not count, so each account must lie within the range
 *       its indeterminate transfers allow; accounts touched by an indeterminate transfer whose
 *       amounts are unknown (a crash before its reads returned) are not checked
 *       ({@link AnomalyType#BANK_FINAL_STATE}).
 * </ul>
 * A lost update (two transfers from one balance) breaks the total and the final state; read
 * skew shows as a wrong total. Not detected: anomalies that keep every sum right, which the
 * list-append workload is there to find.
 */
public final class BankChecker {
    private BankChecker() {
    }

    /** Checks a history whose metadata was written by {@link BankWorkload}. */
    public static CheckResult check(History history) {
        Map<String, String> meta = history.metadata();
        for (String key : List.of(BankWorkload.META_ACCOUNTS, BankWorkload.META_INITIAL_BALANCE,
                BankWorkload.META_NEGATIVE_ALLOWED)) {
            if (!meta.containsKey(key)) {
                throw new IllegalArgumentException("History lacks bank metadata " + key);
            }
        }
        return check(history, Integer.parseInt(meta.get(BankWorkload.META_ACCOUNTS)),
                Long.parseLong(meta.get(BankWorkload.META_INITIAL_BALANCE)),
                Boolean.parseBoolean(meta.get(BankWorkload.META_NEGATIVE_ALLOWED)));
    }

    /** Checks a history of {@code accounts} accounts (numbered from 0) that all started at {@code initialBalance}. */
    public static CheckResult check(History history, int accounts, long initialBalance, boolean negativeAllowed) {
        long total = Math.multiplyExact(accounts, initialBalance);
        List<Anomaly> anomalies = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        long readAlls = 0;
        long transfers = 0;
        for (Operation op : history.operations()) {
            if (op.type() != OpType.OK) {
                continue;
            }
            checkSigns(op, negativeAllowed, anomalies);
            if (isReadAll(op, accounts)) {
                readAlls++;
                checkReadAll(op, accounts, total, anomalies);
            } else {
                for (MicroOp m : op.ops()) {
                    if (m.kind() == MicroOp.Kind.READ && m.known() && m.registerValue() == null) {
                        anomalies.add(new Anomaly(AnomalyType.BANK_MISSING_ACCOUNT,
                                op.name() + " found account " + m.key() + " missing: " + op, List.of(op.id())));
                    }
                }
                if (op.ops().stream().anyMatch(MicroOp::isWrite)) {
                    transfers++;
                }
            }
        }
        Operation last = finalRead(history, accounts, warnings);
        if (last != null) {
            checkFinalState(history, last, accounts, initialBalance, anomalies, warnings);
        }
        Map<String, Long> counts = new LinkedHashMap<>();
        counts.put("ok", history.count(OpType.OK));
        counts.put("fail", history.count(OpType.FAIL));
        counts.put("info", history.count(OpType.INFO));
        counts.put("read-alls", readAlls);
        counts.put("transfers", transfers);
        return new CheckResult(anomalies, warnings, counts);
    }

    /** True when {@code op} plans or holds a read of every account: a read of all, which never writes. */
    private static boolean readsEveryAccount(Operation op, int accounts) {
        Set<Long> seen = new HashSet<>();
        op.ops().stream().filter(MicroOp::isRead).forEach(m -> seen.add(m.key()));
        return op.ops().stream().noneMatch(MicroOp::isWrite) && seen.size() >= accounts
                && java.util.stream.LongStream.range(0, accounts).allMatch(seen::contains);
    }

    private static boolean isReadAll(Operation op, int accounts) {
        Set<Long> seen = new HashSet<>();
        for (MicroOp m : op.ops()) {
            if (m.isWrite()) {
                return false;
            }
            if (m.kind() == MicroOp.Kind.READ && m.known()) {
                seen.add(m.key());
            }
        }
        for (long a = 0; a < accounts; a++) {
            if (!seen.contains(a)) {
                return false;
            }
        }
        return true;
    }

    private static void checkReadAll(Operation op, int accounts, long total, List<Anomaly> anomalies) {
        long sum = 0;
        List<Long> missing = new ArrayList<>();
        List<Long> unexpected = new ArrayList<>();
        for (MicroOp m : op.ops()) {
            if (m.kind() != MicroOp.Kind.READ || !m.known()) {
                continue;
            }
            Long v = m.registerValue();
            if (v == null) {
                missing.add(m.key());
                continue;
            }
            if (m.key() < 0 || m.key() >= accounts) {
                unexpected.add(m.key());
            }
            sum += v;
        }
        if (!missing.isEmpty()) {
            anomalies.add(new Anomaly(AnomalyType.BANK_MISSING_ACCOUNT,
                    op.name() + " read all accounts but found " + missing + " missing: " + op, List.of(op.id())));
        }
        if (sum != total || !unexpected.isEmpty()) {
            anomalies.add(new Anomaly(AnomalyType.BANK_WRONG_TOTAL, op.name() + " read a total of " + sum
                    + " instead of " + total + (unexpected.isEmpty() ? "" : ", with unexpected keys " + unexpected)
                    + ": " + op, List.of(op.id())));
        }
    }

    private static void checkSigns(Operation op, boolean negativeAllowed, List<Anomaly> anomalies) {
        if (negativeAllowed) {
            return;
        }
        for (MicroOp m : op.ops()) {
            Long v = m.isWrite() ? Long.valueOf(m.value()) : m.known() ? m.registerValue() : null;
            if (v != null && v < 0) {
                anomalies.add(new Anomaly(AnomalyType.BANK_NEGATIVE_BALANCE, op.name() + " "
                        + (m.isWrite() ? "wrote" : "read") + " balance " + v + " of account " + m.key() + ": " + op,
                        List.of(op.id())));
                return;
            }
        }
    }

    /** The final read: the one named in the metadata, else an OK read of all begun after everything else ended. */
    private static Operation finalRead(History history, int accounts, List<String> warnings) {
        String named = history.metadata().get(BankWorkload.META_FINAL_OP);
        Operation candidate = null;
        for (Operation op : history.operations()) {
            if (named != null ? String.valueOf(op.id()).equals(named)
                    : op.type() == OpType.OK && isReadAll(op, accounts)
                    && (candidate == null || op.invokeNanos() > candidate.invokeNanos())) {
                candidate = op;
            }
        }
        if (candidate != null && named == null) {
            for (Operation op : history.operations()) {
                if (op != candidate && (op.completeNanos() == Operation.NEVER || op.completeNanos() >= candidate.invokeNanos())) {
                    candidate = null;
                    break;
                }
            }
        }
        if (candidate == null || candidate.type() != OpType.OK || !isReadAll(candidate, accounts)) {
            warnings.add("no final read of all accounts: final balances not checked");
            return null;
        }
        return candidate;
    }

    private static void checkFinalState(History history, Operation finalRead, int accounts, long initialBalance,
                                        List<Anomaly> anomalies, List<String> warnings) {
        Map<Long, Long> expected = new HashMap<>();
        Map<Long, Long> slackDown = new HashMap<>();
        Map<Long, Long> slackUp = new HashMap<>();
        Set<Long> unknown = new HashSet<>();
        for (Operation op : history.operations()) {
            if (op == finalRead || op.type() == OpType.FAIL) {
                continue;
            }
            Map<Long, Long> reads = new HashMap<>();
            boolean readsKnown = true;
            for (MicroOp m : op.ops()) {
                if (m.kind() == MicroOp.Kind.READ) {
                    if (m.known() && m.registerValue() != null) {
                        reads.putIfAbsent(m.key(), m.registerValue());
                    } else {
                        readsKnown = false;
                    }
                }
            }
            boolean writes = op.ops().stream().anyMatch(MicroOp::isWrite);
            if (op.type() == OpType.INFO && !readsKnown && !readsEveryAccount(op, accounts)) {
                // Maybe a transfer that never told us its amount: its accounts are unknowable.
                op.ops().forEach(m -> unknown.add(m.key()));
                continue;
            }
            for (MicroOp m : op.ops()) {
                if (!m.isWrite()) {
                    continue;
                }
                Long before = reads.get(m.key());
                if (before == null) {
                    unknown.add(m.key());
                    continue;
                }
                long delta = m.value() - before;
                if (op.type() == OpType.OK) {
                    expected.merge(m.key(), delta, Long::sum);
                } else if (writes) {
                    (delta < 0 ? slackDown : slackUp).merge(m.key(), delta, Long::sum);
                }
            }
        }
        if (!unknown.isEmpty()) {
            warnings.add("final balances of accounts " + unknown + " not checked: indeterminate transfers of unknown amount");
        }
        for (MicroOp m : finalRead.ops()) {
            if (m.kind() != MicroOp.Kind.READ || !m.known() || m.key() < 0 || m.key() >= accounts
                    || unknown.contains(m.key()) || m.registerValue() == null) {
                continue;
            }
            long base = initialBalance + expected.getOrDefault(m.key(), 0L);
            long low = base + slackDown.getOrDefault(m.key(), 0L);
            long high = base + slackUp.getOrDefault(m.key(), 0L);
            long actual = m.registerValue();
            if (actual < low || actual > high) {
                anomalies.add(new Anomaly(AnomalyType.BANK_FINAL_STATE, "account " + m.key() + " ends at " + actual
                        + " but its committed transfers give " + base
                        + (low == high ? "" : " (indeterminate ones allow " + low + ".." + high + ")")
                        + " in final read " + finalRead.name(), List.of(finalRead.id())));
            }
        }
    }
}
