package dev.txkv.lease;

/**
 * A granted lease: {@code holder} owns {@code name} until {@code expiresAtMs} under
 * {@code fencingToken}. Pass the token to {@link LeaseManager#checkFence} in every
 * transaction with side effects, so the holder's writes stop the moment anyone else acquires.
 *
 * @param name the leased name
 * @param holder who holds it
 * @param fencingToken the token of this acquisition: larger than every earlier one for {@code name}
 * @param expiresAtMs when the lease lapses, by the lease manager's clock
 */
public record Lease(String name, String holder, long fencingToken, long expiresAtMs) {
}
