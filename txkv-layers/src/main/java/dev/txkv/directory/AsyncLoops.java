package dev.txkv.directory;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Loops over asynchronous steps. Steps that complete at once are run in a plain loop rather
 * than by nesting callbacks, so a long loop cannot overflow the stack.
 */
final class AsyncLoops {
    private AsyncLoops() {
    }

    /** Runs {@code body} until its future completes with false (or fails). */
    static CompletableFuture<Void> whileTrue(Supplier<CompletableFuture<Boolean>> body) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop(body, done);
        return done;
    }

    private static void loop(Supplier<CompletableFuture<Boolean>> body, CompletableFuture<Void> done) {
        while (true) {
            CompletableFuture<Boolean> step;
            try {
                step = body.get();
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
                return;
            }
            if (step.isDone() && !step.isCompletedExceptionally()) {
                if (!step.join()) {
                    done.complete(null);
                    return;
                }
                continue;
            }
            step.whenComplete((more, error) -> {
                if (error != null) {
                    done.completeExceptionally(unwrap(error));
                } else if (more) {
                    loop(body, done);
                } else {
                    done.complete(null);
                }
            });
            return;
        }
    }

    /** Runs {@code step} on each item in order, each after the previous has completed. */
    static <T> CompletableFuture<Void> forEach(List<T> items, Function<T, CompletableFuture<Void>> step) {
        int[] next = {0};
        return whileTrue(() -> {
            if (next[0] >= items.size()) {
                return CompletableFuture.completedFuture(false);
            }
            return step.apply(items.get(next[0]++)).thenApply(v -> true);
        });
    }

    /** A future that fails with {@code error}, for failing fast without throwing from an async method. */
    static <T> CompletableFuture<T> failed(Throwable error) {
        return CompletableFuture.failedFuture(error);
    }

    static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    }
}
