package dev.txkv.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.engine.CommitLog;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.junit.jupiter.api.Test;

/** Which failed appends certainly never entered the Raft log (refused) and which are of unknown outcome. */
class AppendFailureTest {
    private static final RaftGroupMemberId MEMBER = RaftGroupMemberId.valueOf(RaftPeerId.valueOf("a"), RaftGroupId.randomId());

    private static TxkvException failure(RaftException e) {
        return RaftReplica.appendFailure(RaftClientReply.newBuilder().setClientId(ClientId.randomId()).setServerId(MEMBER)
                .setCallId(1).setException(e).build());
    }

    @Test
    void refusalsBeforeTheLogAreCertainAndEverythingElseIsUnknown() {
        TxkvException notReady = failure(new LeaderNotReadyException(MEMBER));
        assertThat(notReady).isInstanceOf(CommitLog.Refused.class);
        assertThat(notReady.getError()).isEqualTo(ErrorCode.NOT_LEADER);
        assertThat(failure(new LeaderSteppingDownException("handing over"))).isInstanceOf(CommitLog.Refused.class);
        // Too many pending appends: Ratis fails the future itself, with no reply.
        TxkvException busy = RaftReplica.appendFailure(new java.util.concurrent.CompletionException(
                new ResourceUnavailableException("too many pending")));
        assertThat(busy).isInstanceOf(CommitLog.Refused.class);
        assertThat(busy.getError()).isEqualTo(ErrorCode.PROXY_MEMORY_LIMIT_EXCEEDED);
        assertThat(busy.isRetryable()).isTrue();
        // A leader that steps down fails appends already in its log: the next leader may commit them.
        TxkvException stepped = failure(new NotLeaderException(MEMBER, null, java.util.List.of()));
        assertThat(stepped).isNotInstanceOf(CommitLog.Refused.class);
        assertThat(stepped.getError()).isEqualTo(ErrorCode.COMMIT_UNKNOWN_RESULT);
        assertThat(CommitLog.refusal(new java.util.concurrent.CompletionException(notReady))).isSameAs(notReady);
        assertThat(CommitLog.refusal(stepped)).isNull();
        assertThat(RaftReplica.appendFailure(new java.io.IOException("connection reset")).getError())
                .isEqualTo(ErrorCode.COMMIT_UNKNOWN_RESULT);
    }
}
