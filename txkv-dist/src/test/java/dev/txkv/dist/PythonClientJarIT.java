package dev.txkv.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs the Python client's unittest suite (clients/python/tests), which starts the packaged
 * txkv.jar as a server process and talks to its HTTP gateway. A *JarIT, so it runs after the
 * package phase in {@code mvn verify}. Skipped when python3 is not installed (CI installs it).
 */
class PythonClientJarIT {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    private static final Path JAR = Path.of("target", "txkv.jar").toAbsolutePath();
    private static final long TIMEOUT_SECONDS = 120;

    @Test
    void pythonClientTestsPassAgainstTheJarsServer() throws Exception {
        assumeTrue(python3Runs(), "python3 is not installed: skipping the Python client tests "
                + "(apt-get install python3)");
        assertThat(JAR).as("built by the package phase").isRegularFile();
        Path output = Files.createTempFile("txkv-python-client", ".out");
        try {
            ProcessBuilder builder = new ProcessBuilder(
                    "python3", "-m", "unittest", "discover", "-v", "-s", "clients/python/tests")
                    .directory(REPO.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile());
            builder.environment().put("TXKV_JAR", JAR.toString());
            builder.environment().put("JAVA",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString());
            int exitCode = run(builder);
            String text = Files.readString(output, StandardCharsets.UTF_8);
            System.out.println(text);
            assertThat(exitCode).as("python3 -m unittest exit code; output:%n%s", text).isZero();
            assertThat(text).contains("OK");
        } finally {
            Files.deleteIfExists(output);
        }
    }

    static int run(ProcessBuilder builder) throws IOException, InterruptedException {
        Process process = builder.start();
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            throw new AssertionError("Timed out after " + TIMEOUT_SECONDS + " s: " + builder.command());
        }
        return process.exitValue();
    }

    static boolean python3Runs() {
        return succeeds("python3", "--version");
    }

    /** True when {@code command} runs and exits 0 within 20 s; its output is discarded. */
    static boolean succeeds(String... command) {
        try {
            Process process = new ProcessBuilder(List.of(command))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return process.waitFor(20, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static File repo() {
        return REPO.toFile();
    }
}
