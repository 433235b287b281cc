package dev.txkv.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Three accounts starting at 10 each: the total is 30. */
class BankCheckerTest {
    private final List<Operation> ops = new ArrayList<>();

    private BankCheckerTest op(OpType type, long invoke, long complete, MicroOp... steps) {
        ops.add(new Operation(ops.size(), 0, type, invoke, complete, List.of(steps), null));
        return this;
    }

    private static MicroOp g(long account, Long balance) {
        return MicroOp.readRegister(account, balance);
    }

    private static MicroOp w(long account, long balance) {
        return MicroOp.write(account, balance);
    }

    private BankCheckerTest transfer(OpType type, long t, long from, long fromBalance, long to, long toBalance, long amount) {
        return op(type, t, t + 1, g(from, fromBalance), g(to, toBalance), w(from, fromBalance - amount),
                w(to, toBalance + amount));
    }

    private BankCheckerTest readAll(long t, long a, long b, long c) {
        return op(OpType.OK, t, t + 1, g(0, a), g(1, b), g(2, c));
    }

    private CheckResult check() {
        History history = new History(ops, Map.of(BankWorkload.META_ACCOUNTS, "3",
                BankWorkload.META_INITIAL_BALANCE, "10", BankWorkload.META_NEGATIVE_ALLOWED, "false"));
        CheckResult result = BankChecker.check(history);
        System.out.println(result.report(5));
        return result;
    }

    @Test
    void conservedTransfersAreValid() {
        transfer(OpType.OK, 0, 0, 10, 1, 10, 5).readAll(2, 5, 15, 10)
                .transfer(OpType.FAIL, 4, 1, 15, 2, 10, 7)
                .transfer(OpType.OK, 6, 1, 15, 2, 10, 3).readAll(8, 5, 12, 13);
        assertThat(check().valid()).isTrue();
    }

    @Test
    void readSkewShowsAsAWrongTotal() {
        transfer(OpType.OK, 0, 0, 10, 1, 10, 5).readAll(2, 5, 10, 10);
        assertThat(check().anomalyTypes()).contains(AnomalyType.BANK_WRONG_TOTAL);
    }

    @Test
    void overdraftIsANegativeBalance() {
        transfer(OpType.OK, 0, 0, 10, 1, 10, 15).readAll(2, -5, 25, 10);
        assertThat(check().anomalyTypes()).contains(AnomalyType.BANK_NEGATIVE_BALANCE);
    }

    @Test
    void lostUpdateBreaksTheFinalState() {
        // Both transfers read account 0 at 10; the second overwrote the first's debit.
        transfer(OpType.OK, 0, 0, 10, 1, 10, 2).transfer(OpType.OK, 0, 0, 10, 2, 10, 3).readAll(5, 7, 12, 13);
        CheckResult result = check();
        assertThat(result.anomalyTypes()).contains(AnomalyType.BANK_FINAL_STATE, AnomalyType.BANK_WRONG_TOTAL);
    }

    @Test
    void finalStateFindsALostTransferThatKeepsTheTotal() {
        transfer(OpType.OK, 0, 0, 10, 1, 10, 4).readAll(5, 10, 10, 10);
        assertThat(check().anomalyTypes()).containsExactly(AnomalyType.BANK_FINAL_STATE);
    }

    @Test
    void indeterminateTransferMayOrMayNotCount() {
        transfer(OpType.INFO, 0, 0, 10, 1, 10, 4).readAll(5, 6, 14, 10);
        assertThat(check().valid()).isTrue();
        ops.clear();
        transfer(OpType.INFO, 0, 0, 10, 1, 10, 4).readAll(5, 10, 10, 10);
        assertThat(check().valid()).isTrue();
    }

    @Test
    void missingAccountIsReported() {
        op(OpType.OK, 0, 1, g(0, 10L), g(1, null), g(2, 10L));
        assertThat(check().anomalyTypes()).contains(AnomalyType.BANK_MISSING_ACCOUNT);
    }
}
