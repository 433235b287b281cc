package dev.txkv.server;

import dev.txkv.proto.Status;
import java.util.concurrent.CompletableFuture;

/** Answers the Status call. */
@FunctionalInterface
interface StatusProvider {
    /**
     * The status, with every member, or this member alone when {@code memberOnly}.
     */
    CompletableFuture<Status> status(boolean memberOnly);
}
