package dev.txkv.launcher;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Stands in for {@code txkv server} in LocalCluster's tests: writes its arguments to
 * DATA/args, prints the ready line (unless DATA/fail exists: then it exits 3 at once) and
 * sleeps until it is stopped, or at most {@link #LIFETIME_MS}.
 */
public final class FakeServer {
    static final long LIFETIME_MS = 120_000;

    private FakeServer() {
    }

    public static void main(String[] args) throws Exception {
        List<String> list = Arrays.asList(args);
        Path data = Path.of(list.get(list.indexOf("--data") + 1));
        Files.createDirectories(data);
        Files.writeString(data.resolve("args"), String.join(" ", list), StandardCharsets.UTF_8);
        if (Files.exists(data.resolve("fail"))) {
            System.out.println("fake server refuses to start");
            System.exit(3);
        }
        System.out.println(LocalCluster.READY_LINE + ": grpc " + list.get(list.indexOf("--listen") + 1));
        System.out.flush();
        Thread.sleep(LIFETIME_MS);
    }
}
