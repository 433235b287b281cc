package dev.txkv.spi;

import dev.txkv.Range;
import java.util.List;

/**
 * Everything a transaction sends to commit: the servers keep no per-transaction state.
 *
 * @param readVersion the version the transaction read at; -1 if it read nothing
 * @param readConflicts ranges whose change since readVersion aborts the commit
 * @param writeConflicts ranges this commit counts as written, for later transactions
 * @param mutations the writes, in the order the transaction made them
 * @param idempotencyId null, or an id under which the outcome is remembered for retries
 * @param reportConflictingKeys whether a conflict reports which read ranges met a newer write
 */
public record CommitRequest(long readVersion, List<Range> readConflicts, List<Range> writeConflicts,
        List<Mutation> mutations, byte[] idempotencyId, boolean reportConflictingKeys) {
}
