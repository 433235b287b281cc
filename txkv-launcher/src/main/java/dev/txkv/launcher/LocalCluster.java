package dev.txkv.launcher;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Local {@code txkv server} processes, one per member, each on its own addresses and data
 * directory: started, waited for, paused, killed, stopped and started again. The one way txkv
 * starts server processes on this machine, used by {@code txkv cluster} (a cluster that outlives
 * the command) and {@code txkv check} (a cluster under faults).
 *
 * <p>A member is started as {@code PREFIX... LAUNCHER... server --data DIR/data --listen
 * HOST:PORT --http HOST:PORT|none [--id ID --peers ID@HOST:RAFTPORT,... --peer-clients
 * ID@HOST:PORT,... [--cluster-name NAME]]},
 * where the launcher runs the {@code txkv} command line (e.g. {@code java -jar txkv.jar}, see
 * {@link #launcherOfThisJvm} and {@link #launcherOfJar}) and the prefix, per member, may put
 * the process somewhere else (a network namespace). It is ready when its output shows
 * {@value #READY_LINE}.
 *
 * <p>Two {@linkplain Mode modes}: {@link Mode#ATTACHED} members are children of this JVM with
 * one log file per start, stopped by {@link #close}; {@link Mode#DETACHED} members run in a
 * session of their own, append to one log, record their process id in a pid file, and outlive
 * this JVM, so that a later {@code LocalCluster} over the same directories finds them again
 * (from the pid files) to report on or stop them.
 *
 * <p>Every wait is bounded. Pausing and resuming send SIGSTOP and SIGCONT with {@code kill},
 * so they need a Unix-like system.
 */
public final class LocalCluster implements AutoCloseable {
    /** The line a server prints once it listens; a member is ready when its log shows it. */
    public static final String READY_LINE = "txkv server listening";
    /** The launcher's main class, for a launcher run from a class path rather than txkv.jar. */
    public static final String LAUNCHER_MAIN_CLASS = "dev.txkv.cli.Main";
    /** How long {@link #start(int)} and {@link #startAll()} wait for members to be ready. */
    public static final long READY_TIMEOUT_MS_DEFAULT = 90_000;
    /** How long a graceful stop waits after SIGTERM before SIGKILL. */
    public static final long STOP_GRACE_MS_DEFAULT = 20_000;
    /** How long to wait for a process to vanish after SIGKILL. */
    public static final long KILL_TIMEOUT_MS = 10_000;
    /** How long {@code kill -STOP/-CONT} may take. */
    static final long SIGNAL_TIMEOUT_MS = 10_000;
    private static final long POLL_MS = 100;
    private static final int LOG_TAIL_CHARS = 2_000;

    /** What was last done to a member's process. */
    public enum State { DOWN, RUNNING, PAUSED }

    /** How the members' processes relate to this JVM. */
    public enum Mode {
        /** Children of this JVM; output to {@code DIR/server-N.log} for start N; {@link #close} stops them. */
        ATTACHED,
        /**
         * Detached: a session of their own ({@code setsid} where it exists), no standard input,
         * output appended to {@code DIR/log}, process id in {@code DIR/pid}; they outlive this
         * JVM and {@link #close} leaves them running.
         */
        DETACHED
    }

    private final List<String> launcher;
    private final Mode mode;
    private final boolean replicated;
    private final String clusterName;
    private final java.util.Map<String, List<String>> memberArgs;
    private final List<String> serverArgs;
    private final long readyTimeoutMs;
    private final long stopGraceMs;
    private final Consumer<String> log;
    private final List<Member> members;
    private boolean closed;

    private LocalCluster(Builder b) {
        this.launcher = List.copyOf(b.launcher);
        this.mode = b.mode;
        this.replicated = b.replicated;
        this.clusterName = b.clusterName;
        this.serverArgs = b.serverArgs;
        this.memberArgs = java.util.Map.copyOf(b.memberArgs);
        this.readyTimeoutMs = b.readyTimeoutMs;
        this.stopGraceMs = b.stopGraceMs;
        this.log = b.log;
        this.members = List.copyOf(b.members);
    }

    /** A cluster whose members run {@code launcher} (the {@code txkv} command line, without arguments). */
    public static Builder builder(List<String> launcher) {
        return new Builder(launcher);
    }

    /** The members, in the order they were added. */
    public List<Member> members() {
        return members;
    }

    /** Member {@code index} (0-based). */
    public Member member(int index) {
        return members.get(index);
    }

    /** The connection string of every member's client address, comma-separated. */
    public String connection() {
        return members.stream().map(Member::clientAddress).collect(Collectors.joining(","));
    }

    /** The command that starts member {@code index}, prefix and launcher included. */
    public List<String> command(int index) {
        Member m = members.get(index);
        List<String> command = new ArrayList<>();
        if (mode == Mode.DETACHED) {
            for (String setsid : List.of("/usr/bin/setsid", "/bin/setsid")) {
                if (Files.isExecutable(Path.of(setsid))) {
                    // A session of its own: a hang-up of this terminal does not reach the member.
                    command.add(setsid);
                    break;
                }
            }
        }
        command.addAll(m.commandPrefix);
        command.addAll(launcher);
        command.addAll(List.of("server", "--data", m.dataDir().toString(), "--listen", m.clientAddress(),
                "--http", m.httpPort == 0 ? "none" : m.host + ":" + m.httpPort));
        if (replicated) {
            String peers = members.stream().map(p -> p.id + "@" + p.raftAddress()).collect(Collectors.joining(","));
            String peerClients = members.stream().map(p -> p.id + "@" + p.clientAddress())
                    .collect(Collectors.joining(","));
            command.addAll(List.of("--id", m.id, "--peers", peers, "--peer-clients", peerClients));
            if (clusterName != null) {
                command.addAll(List.of("--cluster-name", clusterName));
            }
        }
        command.addAll(serverArgs);
        command.addAll(memberArgs.getOrDefault(m.id, List.of()));
        return command;
    }

    /** Starts every member that is down, then waits until each is ready. */
    public void startAll() {
        for (Member m : members) {
            if (m.state() == State.DOWN) {
                launch(m.index);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(readyTimeoutMs);
        for (Member m : members) {
            awaitReady(m.index, deadline);
        }
    }

    /** Starts member {@code index}, which must be down, on its existing data, and waits until it is ready. */
    public void start(int index) {
        launch(index);
        awaitReady(index, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(readyTimeoutMs));
    }

    /**
     * Starts member {@code index}, which must be down, without waiting for it to be ready.
     *
     * @return the member's start number: 1 for its first start by this object
     * @throws IllegalStateException when the member runs or the cluster is closed
     * @throws UncheckedIOException when the process cannot be started
     */
    public synchronized int launch(int index) {
        if (closed) {
            throw new IllegalStateException("cluster closed");
        }
        Member m = members.get(index);
        if (m.state() != State.DOWN) {
            throw new IllegalStateException("member " + m.id + " is not down (" + m.state() + ", pid " + m.pid() + ")");
        }
        List<String> command = command(index);
        try {
            Files.createDirectories(m.dir);
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            Path logFile;
            long logOffset;
            if (mode == Mode.DETACHED) {
                logFile = m.dir.resolve("log");
                logOffset = Files.exists(logFile) ? Files.size(logFile) : 0;
                pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                        .redirectInput(ProcessBuilder.Redirect.from(nullFile()));
            } else {
                logFile = m.dir.resolve("server-" + (m.starts() + 1) + ".log");
                logOffset = 0;
                pb.redirectOutput(logFile.toFile());
            }
            Process process = pb.start();
            if (mode == Mode.ATTACHED) {
                process.getOutputStream().close();
            } else {
                Files.writeString(m.pidFile(), process.pid() + "\n", StandardCharsets.US_ASCII);
            }
            int start = m.started(process, logFile, logOffset);
            log.accept(String.format("node %s start %d: pid %d, %s", m.id, start, process.pid(),
                    start == 1 ? String.join(" ", command) : "same command"));
            return start;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + m.id + ": " + String.join(" ", command), e);
        }
    }

    /**
     * Waits until member {@code index}'s current start shows {@link #READY_LINE} in its log.
     *
     * @throws IllegalStateException when the process exits first or the deadline passes; the
     *     message ends with the tail of the log
     */
    public void awaitReady(int index, long deadlineNanos) {
        Member m = members.get(index);
        Path logFile = m.logFile();
        if (logFile == null) {
            throw new IllegalStateException("member " + m.id + " was not started here");
        }
        long offset = m.logOffset();
        long rounds = 0;
        while (System.nanoTime() < deadlineNanos && rounds++ < readyTimeoutMs / POLL_MS + 10) {
            String text = readFrom(logFile, offset);
            if (text.contains(READY_LINE)) {
                return;
            }
            if (!m.isAlive()) {
                m.state(State.DOWN);
                throw new IllegalStateException("node " + m.id + " exited" + m.exitValue().map(v -> " with " + v).orElse("")
                        + " before it was ready; its log " + logFile + " ends:\n" + tail(text));
            }
            sleep(POLL_MS);
        }
        throw new IllegalStateException("node " + m.id + " not ready within " + readyTimeoutMs
                + " ms; its log " + logFile + " ends:\n" + tail(readFrom(logFile, offset)));
    }

    /**
     * Waits at most {@code timeoutMs} for a running member's process to end by itself; its exit
     * status when it did (-1 when it was not started by this cluster), empty when it still runs.
     * The member stays in its state: {@link #kill} marks it down.
     */
    public java.util.Optional<Integer> awaitExit(int index, long timeoutMs) {
        Member m = members.get(index);
        if (m.handle() == null || !waitExit(m, timeoutMs)) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(m.exitValue().orElse(-1));
    }

    /** SIGKILL; returns once the process is gone (at most {@link #KILL_TIMEOUT_MS}). */
    public void kill(int index) {
        Member m = members.get(index);
        if (m.state() == State.DOWN || m.handle() == null) {
            return;
        }
        m.handle().destroyForcibly();
        waitExit(m, KILL_TIMEOUT_MS);
        m.state(State.DOWN);
    }

    /** SIGTERM (a graceful stop), SIGKILL when the process still runs after the stop grace. */
    public void stop(int index) {
        Member m = members.get(index);
        if (m.state() == State.DOWN || m.handle() == null) {
            return;
        }
        if (m.state() == State.PAUSED) {
            resume(index);
        }
        m.handle().destroy();
        if (!waitExit(m, stopGraceMs)) {
            log.accept("node " + m.id + " did not stop within " + stopGraceMs + " ms; killing it");
            m.handle().destroyForcibly();
            waitExit(m, KILL_TIMEOUT_MS);
        }
        m.state(State.DOWN);
    }

    /** SIGSTOP: the process keeps its sockets but answers nothing. */
    public void pause(int index) {
        signal(index, "-STOP");
        members.get(index).state(State.PAUSED);
    }

    /** SIGCONT. */
    public void resume(int index) {
        signal(index, "-CONT");
        members.get(index).state(State.RUNNING);
    }

    private void signal(int index, String signal) {
        Member m = members.get(index);
        long pid = m.pid();
        if (pid <= 0) {
            throw new IllegalStateException("node " + m.id + " has no process");
        }
        List<String> command = List.of("kill", signal, Long.toString(pid));
        String failure;
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (!p.waitFor(SIGNAL_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                failure = "no exit within " + SIGNAL_TIMEOUT_MS + " ms";
            } else if (p.exitValue() != 0) {
                failure = "exit " + p.exitValue() + ": "
                        + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            } else {
                return;
            }
        } catch (IOException e) {
            failure = e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = "interrupted";
        }
        throw new IllegalStateException(String.join(" ", command) + " failed: " + failure);
    }

    /**
     * Stops every member that runs: resumes the paused ones, sends SIGTERM to all, waits up to
     * {@code graceMs} for them together, then sends SIGKILL to those still running. Detached
     * members' pid files are removed. What it does goes to {@code progress}.
     *
     * @return how many processes were running
     */
    public int stopAll(long graceMs, Consumer<String> progress) {
        List<Member> stopping = new ArrayList<>();
        for (Member m : members) {
            ProcessHandle h = m.handle();
            if (h == null || !h.isAlive()) {
                continue;
            }
            if (m.state() == State.PAUSED) {
                try {
                    resume(m.index);
                } catch (IllegalStateException e) {
                    // SIGTERM is queued until it continues; SIGKILL below ends it regardless.
                }
            }
            h.destroy();
            stopping.add(m);
            progress.accept("stopping " + m.id + " (pid " + h.pid() + ")");
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMs);
        for (Member m : stopping) {
            long leftMs = Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            if (!waitExit(m, leftMs)) {
                progress.accept("pid " + m.pid() + " still runs after " + graceMs / 1000 + " s: SIGKILL");
                m.handle().destroyForcibly();
                if (!waitExit(m, KILL_TIMEOUT_MS)) {
                    progress.accept("pid " + m.pid() + " did not exit after SIGKILL");
                }
            }
        }
        for (Member m : members) {
            m.state(State.DOWN);
            if (mode == Mode.DETACHED) {
                try {
                    Files.deleteIfExists(m.pidFile());
                } catch (IOException e) {
                    progress.accept("cannot remove " + m.pidFile() + ": " + e.getMessage());
                }
            }
        }
        return stopping.size();
    }

    /**
     * Attached: stops every member (as {@link #stopAll} with the stop grace) and refuses
     * further starts. Detached: only refuses further starts; the members keep running.
     * Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (mode == Mode.ATTACHED) {
            stopAll(stopGraceMs, line -> { });
        }
    }

    /**
     * The command that runs the launcher again in a new JVM: the java of this JVM with its
     * options (but no debugger agent, whose port would clash), and the jar {@code anchor} was
     * loaded from, or this class path and {@link #LAUNCHER_MAIN_CLASS} when it was loaded from a
     * class directory.
     */
    public static List<String> launcherOfThisJvm(Class<?> anchor) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!option.startsWith("-agentlib:jdwp") && !option.startsWith("-Xrunjdwp")) {
                command.add(option);
            }
        }
        Path source = codeSource(anchor);
        if (source != null && Files.isRegularFile(source) && source.toString().endsWith(".jar")) {
            command.addAll(List.of("-jar", source.toString()));
        } else {
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), LAUNCHER_MAIN_CLASS));
        }
        return command;
    }

    /** {@code java JVM_OPTIONS... -jar JAR}, with the java of this JVM's installation. */
    public static List<String> launcherOfJar(Path jar, List<String> jvmOptions) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar.toString()));
        return command;
    }

    private static Path codeSource(Class<?> anchor) {
        try {
            CodeSource cs = anchor.getProtectionDomain().getCodeSource();
            return cs == null ? null : Path.of(cs.getLocation().toURI());
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
    }

    private static File nullFile() {
        return new File(System.getProperty("os.name", "").toLowerCase().startsWith("windows") ? "NUL" : "/dev/null");
    }

    private static boolean waitExit(Member m, long timeoutMs) {
        Process process = m.process();
        try {
            if (process != null) {
                return process.waitFor(timeoutMs, TimeUnit.MILLISECONDS);
            }
            ProcessHandle h = m.handle();
            if (h == null) {
                return true;
            }
            h.onExit().get(timeoutMs, TimeUnit.MILLISECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !m.isAlive();
        } catch (TimeoutException | ExecutionException e) {
            return !m.isAlive();
        }
    }

    private static String readFrom(Path file, long offset) {
        try {
            if (!Files.exists(file)) {
                return "";
            }
            byte[] bytes = Files.readAllBytes(file);
            int from = (int) Math.min(offset, bytes.length);
            return new String(bytes, from, bytes.length - from, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    private static String tail(String text) {
        return text.length() <= LOG_TAIL_CHARS ? text : text.substring(text.length() - LOG_TAIL_CHARS);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A process id from a pid file, if that process still runs and is a JVM. */
    private static Optional<ProcessHandle> running(Path pidFile) {
        try {
            if (!Files.isRegularFile(pidFile)) {
                return Optional.empty();
            }
            long pid = Long.parseLong(Files.readString(pidFile, StandardCharsets.US_ASCII).trim());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(LocalCluster::looksLikeJava);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** A recycled process id must not get a signal meant for a member: only Java processes qualify. */
    private static boolean looksLikeJava(ProcessHandle p) {
        Optional<String> command = p.info().command();
        return command.isEmpty() || command.get().contains("java");
    }

    /** One server of the cluster: its addresses, directory and current process. */
    public static final class Member {
        private final int index;
        private final String id;
        private final String host;
        private final int clientPort;
        private final int httpPort;
        private final int raftPort;
        private final Path dir;
        private final List<String> commandPrefix;
        private Process process;
        private ProcessHandle handle;
        private State state = State.DOWN;
        private int starts;
        private Path logFile;
        private long logOffset;

        private Member(int index, String id, String host, int clientPort, int httpPort, int raftPort, Path dir,
                       List<String> commandPrefix) {
            this.index = index;
            this.id = id;
            this.host = host;
            this.clientPort = clientPort;
            this.httpPort = httpPort;
            this.raftPort = raftPort;
            this.dir = dir;
            this.commandPrefix = List.copyOf(commandPrefix);
        }

        /** Position among the members, 0-based. */
        public int index() {
            return index;
        }

        /** The member id, {@code --id}. */
        public String id() {
            return id;
        }

        /** HOST:PORT of the client (gRPC) endpoint. */
        public String clientAddress() {
            return host + ":" + clientPort;
        }

        /** HOST:PORT of the Raft endpoint. */
        public String raftAddress() {
            return host + ":" + raftPort;
        }

        /** The member's directory: data, logs, pid file. */
        public Path dir() {
            return dir;
        }

        /** The data directory, {@code --data}. */
        public Path dataDir() {
            return dir.resolve("data");
        }

        /** Where a detached member records its process id. */
        public Path pidFile() {
            return dir.resolve("pid");
        }

        /** The log of the current start; null before the first start by this object. */
        public synchronized Path logFile() {
            return logFile;
        }

        synchronized long logOffset() {
            return logOffset;
        }

        /** How many times this object started the member. */
        public synchronized int starts() {
            return starts;
        }

        /** The process id, or -1 when no process is known. */
        public synchronized long pid() {
            return handle == null ? -1 : handle.pid();
        }

        /** Whether the member's process runs (paused counts as running). */
        public synchronized boolean isAlive() {
            return handle != null && handle.isAlive();
        }

        /** What was last done to the member. */
        public synchronized State state() {
            return state;
        }

        synchronized void state(State state) {
            this.state = state;
        }

        synchronized Process process() {
            return process;
        }

        synchronized ProcessHandle handle() {
            return handle;
        }

        synchronized Optional<Integer> exitValue() {
            return process != null && !process.isAlive() ? Optional.of(process.exitValue()) : Optional.empty();
        }

        synchronized int started(Process process, Path logFile, long logOffset) {
            this.process = process;
            this.handle = process.toHandle();
            this.state = State.RUNNING;
            this.logFile = logFile;
            this.logOffset = logOffset;
            return ++starts;
        }

        synchronized void attached(ProcessHandle handle) {
            this.handle = handle;
            this.state = State.RUNNING;
        }

        @Override
        public String toString() {
            return id + "(" + clientAddress() + ", pid " + pid() + ", " + state() + ")";
        }
    }

    /** Collects the members and options of a {@link LocalCluster}. */
    public static final class Builder {
        private final List<String> launcher;
        private final List<Member> members = new ArrayList<>();
        private Mode mode = Mode.ATTACHED;
        private boolean replicated = true;
        private String clusterName;
        private List<String> serverArgs = List.of();
        private final java.util.Map<String, List<String>> memberArgs = new java.util.HashMap<>();
        private long readyTimeoutMs = READY_TIMEOUT_MS_DEFAULT;
        private long stopGraceMs = STOP_GRACE_MS_DEFAULT;
        private Consumer<String> log = line -> { };

        private Builder(List<String> launcher) {
            if (launcher.isEmpty()) {
                throw new IllegalArgumentException("the launcher command is empty");
            }
            this.launcher = List.copyOf(launcher);
        }

        /**
         * Adds a member bound to {@code host}.
         *
         * @param httpPort the HTTP/JSON port, or 0 for none
         * @param dir the member's directory, created if missing; data in {@code dir/data}
         */
        public Builder member(String id, String host, int clientPort, int httpPort, int raftPort, Path dir) {
            return member(id, host, clientPort, httpPort, raftPort, dir, List.of());
        }

        /** As {@link #member(String, String, int, int, int, Path)}, run behind {@code commandPrefix}. */
        public Builder member(String id, String host, int clientPort, int httpPort, int raftPort, Path dir,
                              List<String> commandPrefix) {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(dir, "dir");
            for (Member m : members) {
                if (m.id.equals(id)) {
                    throw new IllegalArgumentException("two members are named " + id);
                }
            }
            members.add(new Member(members.size(), id, host, clientPort, httpPort, raftPort, dir, commandPrefix));
            return this;
        }

        /** {@link Mode#ATTACHED} (the default) or {@link Mode#DETACHED}. */
        public Builder mode(Mode mode) {
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /** Whether the members get {@code --id} and {@code --peers} (the default); false runs plain servers. */
        public Builder replicated(boolean replicated) {
            this.replicated = replicated;
            return this;
        }

        /** The members' {@code --cluster-name}; none (the server's default) unless set. */
        /** More arguments for every member's {@code txkv server} command, after those above (e.g. --shards 4). */
        public Builder serverArgs(List<String> args) {
            this.serverArgs = List.copyOf(args);
            return this;
        }

        /** More arguments for member {@code id}'s {@code txkv server} command alone, after every member's (e.g. --join). */
        public Builder memberArgs(String id, List<String> args) {
            memberArgs.put(Objects.requireNonNull(id, "id"), List.copyOf(args));
            return this;
        }

        public Builder clusterName(String clusterName) {
            this.clusterName = clusterName;
            return this;
        }

        /** How long {@link LocalCluster#start(int)} and {@link LocalCluster#startAll()} wait for readiness. */
        public Builder readyTimeoutMs(long readyTimeoutMs) {
            if (readyTimeoutMs <= 0) {
                throw new IllegalArgumentException("readyTimeoutMs must be positive, got " + readyTimeoutMs);
            }
            this.readyTimeoutMs = readyTimeoutMs;
            return this;
        }

        /** How long a graceful stop waits after SIGTERM before SIGKILL. */
        public Builder stopGraceMs(long stopGraceMs) {
            if (stopGraceMs < 0) {
                throw new IllegalArgumentException("stopGraceMs must not be negative, got " + stopGraceMs);
            }
            this.stopGraceMs = stopGraceMs;
            return this;
        }

        /** Where starts and forced stops are reported; nowhere unless set. */
        public Builder log(Consumer<String> log) {
            this.log = Objects.requireNonNull(log, "log");
            return this;
        }

        /**
         * The cluster, its members down; in {@link Mode#DETACHED} those whose pid file names a
         * running JVM are found running.
         *
         * @throws IllegalArgumentException without members, or with more than one member but
         *     not {@link #replicated}
         */
        public LocalCluster build() {
            if (members.isEmpty()) {
                throw new IllegalArgumentException("a cluster needs at least one member");
            }
            if (members.size() > 1 && !replicated) {
                throw new IllegalArgumentException(members.size() + " members need a replicated cluster (--peers)");
            }
            if (mode == Mode.DETACHED) {
                for (Member m : members) {
                    running(m.pidFile()).ifPresent(m::attached);
                }
            }
            return new LocalCluster(this);
        }
    }
}
