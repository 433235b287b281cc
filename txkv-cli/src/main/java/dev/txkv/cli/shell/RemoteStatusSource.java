package dev.txkv.cli.shell;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.proto.Status;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Asks the servers of a connection string for the cluster's status through the remote
 * client's {@code dev.txkv.remote.RemoteStatus.fetch(String, Duration)}.
 *
 * <p>Why by name and not by a compile-time call: txkv-server depends on this module (it
 * contributes {@code txkv server}), and txkv-remote's tests depend on txkv-server, so a Maven
 * dependency from here on txkv-remote, of any scope, is a cycle the reactor refuses. The
 * method is looked up once, at first use, and a missing remote client gets the same error as
 * {@code Txkv.open} gives. A status call in the API's SPI ({@code RemoteProvider}) would make
 * this class unnecessary.
 */
public final class RemoteStatusSource implements StatusSource {
    static final String REMOTE_STATUS_CLASS = "dev.txkv.remote.RemoteStatus";

    private final String connection;
    private MethodHandle fetch;
    private MethodHandle setMembers;

    /** A source asking the servers of {@code connection} ({@code host:port[,host:port...]}). */
    public RemoteStatusSource(String connection) {
        this.connection = Objects.requireNonNull(connection, "connection");
    }

    @Override
    public Status fetch(Duration timeout) {
        MethodHandle handle = handle();
        try {
            return (Status) handle.invokeExact(connection, timeout);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            // fetch declares no checked exception; keep the cause rather than lose it.
            throw new TxkvException(ErrorCode.INTERNAL_ERROR, "status failed: " + e, e);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public Map<String, String> setMembers(Map<String, String> members, Duration timeout) {
        MethodHandle handle = setMembersHandle();
        try {
            return (Map<String, String>) handle.invokeExact(connection, members, timeout);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new TxkvException(ErrorCode.INTERNAL_ERROR, "members failed: " + e, e);
        }
    }

    private synchronized MethodHandle setMembersHandle() {
        if (setMembers == null) {
            try {
                Class<?> remoteStatus = Class.forName(REMOTE_STATUS_CLASS, true, RemoteStatusSource.class.getClassLoader());
                setMembers = MethodHandles.publicLookup().findStatic(remoteStatus, "setMembers",
                        MethodType.methodType(Map.class, String.class, Map.class, Duration.class));
            } catch (ClassNotFoundException | NoSuchMethodException | IllegalAccessException e) {
                throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                        "No remote client on the class path: add the dev.txkv:txkv-remote artifact (" + e + ")");
            }
        }
        return setMembers;
    }

    private synchronized MethodHandle handle() {
        if (fetch == null) {
            try {
                Class<?> remoteStatus = Class.forName(REMOTE_STATUS_CLASS, true, RemoteStatusSource.class.getClassLoader());
                fetch = MethodHandles.publicLookup().findStatic(remoteStatus, "fetch",
                        MethodType.methodType(Status.class, String.class, Duration.class));
            } catch (ClassNotFoundException | NoSuchMethodException | IllegalAccessException e) {
                throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                        "No remote client on the class path: add the dev.txkv:txkv-remote artifact (" + e + ")");
            }
        }
        return fetch;
    }
}
