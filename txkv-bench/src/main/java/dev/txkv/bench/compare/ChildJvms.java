package dev.txkv.bench.compare;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The client JVMs bench compare runs (YCSB, the etcd driver) while they run; a shutdown hook
 * (Ctrl-C, SIGTERM) stops those still running, with their children, as {@link Peers} stops the
 * systems.
 */
final class ChildJvms {
    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(ChildJvms::kill), "child-jvm-cleanup"));
    }

    private ChildJvms() {
    }

    /** Remembers {@code process} until {@link #stop}. */
    static Process track(Process process) {
        RUNNING.add(process);
        return process;
    }

    /** Kills {@code process} and its children if still running, and forgets it. */
    static void stop(Process process) {
        kill(process);
        RUNNING.remove(process);
    }

    private static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }
}
