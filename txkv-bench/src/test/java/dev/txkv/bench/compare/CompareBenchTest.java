package dev.txkv.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Where bench compare looks for the etcd driver, and what it says when it is missing; no system is started. */
class CompareBenchTest {
    @TempDir
    Path dir;

    @Test
    void theEtcdDriverIsFoundBesideTxkvJarsModule() {
        Path root = dir.resolve("repo");
        assertThat(EtcdBankDriver.besideTxkvJar(root.resolve("txkv-dist/target/txkv.jar")))
                .isEqualTo(root.resolve("txkv-bench-etcd/target/txkv-bench-etcd.jar").toAbsolutePath());
    }

    @Test
    void aMissingEtcdDriverIsNamedBeforeAnythingStarts() throws Exception {
        Path root = Files.createDirectories(dir.resolve("repo"));
        Files.createDirectories(root.resolve("bench/workloads"));
        Path txkvJar = Files.createDirectories(root.resolve("txkv-dist/target")).resolve("txkv.jar");
        Files.write(txkvJar, new byte[0]);
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = new CommandLine(new CompareBench()).execute("--quick", "--systems", "etcd,txkv3", "--workloads", "c",
                    "--jar", txkvJar.toString(), "--root", root.toString());
        } finally {
            System.setErr(saved);
        }
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("cannot find the etcd driver "
                + root.resolve("txkv-bench-etcd/target/txkv-bench-etcd.jar").toAbsolutePath(), "--etcd-jar");
    }
}
