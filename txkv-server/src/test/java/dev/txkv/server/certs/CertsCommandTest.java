package dev.txkv.server.certs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.launcher.Subcommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code txkv certs} through picocli: output, exit codes and one-line errors. */
class CertsCommandTest {
    @TempDir
    Path tmp;

    private record Run(int exit, String out, String err) {
        /** The first line of standard error: the error message (picocli may add the usage after it). */
        String error() {
            return err.lines().findFirst().orElse("");
        }
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new CertsCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private String dir() {
        return tmp.resolve("certs").toString();
    }

    @Test
    void createsACaANodeAndAClientAndListsThem() throws Exception {
        Run ca = run("create-ca", "--dir", dir(), "--name", "test CA", "--days", "30");
        assertThat(ca.exit).as(ca.err).isZero();
        assertThat(ca.out).contains("wrote " + Path.of(dir(), "ca.crt"), "wrote " + Path.of(dir(), "ca.key"),
                "CA \"test CA\"");

        Run node = run("create-node", "--dir", dir(), "--id", "n1", "--host", "db.local,10.0.0.7", "--host", "::1");
        assertThat(node.exit).as(node.err).isZero();
        assertThat(node.out).contains("wrote " + Path.of(dir(), "node-n1.crt"), "wrote " + Path.of(dir(), "node-n1.key"),
                "subject CN: txkv-node:n1", "SANs: DNS:db.local, IP:10.0.0.7, IP:0:0:0:0:0:0:0:1");

        Run defaults = run("create-node", "--dir", dir(), "--id", "n2");
        assertThat(defaults.exit).as(defaults.err).isZero();
        assertThat(defaults.out).contains("SANs: DNS:localhost, IP:127.0.0.1");

        Run client = run("create-client", "--dir", dir(), "--user", "alice");
        assertThat(client.exit).as(client.err).isZero();
        assertThat(client.out).contains("wrote " + Path.of(dir(), "client-alice.crt"), "subject CN: alice");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(Path.of(dir(), "client-alice.key"))))
                .isEqualTo("rw-------");

        Path other = tmp.resolve("other");
        assertThat(run("create-ca", "--dir", other.toString()).exit).isZero();
        assertThat(run("create-client", "--dir", other.toString(), "--user", "mallory").exit).isZero();
        Files.copy(other.resolve("client-mallory.crt"), Path.of(dir(), "stranger.crt"));

        Run list = run("list", "--dir", dir());
        assertThat(list.exit).as(list.err).isZero();
        String fingerprint = DevCertificates.sha256Fingerprint(JdkPem.certificate(Path.of(dir(), "node-n1.crt")));
        assertThat(list.out).contains(Path.of(dir(), "node-n1.crt").toString(), "subject CN:  txkv-node:n1",
                "SANs:        DNS:db.local, IP:10.0.0.7", "SHA-256:     " + fingerprint, "not after:",
                "signed by CA: yes (the CA itself)");
        String stranger = list.out.substring(list.out.indexOf("stranger.crt"));
        assertThat(stranger).contains("subject CN:  mallory", "signed by CA: NO");
        assertThat(list.out.substring(list.out.indexOf("client-alice.crt"), list.out.indexOf("node-n1.crt")))
                .contains("SANs:        none", "signed by CA: yes");
    }

    @Test
    void refusesToOverwriteUnlessForced() {
        assertThat(run("create-ca", "--dir", dir()).exit).isZero();
        Run again = run("create-ca", "--dir", dir());
        assertThat(again.exit).isEqualTo(2);
        assertThat(again.err.strip()).isEqualTo("txkv certs: " + Path.of(dir(), "ca.crt")
                + " already exists; not overwriting it (use --force to replace it)");
        Run forced = run("create-ca", "--dir", dir(), "--force");
        assertThat(forced.exit).as(forced.err).isZero();
        assertThat(forced.err).contains("warning").contains("replaced");

        assertThat(run("create-client", "--dir", dir(), "--user", "bob").exit).isZero();
        Run client = run("create-client", "--dir", dir(), "--user", "bob");
        assertThat(client.exit).isEqualTo(2);
        assertThat(client.error()).contains("client-bob.crt already exists");
        assertThat(run("create-client", "--dir", dir(), "--user", "bob", "--force").exit).isZero();
    }

    @Test
    void aGroupReadableCaKeyIsRefusedWithTheFix() throws Exception {
        assertThat(run("create-ca", "--dir", dir()).exit).isZero();
        Path key = Path.of(dir(), "ca.key");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r-----"));
        Run r = run("create-node", "--dir", dir(), "--id", "n1");
        assertThat(r.exit).isEqualTo(2);
        assertThat(r.err.lines()).hasSize(1);
        assertThat(r.error()).startsWith("txkv certs: " + key + " is accessible by group or others")
                .endsWith("run 'chmod 600 " + key + "'");
    }

    @Test
    void badInputsAreUsageErrors() {
        assertThat(run("create-ca", "--dir", dir()).exit).isZero();
        assertUsage(run(), "certs needs a command");
        assertUsage(run("create-node", "--dir", dir()), "Missing required option: '--id=ID'");
        assertUsage(run("create-client", "--dir", dir()), "Missing required option: '--user=USER'");
        assertUsage(run("create-node", "--dir", dir(), "--id", "a b"), "node id must be 1 to 64 letters");
        assertUsage(run("create-node", "--dir", dir(), "--id", "x".repeat(65)), "node id must be 1 to 64 letters");
        assertUsage(run("create-client", "--dir", dir(), "--user", "../root"), "user name must be 1 to 64 letters");
        assertUsage(run("create-node", "--dir", dir(), "--id", "n1", "--host", "a b"), "host 'a b' contains a space");
        assertUsage(run("create-node", "--dir", dir(), "--id", "n1", "--host", ""), "host must not be empty");
        assertUsage(run("create-node", "--dir", dir(), "--id", "n1", "--host", "a,,b"), "host must not be empty");
        assertUsage(run("create-node", "--dir", dir(), "--id", "n1", "--host", "300.1.1.1"),
                "host '300.1.1.1' is not a valid IP address");
        assertUsage(run("create-node", "--dir", dir(), "--id", "n1", "--days", "0"), "--days must be 1 to 36500, got 0");
        assertUsage(run("create-client", "--dir", dir(), "--user", "u", "--days", "soon"), "--days");
        assertUsage(run("create-ca", "--dir", tmp.resolve("x").toString(), "--name", ""), "CA name must be");
        assertUsage(run("create-ca", "--bogus"), "Unknown option: '--bogus'");
        assertUsage(run("list", "--dir", tmp.resolve("missing").toString()), "is not a directory");
        assertThat(Path.of(dir(), "node-n1.crt")).doesNotExist();
    }

    @Test
    void signingWithoutACaIsRefused() {
        Run r = run("create-node", "--dir", dir(), "--id", "n1");
        assertThat(r.exit).isEqualTo(2);
        assertThat(r.err.strip()).isEqualTo("txkv certs: no CA in " + dir() + ": " + Path.of(dir(), "ca.crt")
                + " does not exist; create one first with 'txkv certs create-ca --dir " + dir() + "'");
    }

    @Test
    void ioFailuresExitWithOneAndOneLine() throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        Run r = run("create-ca", "--dir", file.toString());
        assertThat(r.exit).isEqualTo(1);
        assertThat(r.err.lines()).hasSize(1);
        assertThat(r.error()).startsWith("txkv certs: cannot create the directory " + file);

        assertThat(run("create-ca", "--dir", dir()).exit).isZero();
        Files.writeString(Path.of(dir(), "ca.key"), "garbage\n");
        Run broken = run("create-client", "--dir", dir(), "--user", "u");
        assertThat(broken.exit).isEqualTo(1);
        assertThat(broken.err.lines()).hasSize(1);
        assertThat(broken.error()).startsWith("txkv certs: ").contains(Path.of(dir(), "ca.key").toString());

        Files.writeString(Path.of(dir(), "junk.crt"), "not a certificate\n");
        Run list = run("list", "--dir", dir());
        assertThat(list.exit).isEqualTo(1);
        assertThat(list.out).contains("junk.crt", "error:");
        assertThat(list.err).doesNotContain("\tat ");
    }

    @Test
    void theLauncherFindsTheCommand() {
        List<Object> commands = new ArrayList<>();
        for (Subcommand s : ServiceLoader.load(Subcommand.class)) {
            commands.add(s.command());
        }
        assertThat(commands).anySatisfy(c -> assertThat(c).isInstanceOf(CertsCommand.class));
    }

    private static void assertUsage(Run r, String message) {
        assertThat(r.exit).as(r.err).isEqualTo(2);
        assertThat(r.error()).contains(message);
        assertThat(r.err).doesNotContain("\tat ");
    }
}
