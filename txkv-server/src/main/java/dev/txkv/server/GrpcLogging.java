package dev.txkv.server;

import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps hostile input from flooding the log. gRPC logs every request message that fails to
 * parse as a SEVERE stack trace (through java.util.logging), although it already answers the
 * call with INTERNAL "Invalid protobuf byte sequence"; a client sending garbage could fill
 * the disk. Those two executor loggers are turned off; the loggers are held here because
 * java.util.logging keeps only weak references, and a collected logger forgets its level.
 */
final class GrpcLogging {
    private static final List<Logger> QUIETED = List.of(
            Logger.getLogger("io.grpc.internal.SerializeReentrantCallsDirectExecutor"),
            Logger.getLogger("io.grpc.internal.SerializingExecutor"));

    private GrpcLogging() {
    }

    static void quietMalformedRequestTraces() {
        for (Logger logger : QUIETED) {
            logger.setLevel(Level.OFF);
        }
    }
}
