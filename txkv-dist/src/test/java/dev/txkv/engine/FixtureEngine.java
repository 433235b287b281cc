package dev.txkv.engine;

/** Test fixture: stands for an engine class, so a rule can be shown to catch a violation. */
public final class FixtureEngine {
}
