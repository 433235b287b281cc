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
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which failed appends certainly never entered the Raft log (refused) and which are of unknown outcome. */
class AppendFailureTest {
    private static final RaftGroupMemberId MEMBER = RaftGroupMemberId.valueOf(RaftPeerId.valueOf("a"), RaftGroupId.randomId());

    private static TxkvException failure(RaftException e) {
        return RaftReplica.appendFailure(RaftClientReply.newBuilder().setClientId(ClientId.randomId()).setServerId(MEMBER)
                .setCallId(1).setException(e).build());
    }

    @Test
    void everyFailedAppendLeavesTheOutcomeUnknown() {
        // Refusals before the log are not reported as such yet (see RaftReplica.appendFailure).
        for (TxkvException e : List.of(failure(new LeaderNotReadyException(MEMBER)),
                failure(new LeaderSteppingDownException("handing over")),
                failure(new NotLeaderException(MEMBER, null, List.of())),
                RaftReplica.appendFailure(new java.util.concurrent.CompletionException(
                        new ResourceUnavailableException("too many pending"))),
                RaftReplica.appendFailure(new java.io.IOException("connection reset")))) {
            assertThat(e).isNotInstanceOf(CommitLog.Refused.class);
            assertThat(e.getError()).isEqualTo(ErrorCode.COMMIT_UNKNOWN_RESULT);
            assertThat(CommitLog.refusal(e)).isNull();
        }
    }
}
