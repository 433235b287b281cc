package dev.txkv.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Runs clients/grpc-python/tests: a concurrent bank in Python over stubs generated from
 * txkv.proto at test time, against the packaged txkv.jar's gRPC port, committing mutations
 * without write conflicts (the server derives them). Uses the first of {@code python3} and
 * {@code /usr/bin/python3} that has the grpc and grpc_tools modules (Debian's
 * python3-grpcio and python3-grpc-tools; CI installs them); skipped, with a message, when
 * neither has. {@code -Dtxkv.seed=N} is passed on as the test's seed.
 */
class GrpcPythonBankJarIT {
    private static final Path JAR = Path.of("target", "txkv.jar").toAbsolutePath();

    @Test
    void pythonBankOverGeneratedStubsConservesMoney() throws Exception {
        String python = pythonWithGrpc();
        assumeTrue(python != null, "No python3 with the grpc and grpc_tools modules: skipping the gRPC "
                + "Python bank (apt-get install python3 python3-grpcio python3-grpc-tools)");
        assertThat(JAR).as("built by the package phase").isRegularFile();
        Path output = Files.createTempFile("txkv-grpc-python", ".out");
        try {
            ProcessBuilder builder = new ProcessBuilder(
                    python, "-m", "unittest", "discover", "-v", "-s", "clients/grpc-python/tests")
                    .directory(PythonClientJarIT.repo())
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile());
            builder.environment().put("TXKV_JAR", JAR.toString());
            builder.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
            String seed = System.getProperty("txkv.seed", "");
            if (!seed.isBlank()) {
                builder.environment().put("TXKV_SEED", seed.trim());
            }
            int exitCode = PythonClientJarIT.run(builder);
            String text = Files.readString(output, StandardCharsets.UTF_8);
            System.out.println(text);
            assertThat(exitCode).as("%s -m unittest exit code; output:%n%s", python, text).isZero();
            // The interpreter has the modules, so the bank must have run, not been skipped.
            assertThat(text).contains("OK").doesNotContain("skipped");
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static String pythonWithGrpc() {
        for (String python : new String[] {"python3", "/usr/bin/python3"}) {
            if (PythonClientJarIT.succeeds(python, "-c", "import grpc, grpc_tools.protoc")) {
                return python;
            }
        }
        return null;
    }
}
