package dev.txkv.cli;

import dev.txkv.engine.FixtureEngine;

/** Test fixture: a launcher class that breaks the rule "the CLI never depends on the engine". */
final class FixtureCommandUsingTheEngine {
    FixtureEngine engine = new FixtureEngine();
}
