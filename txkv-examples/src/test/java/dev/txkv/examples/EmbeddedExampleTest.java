package dev.txkv.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.cli.Main;
import dev.txkv.spi.BackendProvider;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedExampleTest {
    @Test
    void exampleIsALauncherSubcommand() {
        assertThat(Main.commandLine().getSubcommands()).containsKey("example");
    }

    @Test
    void exampleHelpNamesTheDataDirectory() {
        StringWriter out = new StringWriter();
        picocli.CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out));
        assertThat(cli.execute("example", "--help")).isZero();
        assertThat(out.toString()).contains("Usage: txkv example", "DIR", "txkv-data");
    }

    @Test
    void exampleRunsTwiceOnTheSameData(@TempDir Path dir) {
        // Until the embedded engine is on the class path there is nothing to run against.
        // A lost service file must fail here, not skip: the example would not run for users either.
        assertThat(ServiceLoader.load(BackendProvider.class).findFirst()).as("the embedded engine's service file")
                .isPresent();
        assertThat(runExample(dir)).contains("hello, txkv", "fruit/cherry", "(first run)", "total = 200");
        assertThat(runExample(dir)).contains("runs += 1 (atomic) -> 2", "the data is durable", "total = 200");
    }

    private static String runExample(Path dir) {
        StringWriter out = new StringWriter();
        EmbeddedExample.run(dir, new PrintWriter(out));
        return out.toString();
    }
}
