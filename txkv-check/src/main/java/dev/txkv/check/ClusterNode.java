package dev.txkv.check;

import java.nio.file.Path;

/** One server of a test cluster: its addresses, data directory and current process. */
final class ClusterNode {
    /** What the harness last did to the node. */
    enum State { DOWN, RUNNING, PAUSED }

    private final int index;
    private final String id;
    private final String host;
    private final int clientPort;
    private final int raftPort;
    private final Path dir;
    private Process process;
    private State state = State.DOWN;
    private int starts;

    ClusterNode(int index, String host, int clientPort, int raftPort, Path dir) {
        this.index = index;
        this.id = "n" + (index + 1);
        this.host = host;
        this.clientPort = clientPort;
        this.raftPort = raftPort;
        this.dir = dir;
    }

    int index() {
        return index;
    }

    String id() {
        return id;
    }

    String clientAddress() {
        return host + ":" + clientPort;
    }

    String raftAddress() {
        return host + ":" + raftPort;
    }

    Path dataDir() {
        return dir.resolve("data");
    }

    /** The server log of start number {@code start} (1-based). */
    Path logFile(int start) {
        return dir.resolve("server-" + start + ".log");
    }

    synchronized Process process() {
        return process;
    }

    synchronized long pid() {
        return process == null ? -1 : process.pid();
    }

    synchronized State state() {
        return state;
    }

    synchronized void state(State state) {
        this.state = state;
    }

    /** Records a new process; returns its start number. */
    synchronized int started(Process process) {
        this.process = process;
        this.state = State.RUNNING;
        return ++starts;
    }

    @Override
    public String toString() {
        return id + "(" + clientAddress() + ", pid " + pid() + ", " + state() + ")";
    }
}
