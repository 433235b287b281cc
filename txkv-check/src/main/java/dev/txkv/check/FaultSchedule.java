package dev.txkv.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The faults of one run, drawn from a seed: the same seed and settings give the same sequence
 * of kinds, gaps, hold times and target choices. What cannot be replayed is timing (how long a
 * restart or an election takes), and therefore which node is leader when a fault starts.
 */
final class FaultSchedule {
    /** Most faults one schedule holds, whatever the window. */
    static final int FAULTS_MAX = 10_000;
    /** Quiet time between the end of one fault (healed) and the start of the next. */
    static final long GAP_MIN_MS = 2_000;
    static final long GAP_MAX_MS = 5_000;

    /**
     * One fault to inject.
     *
     * @param kind what to do
     * @param gapBeforeMs quiet time before it, after the previous fault healed
     * @param holdMs how long it lasts before it is healed
     * @param targetChoice picks the node among the candidates (modulo their number)
     */
    record PlannedFault(FaultKind kind, long gapBeforeMs, long holdMs, int targetChoice) {
        PlannedFault {
            Objects.requireNonNull(kind, "kind");
            if (gapBeforeMs < 0 || holdMs <= 0 || targetChoice < 0) {
                throw new IllegalArgumentException("bad planned fault " + kind + " " + gapBeforeMs + " " + holdMs);
            }
        }
    }

    private final long seed;
    private final List<PlannedFault> faults;

    private FaultSchedule(long seed, List<PlannedFault> faults) {
        this.seed = seed;
        this.faults = List.copyOf(faults);
    }

    /**
     * Draws faults of the {@code kinds} given until their gaps and holds fill {@code windowMs}
     * (at most {@link #FAULTS_MAX}). An empty set of kinds gives an empty schedule.
     */
    static FaultSchedule plan(long seed, Set<FaultKind> kinds, long windowMs) {
        if (windowMs < 0) {
            throw new IllegalArgumentException("windowMs must not be negative: " + windowMs);
        }
        List<FaultKind> ordered = kinds.stream().sorted().toList();
        SplittableRandom random = new SplittableRandom(seed);
        List<PlannedFault> faults = new ArrayList<>();
        long plannedMs = 0;
        while (!ordered.isEmpty() && faults.size() < FAULTS_MAX) {
            FaultKind kind = ordered.get(random.nextInt(ordered.size()));
            long gap = random.nextLong(GAP_MIN_MS, GAP_MAX_MS + 1);
            long hold = random.nextLong(holdMinMs(kind), holdMaxMs(kind) + 1);
            int target = random.nextInt(1 << 16);
            if (plannedMs + gap + hold > windowMs) {
                break;
            }
            plannedMs += gap + hold;
            faults.add(new PlannedFault(kind, gap, hold, target));
        }
        return new FaultSchedule(seed, faults);
    }

    /** Shortest hold of a fault of this kind. */
    static long holdMinMs(FaultKind kind) {
        return switch (kind.category()) {
            case PAUSE, KILL, RESTART, TWO_PHASE -> 1_000;
            case PARTITION -> 3_000;
            case STRANGER, SPLIT, MOVE, MERGE -> 500;
            case EXCLUDE -> 1_000;
        };
    }

    /**
     * Longest hold: pauses 1 to 5 s, kills, restarts and two-phase crashes down up to 4 s (a
     * crash point first waits until it is reached), partitions up to 8 s; a stranger's attempts
     * take what they take, then 0.5 to 1 s, and so does a split, a move or a merge; an
     * exclusion drains its node first, then holds 1 to 5 s before the node is included again.
     */
    static long holdMaxMs(FaultKind kind) {
        return switch (kind.category()) {
            case PAUSE -> 5_000;
            case KILL, RESTART, TWO_PHASE -> 4_000;
            case PARTITION -> 8_000;
            case STRANGER, SPLIT, MOVE, MERGE -> 1_000;
            case EXCLUDE -> 5_000;
        };
    }

    long seed() {
        return seed;
    }

    List<PlannedFault> faults() {
        return faults;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("schedule(seed ").append(seed).append("):");
        for (PlannedFault f : faults) {
            sb.append(' ').append(f.kind().token()).append('/').append(f.holdMs()).append("ms");
        }
        return sb.toString();
    }
}
