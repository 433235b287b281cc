package dev.txkv.testkit;

/** Kinds of dependency edge between transactions, as in Adya's thesis and Elle. */
enum EdgeType {
    /** Write-write: the target appended the next element after the source's. */
    WW("ww"),
    /** Write-read: the target read a state whose last element the source appended. */
    WR("wr"),
    /** Read-write (anti-dependency): the source read a state the target's append then extended. */
    RW("rw"),
    /** Real time: the source completed before the target was invoked. */
    RT("rt");

    private final String label;

    EdgeType(String label) {
        this.label = label;
    }

    String label() {
        return label;
    }
}
