package dev.txkv.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports on 127.0.0.1 for servers started by tests. A port is free when asked; another
 * program may still take it before the server binds, in which case the server fails to start
 * loudly rather than the test testing something else.
 */
public final class Ports {
    /** Attempts to find a run of consecutive free ports before giving up. */
    private static final int RANGE_ATTEMPTS_MAX = 200;
    /** Ports are drawn from [20000, 32000): below Linux's default ephemeral range (32768 to 60999). */
    private static final int RANGE_BASE_MIN = 20_000;
    private static final int RANGE_BASE_SPAN = 12_000;
    /**
     * The ports handed out lately in this JVM, oldest first: a port a test was given but has
     * not bound yet is free to the kernel, so without this two calls in a row (a member's Raft
     * port, then its client port) could return the same one.
     */
    private static final java.util.LinkedHashSet<Integer> ISSUED = new java.util.LinkedHashSet<>();
    private static final int ISSUED_MAX = 2_000;

    private Ports() {
    }

    /** A free port on 127.0.0.1. */
    public static int freePort() {
        return freePorts(1)[0];
    }

    /**
     * {@code count} distinct free ports on 127.0.0.1 (all held open until all are chosen),
     * drawn below the kernel's ephemeral range: a port the kernel hands out (ServerSocket(0))
     * can be taken, between the choice and the server's bind, as the local port of any outgoing
     * connection on the machine, one chosen here only by another test that draws the same.
     */
    public static int[] freePorts(int count) {
        List<ServerSocket> held = new ArrayList<>(count);
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = bindBelowEphemeral();
                held.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket socket : held) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // Closing a listening socket that accepted nothing cannot lose data.
                }
            }
        }
    }

    private static ServerSocket bindBelowEphemeral() {
        IOException last = null;
        for (int attempt = 0; attempt < RANGE_ATTEMPTS_MAX * 5; attempt++) {
            int port = RANGE_BASE_MIN + ThreadLocalRandom.current().nextInt(RANGE_BASE_SPAN);
            if (!issue(port, 1)) {
                continue;
            }
            try {
                return new ServerSocket(port, 1, InetAddress.getLoopbackAddress());
            } catch (IOException e) {
                last = e;
            }
        }
        throw new UncheckedIOException("no free port on 127.0.0.1 from " + RANGE_BASE_MIN + " to "
                + (RANGE_BASE_MIN + RANGE_BASE_SPAN), last);
    }

    /** A base port such that the {@code count} ports from it on are all free on 127.0.0.1 now. */
    public static int freePortRange(int count) {
        for (int attempt = 0; attempt < RANGE_ATTEMPTS_MAX; attempt++) {
            int base = RANGE_BASE_MIN + ThreadLocalRandom.current().nextInt(RANGE_BASE_SPAN - count);
            if (allFree(base, count) && issue(base, count)) {
                return base;
            }
        }
        throw new IllegalStateException("no " + count + " consecutive free ports on 127.0.0.1 after "
                + RANGE_ATTEMPTS_MAX + " attempts");
    }

    /**
     * Waits up to {@code timeout} until {@code port} can be bound on 127.0.0.1 again: a server
     * restarted on the port it had may find its last incarnation's socket not yet released.
     */
    public static void awaitFree(int port, java.time.Duration timeout) {
        Poll.until("port " + port + " free on 127.0.0.1", timeout, () -> allFree(port, 1));
    }

    /** Records the {@code count} ports from {@code base} on as handed out, unless one of them was lately. */
    private static boolean issue(int base, int count) {
        synchronized (ISSUED) {
            for (int port = base; port < base + count; port++) {
                if (ISSUED.contains(port)) {
                    return false;
                }
            }
            for (int port = base; port < base + count; port++) {
                ISSUED.add(port);
            }
            while (ISSUED.size() > ISSUED_MAX) {
                ISSUED.remove(ISSUED.iterator().next());
            }
            return true;
        }
    }

    private static boolean allFree(int base, int count) {
        for (int port = base; port < base + count; port++) {
            try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                socket.setReuseAddress(true);
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }
}
