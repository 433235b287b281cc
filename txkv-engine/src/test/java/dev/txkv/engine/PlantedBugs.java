package dev.txkv.engine;

import dev.txkv.Range;
import java.util.List;

/**
 * Bugs planted on purpose, to show that the checkers and the simulation notice them. Test code
 * only: production code has no switch that turns a check off.
 */
final class PlantedBugs {
    private PlantedBugs() {
    }

    /** A resolver that never finds a conflict: lost updates follow. */
    static final class SkippingResolver extends Resolver {
        SkippingResolver(long horizon) {
            super(horizon);
        }

        @Override
        public List<Range> conflicts(List<Range> reads, long readVersion, boolean reportAll) {
            return null;
        }
    }
}
