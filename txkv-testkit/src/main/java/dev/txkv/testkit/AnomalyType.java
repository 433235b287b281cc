package dev.txkv.testkit;

/**
 * The anomalies the checkers report. Cycle anomalies follow Adya's classification as Elle uses
 * it; the {@code _REALTIME} variants are cycles that exist only once real-time order is added,
 * i.e. histories that are serializable but not strictly serializable.
 */
public enum AnomalyType {
    /** Write cycle: ww edges only (dirty write). */
    G0(true),
    /** Circular information flow: ww and wr edges, at least one wr. */
    G1C(true),
    /** Read skew: a cycle with exactly one rw (anti-dependency) edge. A lost update is one of these. */
    G_SINGLE(true),
    /** A cycle with two or more rw edges (write skew). G-single is the special case with one. */
    G2(true),
    /** A ww cycle that needs real-time edges. */
    G0_REALTIME(true),
    /** A ww/wr cycle that needs real-time edges. */
    G1C_REALTIME(true),
    /** A cycle with one rw edge that needs real-time edges, e.g. a stale read. */
    G_SINGLE_REALTIME(true),
    /** A cycle with two or more rw edges that needs real-time edges. */
    G2_REALTIME(true),
    /** Aborted read: a committed read saw a value written by a transaction that failed. */
    G1A(false),
    /** Intermediate read: a committed read saw a value that its writer later overwrote in the same transaction. */
    G1B(false),
    /** Reads of one key that are not prefixes of one another: no single version order explains them. */
    INCOMPATIBLE_ORDER(false),
    /** A read list holds the same element twice. */
    DUPLICATE_ELEMENTS(false),
    /** A read holds a value that no transaction wrote. */
    GARBAGE_READ(false),
    /** A transaction's reads disagree with its own earlier reads and writes. */
    INTERNAL(false),
    /** An acknowledged append that a read begun after its commit does not contain, and no read ever saw. */
    LOST_WRITE(false),
    /** The same value was appended twice to one key: the history itself is malformed. */
    DUPLICATE_APPEND(false),
    /** Bank: a read of all accounts whose sum differs from the invariant total. */
    BANK_WRONG_TOTAL(false),
    /** Bank: a balance below zero where the workload forbids it. */
    BANK_NEGATIVE_BALANCE(false),
    /** Bank: a committed read that found an account missing. */
    BANK_MISSING_ACCOUNT(false),
    /** Bank: the final balances do not match the committed transfers. */
    BANK_FINAL_STATE(false);

    private final boolean cycle;

    AnomalyType(boolean cycle) {
        this.cycle = cycle;
    }

    /** True for anomalies found as cycles in the dependency graph. */
    public boolean isCycle() {
        return cycle;
    }

    /** True for cycles that exist only with real-time edges (strict serializability violations). */
    public boolean isRealtime() {
        return name().endsWith("_REALTIME");
    }
}
