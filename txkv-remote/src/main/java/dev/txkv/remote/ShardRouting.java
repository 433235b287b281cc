package dev.txkv.remote;

import dev.txkv.proto.Status;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.ShardMap;
import dev.txkv.spi.ShardRouter;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a client of a sharded cluster sends each call so that the server it reaches needs no
 * hop (docs/sharding.md, "Clients"). Every server of a sharded cluster serves the whole
 * keyspace and forwards what it does not lead; a client that knows the leaders saves those
 * forwards:
 *
 * <ul>
 * <li>read versions, and the reads and watches at them, go to the server that runs the
 * sequencer (a read version is valid on the server that handed it out, so they all go to one
 * server, which changes only when the sequencer moves);
 * <li>each commit goes to the server that leads its home shard ({@link ShardRouter#home}); every
 * attempt with one idempotency id goes where its first went, which remembers its outcome.
 * </ul>
 *
 * <p>The view comes from a server's own status (Status.cluster.shards and .sequencer with their
 * leaders' addresses) and is a hint only: a server that no longer leads forwards, a server that
 * cannot be reached drops the view until the next refresh. Only the servers of the connection
 * string are used: a leader whose address is not among them is reached through the preferred
 * server, as without routing. Thread-safe.
 */
final class ShardRouting {
    /** How old a view may grow while calls are made before it is asked for again. */
    static final long REFRESH_NANOS = 1_000_000_000L;
    /** Idempotency ids whose commit's server is remembered, at most. */
    static final int REMEMBERED_MAX = 10_000;

    /** What is known: the map, each shard's leader's endpoint (-1: none), the sequencer's. */
    record View(ShardMap map, int[] leaderEndpoints, int sequencerEndpoint, long atNanos) {
    }

    private final List<String> endpoints;
    private volatile View view;
    /** Set once a server said it is not sharded: nothing to route, nothing to ask again. */
    private volatile boolean unsharded;
    private final Map<ByteBuffer, Integer> byId = new LinkedHashMap<>(64, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ByteBuffer, Integer> eldest) {
            return size() > REMEMBERED_MAX;
        }
    };

    /** @param endpoints the connection string's servers, as {@code host:port}, in order */
    ShardRouting(List<String> endpoints) {
        this.endpoints = List.copyOf(endpoints);
    }

    /** Whether the view should be (re)learned now: none yet or one older than {@link #REFRESH_NANOS}. */
    boolean due(long nowNanos) {
        View v = view;
        return !unsharded && (v == null || nowNanos - v.atNanos() > REFRESH_NANOS);
    }

    /** Routes nothing and asks no more: the client may not read the status it would learn from. */
    void stopAsking() {
        unsharded = true;
        view = null;
    }

    /** Learns the view from a server's status (taken at {@code nowNanos}). */
    void learn(Status status, long nowNanos) {
        List<Status.Shard> shards = status.getCluster().getShardsList();
        if (shards.isEmpty()) {
            unsharded = true;
            view = null;
            return;
        }
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < endpoints.size(); i++) {
            index.put(endpoints.get(i), i);
        }
        List<ShardMap.Shard> ranges = new ArrayList<>(shards.size());
        int maxId = 0;
        for (Status.Shard s : shards) {
            maxId = Math.max(maxId, s.getId());
        }
        int[] leaders = new int[maxId + 1];
        java.util.Arrays.fill(leaders, -1);
        for (Status.Shard s : shards) {
            byte[] end = s.getEnd().isEmpty() ? null : s.getEnd().toByteArray();
            ranges.add(new ShardMap.Shard(s.getId(), s.getBegin().toByteArray(), end));
            leaders[s.getId()] = index.getOrDefault(s.getLeaderAddress(), -1);
        }
        ShardMap map;
        try {
            map = new ShardMap(0, ranges);
        } catch (IllegalArgumentException e) {
            // Not a map this client understands (a newer server): route nothing.
            view = null;
            return;
        }
        int sequencer = index.getOrDefault(status.getCluster().getSequencer().getLeaderAddress(), -1);
        view = new View(map, leaders, sequencer, nowNanos);
    }

    /** Forgets the view (a routed server could not be reached); calls go to the preferred server until the next. */
    void forget() {
        View v = view;
        if (v != null) {
            view = new View(v.map(), new int[0], -1, v.atNanos() - REFRESH_NANOS - 1);
        }
    }

    /** The endpoint for read versions and the reads and watches at them; {@code preferred} when not known. */
    int readEndpoint(int preferred) {
        View v = view;
        return v == null || v.sequencerEndpoint() < 0 ? preferred : v.sequencerEndpoint();
    }

    /** The endpoint for {@code request}: its first attempt's, else its home shard's leader's; {@code preferred} when not known. */
    int commitEndpoint(CommitRequest request, int preferred) {
        byte[] id = request.idempotencyId();
        if (id != null) {
            synchronized (byId) {
                Integer first = byId.get(ByteBuffer.wrap(id));
                if (first != null) {
                    return first;
                }
            }
        }
        int chosen = preferred;
        View v = view;
        if (v != null) {
            try {
                int home = ShardRouter.home(v.map(), request);
                if (home < v.leaderEndpoints().length && v.leaderEndpoints()[home] >= 0) {
                    chosen = v.leaderEndpoints()[home];
                }
            } catch (RuntimeException e) {
                // A commit the server refuses anyway: it may as well refuse it at the preferred server.
            }
        }
        if (id != null) {
            synchronized (byId) {
                Integer first = byId.putIfAbsent(ByteBuffer.wrap(id.clone()), chosen);
                return first != null ? first : chosen;
            }
        }
        return chosen;
    }

    /** The current view, for tests and diagnostics; null when none. */
    View view() {
        return view;
    }

    boolean unsharded() {
        return unsharded;
    }
}
