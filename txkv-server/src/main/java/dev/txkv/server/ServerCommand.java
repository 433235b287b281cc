package dev.txkv.server;

import dev.txkv.TxkvException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code txkv server}: runs a {@link TxkvServer} until the process is told to stop (SIGTERM,
 * SIGINT), then shuts it down gracefully. Binds to 127.0.0.1 unless told otherwise: a
 * database should not appear on a network by accident.
 */
@Command(
        name = "server",
        description = {
            "Runs txkv as a network database: gRPC (txkv.v1 and grpc.health.v1) and HTTP/JSON on a data directory.",
            "Runs until SIGTERM or SIGINT, then stops gracefully: in-flight calls finish, every acknowledged commit is on disk."
        },
        sortOptions = false)
public final class ServerCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = "./txkv-data",
            description = "Data directory; created if missing, locked while the server runs (default: ${DEFAULT-VALUE}).")
    private Path data;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:4500",
            description = "gRPC address; port 0 picks a free port (default: ${DEFAULT-VALUE}).")
    private String listen;

    @Option(names = "--http", paramLabel = "HOST:PORT|none", defaultValue = "127.0.0.1:4501",
            description = "HTTP/JSON gateway address, or none (default: ${DEFAULT-VALUE}).")
    private String http;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ServerConfig config = new ServerConfig().dataDir(data);
        HostPort grpcAddress = parse("--listen", listen);
        config.grpcAddress(grpcAddress.host, grpcAddress.port);
        HostPort httpAddress = "none".equalsIgnoreCase(http.trim()) ? null : parse("--http", http);
        if (httpAddress != null) {
            config.httpAddress(httpAddress.host, httpAddress.port);
        }
        TxkvServer server;
        try {
            server = TxkvServer.start(config);
        } catch (IOException | TxkvException e) {
            err.println("txkv server: " + e.getMessage());
            if (debug()) {
                e.printStackTrace(err);
            }
            err.flush();
            return 1;
        }
        out.println("txkv server listening: grpc " + grpcAddress.host + ":" + server.grpcPort()
                + ", http " + (httpAddress == null ? "none" : httpAddress.host + ":" + server.httpPort())
                + ", data " + data);
        out.flush();
        Thread hook = new Thread(() -> {
            server.close();
            out.println("txkv server stopped");
            out.flush();
        }, "txkv-server-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            server.awaitTermination();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private HostPort parse(String option, String text) {
        String value = text.trim();
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new ParameterException(spec.commandLine(), option + " must be HOST:PORT, got '" + text + "'");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65_535) {
            throw new ParameterException(spec.commandLine(),
                    option + " needs a port from 0 to 65535, got '" + value.substring(colon + 1) + "'");
        }
        return new HostPort(host, port);
    }

    private static boolean debug() {
        String env = System.getenv("TXKV_DEBUG");
        return (env != null && !env.isEmpty() && !env.equals("0")) || Boolean.getBoolean("txkv.debug");
    }

    private record HostPort(String host, int port) {
    }
}
