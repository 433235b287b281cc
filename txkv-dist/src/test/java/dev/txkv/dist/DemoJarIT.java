package dev.txkv.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A short run of the microservices demo (demo/run_demo.py, docs/demo.md) on the packaged
 * txkv.jar: services are killed and restarted while orders are placed, and the demo exits 0
 * only if every invariant holds. Skipped when python3 or Flask is not installed.
 */
class DemoJarIT {
    private static final Path JAR = Path.of("target", "txkv.jar").toAbsolutePath();
    private static final long TIMEOUT_SECONDS = 120;

    @Test
    void shortDemoRunPassesItsInvariants() throws Exception {
        assumeTrue(PythonClientJarIT.python3Runs(), "python3 is not installed: skipping the demo");
        assumeTrue(PythonClientJarIT.succeeds("python3", "-c", "import flask"), "Flask is not installed: skipping the demo "
                + "(apt-get install python3-flask)");
        assertThat(JAR).as("built by the package phase").isRegularFile();
        Path output = Files.createTempFile("txkv-demo", ".out");
        try {
            Process process = new ProcessBuilder("python3", "demo/run_demo.py", "--jar", JAR.toString(),
                    "--java", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--duration", "15s")
                    .directory(PythonClientJarIT.repo())
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                // SIGTERM first: the demo then stops the services and the server it started.
                process.destroy();
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
                throw new AssertionError("The demo did not finish in " + TIMEOUT_SECONDS + " s:\n"
                        + Files.readString(output, StandardCharsets.UTF_8));
            }
            String text = Files.readString(output, StandardCharsets.UTF_8);
            System.out.println(text);
            assertThat(process.exitValue()).as("demo exit code; output:%n%s", text).isZero();
            assertThat(text).contains("PASS", "each event consumed exactly once");
        } finally {
            Files.deleteIfExists(output);
        }
    }
}
