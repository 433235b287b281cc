package dev.txkv.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The TLS flags of {@code txkv server} are checked before anything starts: each bad combination is a usage error. */
class ServerTlsFlagsTest {
    @TempDir
    Path dir;

    private int run(StringWriter err, String... args) {
        CommandLine cli = new CommandLine(new ServerCommand());
        cli.setErr(new PrintWriter(err));
        cli.setOut(new PrintWriter(new StringWriter()));
        return cli.execute(args);
    }

    private String refused(String... args) {
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = "--data";
        all[1] = dir.resolve("data").toString();
        System.arraycopy(args, 0, all, 2, args.length);
        assertThat(run(err, all)).as(String.join(" ", args)).isEqualTo(2);
        assertThat(Files.exists(dir.resolve("data"))).as("nothing opened").isFalse();
        return err.toString();
    }

    @Test
    void badTlsFlagCombinationsAreUsageErrors() throws Exception {
        Path file = Files.writeString(dir.resolve("f.pem"), "x");
        String f = file.toString();
        assertThat(refused("--tls-cert", f)).contains("--tls-cert, --tls-key and --tls-ca go together");
        assertThat(refused("--tls-cert", f, "--tls-key", f, "--tls-ca", dir.resolve("missing.pem").toString()))
                .contains("no such file: " + dir.resolve("missing.pem"));
        assertThat(refused("--tls-client-auth", "require")).contains("--tls-client-auth needs --tls-cert");
        assertThat(refused("--tls-cert", f, "--tls-key", f, "--tls-ca", f, "--tls-client-auth", "sometimes"))
                .contains("--tls-client-auth must be none, want or require, got 'sometimes'");
        assertThat(refused("--peer-tls-cert", f, "--peer-tls-key", f, "--peer-tls-ca", f))
                .contains("--peer-tls-* needs --tls-cert, --tls-key and --tls-ca");
        assertThat(refused("--tls-cert", f, "--tls-key", f, "--tls-ca", f, "--peer-tls-cert", f))
                .contains("--peer-tls-cert, --peer-tls-key and --peer-tls-ca go together");
        assertThat(refused("--tls-cert", f, "--tls-key", f, "--tls-ca", f, "--tls-reload-interval", "-1"))
                .contains("--tls-reload-interval must be 0 (never) to 86400000 ms, got -1");
    }

    @Test
    void aFileThatIsNotAKeyOrCertificateStopsTheStartWithItsName() throws Exception {
        Path file = Files.writeString(dir.resolve("f.pem"), "not pem at all");
        StringWriter err = new StringWriter();
        String f = file.toString();
        assertThat(run(err, "--data", dir.resolve("data").toString(), "--listen", "127.0.0.1:0", "--http", "none",
                "--tls-cert", f, "--tls-key", f, "--tls-ca", f)).isEqualTo(1);
        assertThat(err.toString()).contains("client TLS: cannot load " + f);
    }
}
