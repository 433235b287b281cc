package dev.txkv.cli;

/**
 * A {@code txkv} launcher subcommand contributed by another module.
 *
 * <p>Modules such as txkv-bench or txkv-examples add commands ({@code bench}, {@code example})
 * without txkv-cli depending on them: they implement this interface, list the implementation in
 * {@code META-INF/services/dev.txkv.cli.Subcommand}, and {@link Main} finds it with
 * {@link java.util.ServiceLoader}. The dependency points from the contributing module to the
 * launcher, never back; that is how the launcher stays free of the engine while
 * {@code txkv server} still runs from the same jar.
 *
 * <p>Implementations need a public no-argument constructor.
 */
public interface Subcommand {
    /**
     * A new command object: an instance of a class annotated with picocli's
     * {@code @Command(name = "...")}, or a ready {@code picocli.CommandLine}. The name must not
     * clash with another subcommand; a clash is reported when the launcher starts. Called once
     * per launcher start.
     */
    Object command();
}
