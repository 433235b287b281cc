package dev.txkv.launcher;

/**
 * A {@code txkv} launcher subcommand contributed by another module.
 *
 * <p>Modules such as txkv-server, txkv-bench or txkv-examples add commands ({@code server},
 * {@code bench}, {@code example}) without the launcher (txkv-cli, {@code dev.txkv.cli.Main})
 * depending on them: they implement this interface, list the implementation in
 * {@code META-INF/services/dev.txkv.launcher.Subcommand}, and the launcher finds it with
 * {@link java.util.ServiceLoader}. The interface lives in this dependency-free module rather
 * than in txkv-cli so that a contributing module depends on neither the launcher nor the other
 * way round; that is how the launcher stays free of the engine while {@code txkv server} still
 * runs from the same jar, and how txkv-cli may use modules (the remote client) whose tests
 * start a server.
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
