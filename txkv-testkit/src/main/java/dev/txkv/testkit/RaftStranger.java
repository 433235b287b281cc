package dev.txkv.testkit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

/**
 * A stranger on the Raft port: a plain Apache Ratis client with no credentials, pointed at
 * every member's Raft address and the group id that follows from the cluster name, trying
 * what such a client can try. It sends each member 16 bytes of garbage and a well-formed commit
 * batch (built from the record layout docs/replication.md publishes) that would set
 * {@code forgedKey}, asks to shrink the membership to one member, to hand leadership over, and
 * to remove the group with its directory. A txkv cluster must refuse every attempt and go on
 * committing; nothing forged may ever be readable.
 */
public final class RaftStranger {
    private static final long TIMEOUT_MS = 3_000;

    /** One attempt and what came of it. */
    public record Attempt(String what, String member, boolean refused, String answer) {
    }

    private RaftStranger() {
    }

    /** The Raft group id of the txkv cluster named {@code clusterName}. */
    public static RaftGroupId groupOf(String clusterName) {
        return RaftGroupId.valueOf(UUID.nameUUIDFromBytes(("txkv-cluster:" + clusterName).getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Tries every attack on every member ({@code members}: id to Raft "host:port"). Bounded: each
     * call gives up after a few seconds and nothing is retried.
     */
    public static List<Attempt> attack(String clusterName, Map<String, String> members, byte[] forgedKey) {
        List<RaftPeer> peers = new ArrayList<>();
        members.forEach((id, address) -> peers.add(RaftPeer.newBuilder().setId(id).setAddress(address).build()));
        RaftGroup group = RaftGroup.valueOf(groupOf(clusterName), peers);
        RaftProperties properties = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(properties, TimeDuration.valueOf(TIMEOUT_MS, TimeUnit.MILLISECONDS));
        RaftClientConfigKeys.Async.setOutstandingRequestsMax(properties, 4);
        List<Attempt> attempts = new ArrayList<>();
        byte[] garbage = new byte[16];
        new java.util.Random(16).nextBytes(garbage);
        byte[] forged = forgedBatch(forgedKey);
        for (RaftPeer peer : peers) {
            try (RaftClient client = RaftClient.newBuilder().setRaftGroup(group).setLeaderId(peer.getId())
                    .setProperties(properties).setRetryPolicy(RetryPolicies.noRetry()).build()) {
                String member = peer.getId().toString();
                attempts.add(attempt("garbage log entry", member, () -> client.io().send(Message.valueOf(
                        ByteString.copyFrom(garbage)))));
                attempts.add(attempt("forged commit batch", member, () -> client.io().send(Message.valueOf(
                        ByteString.copyFrom(forged)))));
                attempts.add(attempt("membership change", member, () -> client.admin().setConfiguration(
                        List.of(peer))));
                attempts.add(attempt("leadership transfer", member, () -> client.admin().transferLeadership(
                        peers.get((peers.indexOf(peer) + 1) % peers.size()).getId(), TIMEOUT_MS)));
                attempts.add(attempt("group removal", member, () -> client.getGroupManagementApi(peer.getId())
                        .remove(group.getGroupId(), true, false)));
            } catch (IOException | RuntimeException e) {
                attempts.add(new Attempt("connect", peer.getId().toString(), true, String.valueOf(e)));
            }
        }
        return attempts;
    }

    private interface Call {
        RaftClientReply send() throws IOException;
    }

    private static Attempt attempt(String what, String member, Call call) {
        try {
            RaftClientReply reply = call.send();
            return new Attempt(what, member, !reply.isSuccess(), reply.isSuccess() ? "accepted"
                    : String.valueOf(reply.getException()));
        } catch (IOException | RuntimeException e) {
            return new Attempt(what, member, true, String.valueOf(e));
        }
    }

    /**
     * A commit batch record in txkv's published layout (magic 'T', format 1, commit version,
     * commit time, one transaction with one set mutation, CRC32C) setting {@code key} to
     * "forged", at a version far ahead so that a replica would accept it as the next batch.
     */
    public static byte[] forgedBatch(byte[] key) {
        byte[] value = "forged".getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(22 + 2 + 1 + 4 + 1 + 4 + key.length + 4 + value.length + 4);
        b.put((byte) 0x54).put((byte) 1).putLong(Long.MAX_VALUE / 4).putLong(System.currentTimeMillis()).putInt(1);
        b.putShort((short) 0).put((byte) 0).putInt(1);
        b.put((byte) 0).putInt(key.length).put(key).putInt(value.length).put(value);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return b.array();
    }
}
