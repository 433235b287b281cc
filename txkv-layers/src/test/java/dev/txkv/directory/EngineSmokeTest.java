package dev.txkv.directory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.Database;
import dev.txkv.layers.testing.EmbeddedDatabase;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded engine the directory tests run on: read-your-writes and commit, the minimum they rely on. */
class EngineSmokeTest {
    @TempDir
    Path dir;

    @Test
    void writesAreReadBackInAndAfterTheTransaction() {
        try (Database db = EmbeddedDatabase.open(dir)) {
            byte[] seen = db.run(tr -> {
                tr.set(new byte[] {1}, new byte[] {2});
                return tr.get(new byte[] {1}).join();
            });
            assertThat(seen).containsExactly(2);
            byte[] after = db.read(tr -> tr.get(new byte[] {1}).join());
            assertThat(after).containsExactly(2);
        }
    }
}
