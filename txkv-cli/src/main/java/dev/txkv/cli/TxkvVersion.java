package dev.txkv.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;

/**
 * The version of txkv being run and of the Java runtime under it; also picocli's version
 * provider for {@code txkv --version}.
 *
 * <p>The jar manifest's {@code Implementation-Version} comes first because it describes the jar
 * actually running (txkv.jar sets it). When classes run outside a jar (tests, an IDE) there is
 * no manifest, so a resource filtered by Maven at build time supplies the same value.
 */
public final class TxkvVersion implements CommandLine.IVersionProvider {
    private static final String RESOURCE = "version.properties";
    private static final String UNKNOWN = "unknown";

    /** The txkv version, such as {@code 0.1.0-SNAPSHOT}; {@code unknown} if none is recorded. */
    public static String version() {
        String fromManifest = TxkvVersion.class.getPackage().getImplementationVersion();
        if (fromManifest != null && !fromManifest.isBlank()) {
            return fromManifest;
        }
        return versionFromResource();
    }

    /** The Java runtime, such as {@code Java 17.0.15 (Eclipse Adoptium, OpenJDK 64-Bit Server VM)}. */
    public static String javaDescription() {
        return "Java " + System.getProperty("java.version")
                + " (" + System.getProperty("java.vendor") + ", " + System.getProperty("java.vm.name") + ")";
    }

    /** The lines {@code txkv version} and {@code txkv --version} print. */
    @Override
    public String[] getVersion() {
        return new String[] {"txkv " + version(), javaDescription()};
    }

    private static String versionFromResource() {
        try (InputStream in = TxkvVersion.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                return UNKNOWN;
            }
            Properties properties = new Properties();
            properties.load(in);
            String version = properties.getProperty("version", "").trim();
            // An unfiltered resource still holds the placeholder: better "unknown" than a lie.
            return version.isEmpty() || version.startsWith("${") ? UNKNOWN : version;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + RESOURCE, e);
        }
    }
}
