package dev.txkv.server.certs;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Date;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code txkv certs create-ca|create-node|create-client|list}: a development certificate
 * authority for txkv's TLS, a thin command line over {@link DevCertificates}.
 *
 * <p>Exit codes: 0 on success; 2 when the command line is wrong or the command refuses (a file
 * exists without {@code --force}, no CA in the directory, a CA key readable by group or others);
 * 1 when reading or writing a file fails or a file is not valid. Errors are one line on standard
 * error; TXKV_DEBUG=1 (or -Dtxkv.debug=true) adds the stack trace of a failure.
 */
@Command(name = "certs",
        description = {
            "Creates a development certificate authority and certificates for txkv's TLS (docs/security.md).",
            "For development and tests: in production, use your own PKI."
        },
        subcommands = {CertsCommand.CreateCa.class, CertsCommand.CreateNode.class, CertsCommand.CreateClient.class,
            CertsCommand.ListCmd.class})
public final class CertsCommand implements Callable<Integer> {
    /** Exit code when the command ran and failed (I/O, an invalid file). */
    static final int EXIT_FAILURE = 1;
    /** Exit code when the command line is wrong or the command refuses to act. */
    static final int EXIT_USAGE = 2;

    @Spec
    private CommandSpec spec;

    /**
     * Runs {@code txkv certs ARGS} without the launcher. Exit codes as the launcher's: 0, 1 when
     * the command fails, 2 for a usage error or a refusal.
     */
    public static void main(String[] args) {
        System.exit(new CommandLine(new CertsCommand()).execute(args));
    }

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(),
                "certs needs a command: create-ca, create-node, create-client or list");
    }

    /** What the four subcommands share: --dir, and turning errors into one line and an exit code. */
    abstract static class Action implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = DevCertificates.DIR_DEFAULT,
                description = "Directory of the CA and the certificates (default: ${DEFAULT-VALUE}).")
        Path dir;

        /** Does the work; returns the exit code. */
        abstract int run(PrintWriter out, PrintWriter err) throws IOException, CertsRefusedException;

        @Override
        public final Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            try {
                return run(out, err);
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            } catch (CertsRefusedException e) {
                err.println("txkv certs: " + e.getMessage());
                return EXIT_USAGE;
            } catch (IOException | IllegalStateException e) {
                err.println("txkv certs: " + e.getMessage());
                if (debug()) {
                    e.printStackTrace(err);
                }
                return EXIT_FAILURE;
            } finally {
                out.flush();
                err.flush();
            }
        }

        ParameterException usage(String message) {
            return new ParameterException(spec.commandLine(), message);
        }

        void checkDays(int days) {
            if (days < 1 || days > DevCertificates.DAYS_MAX) {
                throw usage("--days must be 1 to " + DevCertificates.DAYS_MAX + ", got " + days);
            }
        }

        static void printWarnings(DevCertificates.Issued issued, PrintWriter err) {
            for (String warning : issued.warnings()) {
                err.println("txkv certs: warning: " + warning);
            }
        }
    }

    /** {@code txkv certs create-ca}. */
    @Command(name = "create-ca", sortOptions = false, description = {
        "Creates a CA: DIR/" + DevCertificates.CA_CERT + " and DIR/" + DevCertificates.CA_KEY + ".",
        "An ECDSA P-256 key, readable by its owner only (0600), that signs the node and client certificates:"
                + " keep it away from the nodes."})
    static final class CreateCa extends Action {
        @Option(names = "--name", paramLabel = "NAME", defaultValue = DevCertificates.CA_NAME_DEFAULT,
                description = "The CA's subject CN, 1 to 64 characters (default: ${DEFAULT-VALUE}).")
        private String name;

        @Option(names = "--days", paramLabel = "N", defaultValue = "" + DevCertificates.CA_DAYS_DEFAULT,
                description = "Days of validity (default: ${DEFAULT-VALUE}).")
        private int days;

        @Option(names = "--force", description = "Replace an existing CA; certificates it signed stop verifying.")
        private boolean force;

        @Override
        int run(PrintWriter out, PrintWriter err) throws IOException, CertsRefusedException {
            checkDays(days);
            DevCertificates.Issued ca = DevCertificates.createCa(dir, name, days, force);
            out.println("wrote " + ca.certificate() + " (CA certificate)");
            out.println("wrote " + ca.key() + " (CA private key: keep it secret)");
            out.println("CA \"" + DevCertificates.commonName(ca.x509()) + "\", valid until "
                    + ca.x509().getNotAfter().toInstant() + ", SHA-256 " + DevCertificates.sha256Fingerprint(ca.x509()));
            printWarnings(ca, err);
            return 0;
        }
    }

    /** {@code txkv certs create-node}. */
    @Command(name = "create-node", sortOptions = false, description = {
        "Creates a node certificate signed by the CA in DIR: DIR/node-ID.crt and DIR/node-ID.key.",
        "Subject CN txkv-node:ID, a subjectAltName for each host (an IP address or a DNS name), extended key usage"
                + " serverAuth and clientAuth (nodes are TLS clients of each other)."})
    static final class CreateNode extends Action {
        @Option(names = "--id", paramLabel = "ID", required = true,
                description = "The node's id: 1 to 64 letters, digits, '_', '.' or '-'.")
        private String id;

        @Option(names = "--host", paramLabel = "HOST", split = ",", defaultValue = "localhost,127.0.0.1",
                description = "Host names and IP addresses clients and peers reach the node by, comma-separated or"
                        + " repeated (default: ${DEFAULT-VALUE}).")
        private List<String> hosts;

        @Option(names = "--days", paramLabel = "N", defaultValue = "" + DevCertificates.LEAF_DAYS_DEFAULT,
                description = "Days of validity (default: ${DEFAULT-VALUE}).")
        private int days;

        @Option(names = "--force", description = "Replace existing node-ID.crt and node-ID.key.")
        private boolean force;

        @Override
        int run(PrintWriter out, PrintWriter err) throws IOException, CertsRefusedException {
            checkDays(days);
            DevCertificates.Issued node = DevCertificates.createNode(dir, id, hosts, days, force);
            out.println("wrote " + node.certificate() + " (node certificate)");
            out.println("wrote " + node.key() + " (node private key)");
            out.println("subject CN: " + DevCertificates.commonName(node.x509()));
            out.println("SANs: " + String.join(", ", DevCertificates.subjectAltNames(node.x509())));
            out.println("valid until " + node.x509().getNotAfter().toInstant() + ", signed by "
                    + dir.resolve(DevCertificates.CA_CERT));
            printWarnings(node, err);
            return 0;
        }
    }

    /** {@code txkv certs create-client}. */
    @Command(name = "create-client", sortOptions = false, description = {
        "Creates a client certificate signed by the CA in DIR: DIR/client-USER.crt and DIR/client-USER.key.",
        "Subject CN USER; extended key usage clientAuth only."})
    static final class CreateClient extends Action {
        @Option(names = "--user", paramLabel = "USER", required = true,
                description = "The user name: 1 to 64 letters, digits, '_', '.' or '-'.")
        private String user;

        @Option(names = "--days", paramLabel = "N", defaultValue = "" + DevCertificates.LEAF_DAYS_DEFAULT,
                description = "Days of validity (default: ${DEFAULT-VALUE}).")
        private int days;

        @Option(names = "--force", description = "Replace existing client-USER.crt and client-USER.key.")
        private boolean force;

        @Override
        int run(PrintWriter out, PrintWriter err) throws IOException, CertsRefusedException {
            checkDays(days);
            DevCertificates.Issued client = DevCertificates.createClient(dir, user, days, force);
            out.println("wrote " + client.certificate() + " (client certificate)");
            out.println("wrote " + client.key() + " (client private key)");
            out.println("subject CN: " + DevCertificates.commonName(client.x509()));
            out.println("valid until " + client.x509().getNotAfter().toInstant() + ", signed by "
                    + dir.resolve(DevCertificates.CA_CERT));
            printWarnings(client, err);
            return 0;
        }
    }

    /** {@code txkv certs list}. */
    @Command(name = "list", description = {
        "Prints each certificate (*.crt) in DIR and whether the CA in DIR signed it.",
        "For each: subject CN, subject alternative names, expiry and SHA-256 fingerprint."})
    static final class ListCmd extends Action {
        @Override
        int run(PrintWriter out, PrintWriter err) throws IOException {
            if (!Files.isDirectory(dir)) {
                throw usage("--dir " + dir + " is not a directory");
            }
            List<DevCertificates.Listed> listed = DevCertificates.list(dir);
            if (listed.isEmpty()) {
                out.println("no certificates (*.crt) in " + dir);
                return 0;
            }
            boolean unreadable = false;
            Date now = new Date();
            for (DevCertificates.Listed entry : listed) {
                out.println(entry.file());
                if (entry.x509() == null) {
                    out.println("  error:       " + entry.problem());
                    unreadable = true;
                    continue;
                }
                X509Certificate cert = entry.x509();
                List<String> sans = DevCertificates.subjectAltNames(cert);
                out.println("  subject CN:  " + DevCertificates.commonName(cert));
                out.println("  SANs:        " + (sans.isEmpty() ? "none" : String.join(", ", sans)));
                out.println("  not after:   " + cert.getNotAfter().toInstant()
                        + (cert.getNotAfter().before(now) ? " (expired)" : ""));
                out.println("  SHA-256:     " + DevCertificates.sha256Fingerprint(cert));
                out.println("  signed by CA: " + switch (entry.ca()) {
                    case SIGNED -> cert.getBasicConstraints() >= 0 && entry.file().getFileName().toString()
                            .equals(DevCertificates.CA_CERT) ? "yes (the CA itself)" : "yes";
                    case NOT_SIGNED -> "NO (issuer " + cert.getIssuerX500Principal().getName() + ")";
                    case NO_CA -> "unknown (no readable " + DevCertificates.CA_CERT + " in " + dir + ")";
                });
            }
            if (unreadable) {
                err.println("txkv certs: some files in " + dir + " are not PEM certificates");
                return EXIT_FAILURE;
            }
            return 0;
        }
    }

    private static boolean debug() {
        String env = System.getenv("TXKV_DEBUG");
        return (env != null && !env.isEmpty() && !env.equals("0")) || Boolean.getBoolean("txkv.debug");
    }
}
