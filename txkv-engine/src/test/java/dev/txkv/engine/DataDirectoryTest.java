package dev.txkv.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A data directory that is not ours, of another format, corrupt or in use is refused, untouched. */
class DataDirectoryTest {
    @TempDir
    Path dir;

    private static TxkvConfig config() {
        return new TxkvConfig().durable(false);
    }

    private void createWithData() {
        try (Database db = Txkv.openEmbedded(dir, config())) {
            db.run(tr -> {
                tr.set("k".getBytes(UTF_8), "v".getBytes(UTF_8));
                return null;
            });
        }
    }

    /** Every file with its size and contents, to prove a refused directory was left as it was. */
    private Map<String, String> snapshotOfFiles() throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String name = p.getFileName().toString();
                // RocksDB rotates its diagnostic log (LOG) on every open attempt; that is not data.
                if (Files.isRegularFile(p) && !name.equals("txkv.lock") && !name.startsWith("LOG")) {
                    m.put(dir.relativize(p).toString(), java.util.Arrays.toString(
                            java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
                }
            }
        }
        return m;
    }

    private void assertRefused(ErrorCode expected, String messagePart) throws Exception {
        Map<String, String> before = snapshotOfFiles();
        assertThatThrownBy(() -> Txkv.openEmbedded(dir, config()).close())
                .isInstanceOf(TxkvException.class)
                .satisfies(e -> assertThat(((TxkvException) e).getCode()).isEqualTo(expected.code()))
                .hasMessageContaining(messagePart);
        assertThat(snapshotOfFiles()).isEqualTo(before);
    }

    @Test
    void anotherFormatVersionIsRefusedAndLeftUntouched() throws Exception {
        createWithData();
        Files.writeString(dir.resolve("FORMAT"), "txkv-data-format 2\n");
        assertRefused(ErrorCode.DATA_DIRECTORY_INVALID, "txkv-data-format 2");
    }

    @Test
    void aForeignNonEmptyDirectoryIsRefused() throws Exception {
        Files.writeString(dir.resolve("important.txt"), "not a database");
        assertRefused(ErrorCode.DATA_DIRECTORY_INVALID, "not a txkv data directory");
        assertThat(Files.readString(dir.resolve("important.txt"))).isEqualTo("not a database");
    }

    @Test
    void aCorruptStoreIsRefusedWithAClearErrorAndNotWiped() throws Exception {
        createWithData();
        Path current = dir.resolve("rocksdb").resolve("CURRENT");
        Files.writeString(current, "MANIFEST-999999\n");
        assertRefused(ErrorCode.DATA_DIRECTORY_INVALID, "left untouched");
    }

    @Test
    void aSecondOpenInTheSameProcessIsRefused() {
        try (Database db = Txkv.openEmbedded(dir, config())) {
            assertThatThrownBy(() -> Txkv.openEmbedded(dir, config()))
                    .isInstanceOf(TxkvException.class)
                    .satisfies(e -> assertThat(((TxkvException) e).getCode())
                            .isEqualTo(ErrorCode.DATA_DIRECTORY_LOCKED.code()));
        }
        // Released on close: opening again works.
        Txkv.openEmbedded(dir, config()).close();
    }

    @Test
    void aSecondProcessIsRefused() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx128m"));
        if (Runtime.version().feature() >= 22) {
            command.add("--enable-native-access=ALL-UNNAMED");
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), HoldOpenChild.class.getName(),
                dir.toString()));
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), UTF_8))) {
            assertThat(out.readLine()).isEqualTo("OPEN");
            assertThatThrownBy(() -> Txkv.openEmbedded(dir, config()))
                    .isInstanceOf(TxkvException.class)
                    .hasMessageContaining("in use by another txkv process")
                    .satisfies(e -> assertThat(((TxkvException) e).getCode())
                            .isEqualTo(ErrorCode.DATA_DIRECTORY_LOCKED.code()));
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
        // The lock dies with the process: a SIGKILLed owner does not block the next open.
        Txkv.openEmbedded(dir, config()).close();
    }

    /** Opens the directory, says so, and holds it until killed (at most 60 s). */
    public static final class HoldOpenChild {
        public static void main(String[] args) throws Exception {
            try (Database db = Txkv.openEmbedded(Path.of(args[0]), config())) {
                System.out.println("OPEN");
                System.out.flush();
                Thread.sleep(60_000);
            }
        }
    }
}
