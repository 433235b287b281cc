package dev.txkv.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the packaged txkv.jar as operators do, in a separate JVM: runs after the package phase
 * (see this module's pom), because the shading (manifest, merged service files, native
 * libraries) is exactly what unit tests on the class path cannot see.
 */
class TxkvJarIT {
    private static final Path JAR = Path.of("target", "txkv.jar");
    private static final long TIMEOUT_SECONDS = 60;

    /** What one run of a JVM printed and returned. */
    record Run(int exitCode, String out, String err) {
    }

    @BeforeAll
    static void jarExists() {
        assertThat(JAR).as("built by the package phase").isRegularFile();
    }

    @Test
    void versionReadsTheManifest() throws Exception {
        Run run = java("-jar", JAR.toString(), "version");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).startsWith("txkv " + System.getProperty("txkv.expectedVersion", ""))
                .contains("Java ");
        assertThat(run.out()).doesNotContain("unknown");
    }

    @Test
    void helpListsSubcommandsContributedByOtherModules() throws Exception {
        Run run = java("-jar", JAR.toString(), "--help");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("version", "example", "help");
    }

    @Test
    void usageErrorExitsWithTwo() throws Exception {
        Run run = java("-jar", JAR.toString(), "no-such-command");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("no-such-command");
    }

    @Test
    void exampleRunsOnTheEmbeddedEngineFromTheJar(@TempDir Path dir) throws Exception {
        // The whole stack from one jar: launcher, contributed subcommand, client and engine
        // found through merged service files, RocksDB's native library, and (on JDK 22+) the
        // manifest's Enable-Native-Access instead of a command-line flag.
        Run run = java("-jar", JAR.toString(), "example", dir.resolve("data").toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("hello, txkv", "(first run)", "total = 200");
        assertThat(run.err()).doesNotContain("restricted method");
    }

    @Test
    void rocksDbNativeLibraryLoadsFromTheShadedJar() throws Exception {
        List<String> args = new ArrayList<>();
        if (Runtime.version().feature() >= 22) {
            args.add("--enable-native-access=ALL-UNNAMED");
        }
        args.add("-cp");
        args.add(JAR + java.io.File.pathSeparator + Path.of("target", "test-classes"));
        args.add(RocksDbProbe.class.getName());
        Run run = java(args.toArray(String[]::new));
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("rocksdb ok from", "txkv.jar");
        assertThat(run.err()).doesNotContain("restricted method");
    }

    private static Run java(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(args));
        Path out = Files.createTempFile("txkv-jar-it", ".out");
        Path err = Files.createTempFile("txkv-jar-it", ".err");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("Timed out after " + TIMEOUT_SECONDS + " s: " + command);
            }
            return new Run(process.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
