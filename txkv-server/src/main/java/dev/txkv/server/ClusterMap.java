package dev.txkv.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.txkv.ByteArrays;
import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.proto.ShardMapRecord;
import dev.txkv.proto.ShardRecord;
import dev.txkv.spi.ShardMap;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A sharded cluster's shard map as its control group keeps it (one key, a
 * {@code ShardMapRecord} of shard.proto): each shard's keys and members, and the shards a split
 * is making. Until the first split the control group holds none and the map is the layout's
 * initial one. Immutable; every change makes a map with a higher epoch.
 *
 * <p>A shard being made ({@link Entry#splittingFrom()} set) already has its replicas, but its
 * keys are still its parent's: {@link #routing()} folds it into its parent, so requests go there
 * until the split is done.
 *
 * @param epoch grows with every change
 * @param shards in key order
 * @param nextId the id the next new shard takes
 * @param excluded the members an operator excluded: no replica is placed there, those there move off
 * @param joined the members that joined after the cluster was created, with their addresses
 * @param founders the members the cluster was created with (empty in a map recorded before
 *     members could join: the layout's then)
 * @param merged the shards merges removed, newest last (at most {@link #MERGED_MAX}), each with
 *     the shard that absorbed it
 */
record ClusterMap(long epoch, List<ClusterMap.Entry> shards, int nextId, List<String> excluded,
        List<ClusterMap.Joined> joined, List<String> founders, List<ClusterMap.Merged> merged) {
    /** The control group's key of the map. */
    static final byte[] KEY = "\u00ff\u0002/shards/map".getBytes(StandardCharsets.ISO_8859_1);

    /**
     * One shard.
     *
     * @param splittingFrom the parent while a split makes this shard, else -1
     * @param splitReason while a split makes this shard: why it was split; else empty
     * @param movingTo while the shard's replicas move: the members they move to, else empty
     * @param moveReason while the shard's replicas move: why; else empty
     * @param mergingInto while the shard merges into its left neighbour: that shard's id, else -1
     * @param mergeAbsorbed while it merges: whether the left neighbour absorbed its keys (they
     *     are routed there)
     * @param mergeReason while it merges: why; else empty
     */
    record Entry(int id, byte[] begin, byte[] end, List<String> members, int splittingFrom, String splitReason,
            List<String> movingTo, String moveReason, int mergingInto, boolean mergeAbsorbed, String mergeReason) {
        Entry {
            members = List.copyOf(members);
            movingTo = List.copyOf(movingTo);
        }

        Entry(int id, byte[] begin, byte[] end, List<String> members) {
            this(id, begin, end, members, -1, "", List.of(), "", -1, false, "");
        }

        Entry(int id, byte[] begin, byte[] end, List<String> members, int splittingFrom, String splitReason) {
            this(id, begin, end, members, splittingFrom, splitReason, List.of(), "", -1, false, "");
        }

        Entry(int id, byte[] begin, byte[] end, List<String> members, int splittingFrom, String splitReason,
                List<String> movingTo, String moveReason) {
            this(id, begin, end, members, splittingFrom, splitReason, movingTo, moveReason, -1, false, "");
        }

        boolean merging() {
            return mergingInto >= 0;
        }

        boolean splitting() {
            return splittingFrom >= 0;
        }

        boolean moving() {
            return !movingTo.isEmpty();
        }

        /**
         * Every member that keeps (or is taking) a replica: the members, then those a move adds.
         * During a move the Raft group grows to all of them before it shrinks to {@link #movingTo}.
         */
        List<String> replicas() {
            if (movingTo.isEmpty()) {
                return members;
            }
            List<String> out = new ArrayList<>(members);
            for (String m : movingTo) {
                if (!out.contains(m)) {
                    out.add(m);
                }
            }
            return out;
        }

        /** The members a move adds (on none of them yet). */
        List<String> adding() {
            return movingTo.stream().filter(m -> !members.contains(m)).toList();
        }

        ShardMap.Shard shard() {
            return new ShardMap.Shard(id, begin, end);
        }
    }

    /**
     * A member that joined a running cluster ({@code txkv server --join}).
     *
     * @param raftAddress host:port of its Raft server
     * @param clientAddress host:port of its client service
     */
    record Joined(String id, String raftAddress, String clientAddress) {
    }

    /**
     * A shard a merge removed, and the shard that absorbed it.
     */
    record Merged(int id, int into) {
    }

    /** Removed shards the map remembers (their ids are never reused; older ones are forgotten). */
    static final int MERGED_MAX = 1_000;

    ClusterMap(long epoch, List<ClusterMap.Entry> shards, int nextId, List<String> excluded) {
        this(epoch, shards, nextId, excluded, List.of(), List.of(), List.of());
    }

    ClusterMap(long epoch, List<ClusterMap.Entry> shards, int nextId, List<String> excluded, List<Joined> joined,
            List<String> founders) {
        this(epoch, shards, nextId, excluded, joined, founders, List.of());
    }

    ClusterMap {
        shards = List.copyOf(shards);
        excluded = List.copyOf(excluded);
        joined = List.copyOf(joined);
        founders = List.copyOf(founders);
        merged = List.copyOf(merged);
        full(shards, epoch); // checks that the shards cover the keyspace
    }

    private static ShardMap full(List<Entry> entries, long epoch) {
        List<ShardMap.Shard> out = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            out.add(e.shard());
        }
        return new ShardMap(epoch, out);
    }

    /** The map of a new cluster: the layout's even split. */
    static ClusterMap initial(ShardLayout layout) {
        List<Entry> entries = new ArrayList<>();
        for (ShardMap.Shard s : layout.map().shards()) {
            entries.add(new Entry(s.id(), s.begin(), s.end(), layout.membersOf(s.id())));
        }
        return new ClusterMap(1, entries, layout.shards(), List.of(), List.of(), layout.members());
    }

    /** Every shard, those being made included. */
    ShardMap full() {
        return full(shards, epoch);
    }

    /**
     * The map requests are routed by: a shard being made is still part of its parent, and a
     * merging shard whose keys its left neighbour absorbed is part of that neighbour.
     */
    ShardMap routing() {
        List<ShardMap.Shard> out = new ArrayList<>(shards.size());
        for (Entry e : shards) {
            int into = e.splitting() ? e.splittingFrom() : e.merging() && e.mergeAbsorbed() ? e.mergingInto() : -1;
            if (into >= 0 && !out.isEmpty() && out.get(out.size() - 1).id() == into) {
                ShardMap.Shard parent = out.remove(out.size() - 1);
                out.add(new ShardMap.Shard(parent.id(), parent.begin(), e.end()));
            } else {
                out.add(e.shard());
            }
        }
        return new ShardMap(epoch, out);
    }

    /** The shard with this id, or null. */
    Entry byId(int id) {
        for (Entry e : shards) {
            if (e.id() == id) {
                return e;
            }
        }
        return null;
    }

    /** The first shard a split is making, or null. */
    Entry splitting() {
        return shards.stream().filter(Entry::splitting).findFirst().orElse(null);
    }

    /**
     * This map with the shard that holds {@code key} split at it: the keys from {@code key} on
     * go to a new shard on the same members, being made until {@link #born}; {@code reason}
     * says why, for status.
     *
     * @throws TxkvException invalid_option_value if {@code key} already begins a shard;
     *     operation_failed while another split is being made
     */
    ClusterMap split(byte[] key, String reason) {
        Entry busy = splitting();
        if (busy != null) {
            throw new TxkvException(ErrorCode.OPERATION_FAILED, "Shard " + busy.id() + " is still being split from shard "
                    + busy.splittingFrom() + "; one split at a time, try again shortly");
        }
        refuseWhileMerging();
        List<Entry> out = new ArrayList<>(shards.size() + 1);
        int parent = -1;
        for (Entry e : shards) {
            if (e.shard().contains(key)) {
                if (Arrays.equals(e.begin(), key)) {
                    throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "The key " + ByteArrays.printable(key)
                            + " already begins shard " + e.id() + "; nothing to split");
                }
                if (e.moving()) {
                    throw new TxkvException(ErrorCode.OPERATION_FAILED, "Shard " + e.id() + " is moving to "
                            + String.join(",", e.movingTo()) + "; split it once the move is done");
                }
                parent = e.id();
                out.add(new Entry(e.id(), e.begin(), key, e.members()));
                out.add(new Entry(nextId, key, e.end(), e.members(), e.id(), reason));
            } else {
                out.add(e);
            }
        }
        if (parent < 0) {
            throw new IllegalStateException("no shard holds " + ByteArrays.printable(key));
        }
        return new ClusterMap(epoch + 1, out, nextId + 1, excluded, joined, founders, merged);
    }

    /** Most replicas of a shard. */
    static final int REPLICAS_MAX = 5;

    /**
     * This map with shard {@code id} moving to {@code target} (its replicas end up on exactly
     * those members); {@code reason} says why, for status. A shard already moving takes the new
     * target instead (a target equal to its members cancels the move: the replicas being added
     * are dropped).
     *
     * @param known every member of the cluster
     * @throws TxkvException invalid_option_value for an unknown shard or member, a repeated
     *     member or a count outside 1 to {@value #REPLICAS_MAX}; operation_failed for a shard being
     *     made by a split, or nothing to move
     */
    ClusterMap move(int id, List<String> target, String reason, List<String> known) {
        Entry e = byId(id);
        if (e == null) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "No shard " + id + "; txkv shards lists them");
        }
        if (target.isEmpty() || target.size() > REPLICAS_MAX) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "A shard has 1 to " + REPLICAS_MAX
                    + " replicas; " + target.size() + " members given");
        }
        if (new java.util.HashSet<>(target).size() != target.size()) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "A member is named twice in " + target);
        }
        for (String m : target) {
            if (!known.contains(m)) {
                throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "No member '" + m + "' in the cluster (members: "
                        + String.join(", ", known) + ")");
            }
        }
        for (String m : target) {
            if (excluded.contains(m) && !e.replicas().contains(m)) {
                throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Member " + m + " is excluded; txkv include " + m
                        + " first");
            }
        }
        if (e.splitting()) {
            throw new TxkvException(ErrorCode.OPERATION_FAILED, "Shard " + id + " is still being made by a split from shard "
                    + e.splittingFrom() + "; move it once the split is done");
        }
        // The absorbing shard may move once it has absorbed (every new replica is copied from
        // one that holds the absorbed keys): so a member lost during a merge can be replaced.
        Entry m = merging();
        if (m != null && (m.id() == id || (m.mergingInto() == id && !m.mergeAbsorbed()))) {
            throw new TxkvException(ErrorCode.OPERATION_FAILED, "Shard " + id + " is merging (shard " + m.mergingInto()
                    + " absorbs shard " + m.id() + "); move it once the merge is done");
        }
        if (shards.stream().anyMatch(x -> x.splittingFrom() == id)) {
            throw new TxkvException(ErrorCode.OPERATION_FAILED, "Shard " + id + " is being split; move it once the split is done");
        }
        boolean same = new java.util.HashSet<>(target).equals(new java.util.HashSet<>(e.members()));
        if (same && !e.moving()) {
            throw new TxkvException(ErrorCode.OPERATION_FAILED, "Shard " + id + " is already on " + String.join(",", target)
                    + "; nothing to move");
        }
        List<Entry> out = new ArrayList<>(shards.size());
        for (Entry x : shards) {
            out.add(x.id() == id ? new Entry(x.id(), x.begin(), x.end(), x.members(), -1, "", target, reason) : x);
        }
        return new ClusterMap(epoch + 1, out, nextId, excluded, joined, founders, merged);
    }

    /** This map with the move of shard {@code id} done: its replicas are on the members it moved to. */
    ClusterMap moved(int id) {
        List<Entry> out = new ArrayList<>(shards.size());
        for (Entry e : shards) {
            out.add(e.id() == id && e.moving() ? new Entry(e.id(), e.begin(), e.end(), e.movingTo()) : e);
        }
        return new ClusterMap(epoch + 1, out, nextId, excluded, joined, founders, merged);
    }

    /**
     * This map with {@code member} excluded ({@code exclude}) or included again; the same map
     * when it already is.
     *
     * @param known every member of the cluster
     * @throws TxkvException invalid_option_value for an unknown member
     */
    ClusterMap exclude(String member, boolean exclude, List<String> known) {
        if (!known.contains(member)) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "No member '" + member + "' in the cluster (members: "
                    + String.join(", ", known) + ")");
        }
        if (excluded.contains(member) == exclude) {
            return this;
        }
        List<String> next = new ArrayList<>(excluded);
        if (exclude) {
            next.add(member);
        } else {
            next.remove(member);
        }
        return new ClusterMap(epoch + 1, shards, nextId, next, joined, founders, merged);
    }

    /**
     * Every member: the founding ones (the map's, or {@code layout}'s in a map recorded before
     * members could join), then those that joined.
     */
    List<String> members(List<String> layout) {
        List<String> out = new ArrayList<>(founders.isEmpty() ? layout : founders);
        for (Joined j : joined) {
            if (!out.contains(j.id())) {
                out.add(j.id());
            }
        }
        return out;
    }

    /** The joined member {@code id}, or null. */
    Joined joinedMember(String id) {
        return joined.stream().filter(j -> j.id().equals(id)).findFirst().orElse(null);
    }

    /**
     * This map with {@code member} joined; the same map when it already has, with the same
     * addresses.
     *
     * @param layout the founding members as the layout has them (for a map without them)
     * @throws TxkvException invalid_option_value when a member of that id is already in the
     *     cluster with other addresses, or is a founding one
     */
    ClusterMap join(Joined member, List<String> layout) {
        List<String> first = founders.isEmpty() ? layout : founders;
        if (first.contains(member.id())) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Member " + member.id()
                    + " is a founding member of the cluster; start it without --join");
        }
        Joined known = joinedMember(member.id());
        if (known != null) {
            if (known.equals(member)) {
                return this;
            }
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Member " + member.id() + " already joined with Raft"
                    + " address " + known.raftAddress() + " and client address " + known.clientAddress()
                    + "; a member keeps its addresses");
        }
        List<Joined> next = new ArrayList<>(joined);
        next.add(member);
        return new ClusterMap(epoch + 1, shards, nextId, excluded, next, first, merged);
    }

    /** The shard a merge is removing (its left neighbour absorbs it), or null. */
    Entry merging() {
        return shards.stream().filter(Entry::merging).findFirst().orElse(null);
    }

    private void refuseWhileMerging() {
        Entry m = merging();
        if (m != null) {
            throw new TxkvException(ErrorCode.OPERATION_FAILED, "Shard " + m.mergingInto() + " is absorbing shard " + m.id()
                    + "; one merge or split at a time, try again shortly");
        }
    }

    /**
     * This map with shard {@code left} merging with the shard after it: the right one gives its
     * keys to {@code left}, which absorbs them ({@link #absorbed}), and is removed once every
     * replica of {@code left} holds them ({@link #merged}). {@code reason} says why, for status.
     *
     * @throws TxkvException invalid_option_value for an unknown shard or the last one;
     *     operation_failed while a split, move or merge runs, or when the two shards' replicas
     *     are not on the same members
     */
    ClusterMap merge(int left, String reason) {
        int i = 0;
        while (i < shards.size() && shards.get(i).id() != left) {
            i++;
        }
        if (i == shards.size()) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "No shard " + left + "; txkv shards lists them");
        }
        if (i == shards.size() - 1) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Shard " + left
                    + " is the last shard: it has no right neighbour to absorb");
        }
        Entry l = shards.get(i);
        Entry r = shards.get(i + 1);
        if (r.merging() && r.mergingInto() == left) {
            return this;
        }
        refuseWhileMerging();
        Entry split = splitting();
        if (split != null) {
            throw new TxkvException(ErrorCode.OPERATION_FAILED, "Shard " + split.id() + " is still being split from shard "
                    + split.splittingFrom() + "; merge once the split is done");
        }
        for (Entry e : List.of(l, r)) {
            if (e.moving()) {
                throw new TxkvException(ErrorCode.OPERATION_FAILED, "Shard " + e.id() + " is moving to "
                        + String.join(",", e.movingTo()) + "; merge once the move is done");
            }
        }
        if (!new java.util.HashSet<>(l.members()).equals(new java.util.HashSet<>(r.members()))) {
            throw new TxkvException(ErrorCode.OPERATION_FAILED, "Shards " + left + " and " + r.id()
                    + " have their replicas on different members (" + String.join(",", l.members()) + " and "
                    + String.join(",", r.members()) + "); move one onto the other's members first (txkv move)");
        }
        List<Entry> out = new ArrayList<>(shards);
        out.set(i + 1, new Entry(r.id(), r.begin(), r.end(), r.members(), -1, "", List.of(), "", left, false, reason));
        return new ClusterMap(epoch + 1, out, nextId, excluded, joined, founders, merged);
    }

    /** This map with the keys of merging shard {@code id} absorbed by its left neighbour: routed there from now on. */
    ClusterMap absorbed(int id) {
        List<Entry> out = new ArrayList<>(shards.size());
        for (Entry e : shards) {
            out.add(e.id() == id && e.merging() && !e.mergeAbsorbed() ? new Entry(e.id(), e.begin(), e.end(), e.members(),
                    -1, "", List.of(), "", e.mergingInto(), true, e.mergeReason()) : e);
        }
        return new ClusterMap(epoch + 1, out, nextId, excluded, joined, founders, merged);
    }

    /** This map with merging shard {@code id} removed: its left neighbour holds its keys. The same map if it is gone. */
    ClusterMap merged(int id) {
        Entry gone = byId(id);
        if (gone == null || !gone.merging()) {
            return this;
        }
        List<Entry> out = new ArrayList<>(shards.size());
        for (Entry e : shards) {
            if (e.id() == gone.mergingInto()) {
                out.add(new Entry(e.id(), e.begin(), gone.end(), e.members()));
            } else if (e.id() != id) {
                out.add(e);
            }
        }
        List<Merged> removed = new ArrayList<>(merged);
        removed.add(new Merged(id, gone.mergingInto()));
        while (removed.size() > MERGED_MAX) {
            removed.remove(0);
        }
        return new ClusterMap(epoch + 1, out, nextId, excluded, joined, founders, removed);
    }

    /**
     * The shard that holds the keys of shard {@code id} now: itself while it is in the map, the
     * shard that absorbed it (as far as the map remembers) once a merge removed it; -1 if none.
     */
    int holderOf(int id) {
        int current = id;
        for (int hops = 0; hops <= merged.size(); hops++) {
            if (byId(current) != null) {
                return current;
            }
            int next = -1;
            for (Merged m : merged) {
                if (m.id() == current) {
                    next = m.into();
                }
            }
            if (next < 0) {
                return -1;
            }
            current = next;
        }
        return -1;
    }

    /** Whether a merge removed shard {@code id} (as far as the map remembers). */
    boolean wasMerged(int id) {
        return merged.stream().anyMatch(m -> m.id() == id);
    }

    /** The first shard whose replicas are moving, or null. */
    Entry moving() {
        return shards.stream().filter(Entry::moving).findFirst().orElse(null);
    }

    /** This map with shard {@code id} made: it serves its keys from now on. */
    ClusterMap born(int id) {
        List<Entry> out = new ArrayList<>(shards.size());
        for (Entry e : shards) {
            out.add(e.id() == id ? new Entry(e.id(), e.begin(), e.end(), e.members()) : e);
        }
        return new ClusterMap(epoch + 1, out, nextId, excluded, joined, founders, merged);
    }

    ShardMapRecord toProto() {
        ShardMapRecord.Builder b = ShardMapRecord.newBuilder().setEpoch(epoch).setNextId(nextId).addAllExcluded(excluded)
                .addAllFounders(founders);
        for (Joined j : joined) {
            b.addJoined(dev.txkv.proto.JoinedMember.newBuilder().setId(j.id()).setRaftAddress(j.raftAddress())
                    .setClientAddress(j.clientAddress()));
        }
        for (Entry e : shards) {
            ShardRecord.Builder r = ShardRecord.newBuilder().setId(e.id()).setBegin(ByteString.copyFrom(e.begin()))
                    .addAllMembers(e.members());
            if (e.end() != null) {
                r.setEnd(ByteString.copyFrom(e.end()));
            }
            if (e.splitting()) {
                r.setSplittingFrom(e.splittingFrom()).setSplitReason(e.splitReason());
            }
            if (e.moving()) {
                r.addAllMovingTo(e.movingTo()).setMoveReason(e.moveReason());
            }
            if (e.merging()) {
                r.setMergingInto(e.mergingInto()).setMergeAbsorbed(e.mergeAbsorbed()).setMergeReason(e.mergeReason());
            }
            b.addShards(r);
        }
        for (Merged m : merged) {
            b.addMerged(dev.txkv.proto.MergedShard.newBuilder().setId(m.id()).setInto(m.into()));
        }
        return b.build();
    }

    static ClusterMap fromProto(ShardMapRecord record) {
        List<Entry> entries = new ArrayList<>(record.getShardsCount());
        for (ShardRecord r : record.getShardsList()) {
            entries.add(new Entry(r.getId(), r.getBegin().toByteArray(), r.hasEnd() ? r.getEnd().toByteArray() : null,
                    r.getMembersList(), r.hasSplittingFrom() ? r.getSplittingFrom() : -1,
                    r.hasSplittingFrom() ? r.getSplitReason() : "", r.getMovingToList(),
                    r.getMovingToCount() > 0 ? r.getMoveReason() : "", r.hasMergingInto() ? r.getMergingInto() : -1,
                    r.hasMergingInto() && r.getMergeAbsorbed(), r.hasMergingInto() ? r.getMergeReason() : ""));
        }
        List<Merged> merged = new ArrayList<>(record.getMergedCount());
        for (dev.txkv.proto.MergedShard m : record.getMergedList()) {
            merged.add(new Merged(m.getId(), m.getInto()));
        }
        try {
            List<Joined> joined = new ArrayList<>(record.getJoinedCount());
            for (dev.txkv.proto.JoinedMember j : record.getJoinedList()) {
                joined.add(new Joined(j.getId(), j.getRaftAddress(), j.getClientAddress()));
            }
            return new ClusterMap(record.getEpoch(), entries, record.getNextId(), record.getExcludedList(), joined,
                    record.getFoundersList(), merged);
        } catch (IllegalArgumentException e) {
            throw new TxkvException(ErrorCode.DATA_DIRECTORY_INVALID, "A corrupt shard map: " + e.getMessage(), e);
        }
    }

    byte[] encode() {
        return toProto().toByteArray();
    }

    /** The stored map, or null when none is stored. */
    static ClusterMap decode(byte[] stored) {
        if (stored == null) {
            return null;
        }
        try {
            return fromProto(ShardMapRecord.parseFrom(stored));
        } catch (InvalidProtocolBufferException e) {
            throw new TxkvException(ErrorCode.DATA_DIRECTORY_INVALID, "A corrupt shard map: " + e.getMessage(), e);
        }
    }
}
