package dev.txkv.remote.contract;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A txkv server in a child JVM, started as operators start it: the launcher's main with
 * {@code server --data DIR --listen 127.0.0.1:PORT --http none}, on this test's class path.
 * {@link #kill()} is SIGKILL: no shutdown hook, no flush, exactly a crash.
 */
public final class ServerProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("txkv server listening: grpc [^:]+:(\\d+)");
    private static final long START_TIMEOUT_MS = 30_000;

    private final Process process;
    private final int port;
    private final Path log;

    private ServerProcess(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Starts a server on {@code dataDir}, listening on 127.0.0.1:{@code port} (0: a free port). */
    public static ServerProcess start(Path dataDir, int port) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m"));
        if (Runtime.version().feature() >= 22) {
            command.add("--enable-native-access=ALL-UNNAMED");
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.txkv.server.ServerCommand",
                "--data", dataDir.toString(), "--listen", "127.0.0.1:" + port, "--http", "none"));
        Path log = Files.createTempFile("txkv-server-process", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<Integer> listening = new CompletableFuture<>();
        Thread reader = new Thread(() -> pump(process, log, listening), "server-process-output");
        reader.setDaemon(true);
        reader.start();
        try {
            int chosen = listening.get(START_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            return new ServerProcess(process, chosen, log);
        } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            throw new IOException("The server process did not start listening:\n" + Files.readString(log), e);
        }
    }

    /** Copies the child's output to the log file and reports the port from the "listening" line. */
    private static void pump(Process process, Path log, CompletableFuture<Integer> listening) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                Files.writeString(log, line + "\n", UTF_8, java.nio.file.StandardOpenOption.APPEND);
                Matcher m = LISTENING.matcher(line);
                if (m.find()) {
                    listening.complete(Integer.parseInt(m.group(1)));
                }
            }
        } catch (IOException ignored) {
            // The process was killed: its pipe closed.
        }
        String end;
        try {
            end = process.waitFor(5, TimeUnit.SECONDS) ? "exit code " + process.exitValue() : "output closed";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            end = "interrupted";
        }
        listening.completeExceptionally(new IOException("The server process ended before listening: " + end));
    }

    /** Starts a server on the same port, retrying for a few seconds while the old socket lingers. */
    public static ServerProcess restart(Path dataDir, int port) throws IOException, InterruptedException {
        IOException last = null;
        for (int attempt = 0; attempt < 10; attempt++) {
            try {
                return start(dataDir, port);
            } catch (IOException e) {
                last = e;
                Thread.sleep(500);
            }
        }
        throw last;
    }

    /** The gRPC port. */
    public int port() {
        return port;
    }

    /** The connection string for {@code Txkv.open}. */
    public String connection() {
        return "127.0.0.1:" + port;
    }

    /** What the server printed so far. */
    public String output() throws IOException {
        return Files.readString(log);
    }

    /** SIGKILL, and waits for the process to be gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM: the server shuts down gracefully; SIGKILL if it has not ended after 20 s. */
    @Override
    public void close() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(log);
    }
}
