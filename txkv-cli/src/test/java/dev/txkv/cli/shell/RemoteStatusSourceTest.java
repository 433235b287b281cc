package dev.txkv.cli.shell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.proto.AuthDescription;
import dev.txkv.proto.ChangeAuthRequest;
import dev.txkv.proto.Status;
import dev.txkv.proto.UserDescription;
import dev.txkv.spi.RemoteAdminProvider;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class RemoteStatusSourceTest {
    /** Records what it was asked and answers from the arguments. */
    private static final class FakeProvider implements RemoteAdminProvider {
        @Override
        public byte[] status(String connection, Duration timeout) {
            return Status.newBuilder().setAnsweredBy(connection).setTimestampMs(timeout.toMillis()).build().toByteArray();
        }

        @Override
        public Map<String, String> setMembers(String connection, Map<String, String> members, Duration timeout) {
            return Map.of("connection", connection, "members", String.valueOf(members.size()));
        }

        @Override
        public byte[] changeAuth(String connection, byte[] request, Duration timeout) {
            try {
                String added = ChangeAuthRequest.parseFrom(request).getUserAdd().getName();
                return AuthDescription.newBuilder().addUsers(UserDescription.newBuilder().setName(added))
                        .addUsers(UserDescription.newBuilder().setName(connection)).build().toByteArray();
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public byte[] describeAuth(String connection, Duration timeout) {
            return timeout.toMillis() == 1 ? new byte[] {(byte) 0xFF}
                    : AuthDescription.newBuilder().setEnabled(true).build().toByteArray();
        }

        @Override
        public byte[] split(String connection, byte[] key, Duration timeout) {
            return dev.txkv.proto.SplitResponse.newBuilder().setShard(key.length).build().toByteArray();
        }

        @Override
        public byte[] exclude(String connection, String member, boolean include, Duration timeout) {
            return dev.txkv.proto.ExcludeResponse.newBuilder().setMap(dev.txkv.proto.ShardMapRecord.newBuilder()
                    .addExcluded(include ? "" : member)).build().toByteArray();
        }

        @Override
        public byte[] move(String connection, int shard, java.util.List<String> members, String reason,
                Duration timeout) {
            return dev.txkv.proto.MoveResponse.newBuilder().setMap(dev.txkv.proto.ShardMapRecord.newBuilder()
                    .setNextId(shard).setEpoch(members.size())).build().toByteArray();
        }

        @Override
        public byte[] merge(String connection, int shard, String reason, Duration timeout) {
            return dev.txkv.proto.MergeResponse.newBuilder().setShard(shard).setAbsorbed(shard + 1)
                    .setMap(dev.txkv.proto.ShardMapRecord.newBuilder().setEpoch(timeout.toMillis())).build()
                    .toByteArray();
        }
    }

    @Test
    void theRemoteClientIsFoundThroughServiceLoader() {
        assertThat(ServiceLoader.load(RemoteAdminProvider.class).findFirst())
                .as("txkv-remote registers a RemoteAdminProvider").isPresent();
    }

    @Test
    void callsGoToTheFirstProvider() {
        RemoteStatusSource source = new RemoteStatusSource("127.0.0.1:4500", List.of(new FakeProvider()));
        Status status = source.fetch(Duration.ofMillis(1500));
        assertThat(status.getAnsweredBy()).isEqualTo("127.0.0.1:4500");
        assertThat(status.getTimestampMs()).isEqualTo(1500);
        assertThat(source.setMembers(Map.of("a", "127.0.0.1:4502"), Duration.ofSeconds(1)))
                .containsEntry("connection", "127.0.0.1:4500").containsEntry("members", "1");
    }

    @Test
    void exclusionsGoToTheProvider() throws com.google.protobuf.InvalidProtocolBufferException {
        RemoteStatusSource source = new RemoteStatusSource("127.0.0.1:4500", List.of(new FakeProvider()));
        assertThat(dev.txkv.proto.ExcludeResponse.parseFrom(source.exclude("b", false, Duration.ofSeconds(1)))
                .getMap().getExcludedList()).containsExactly("b");
        assertThat(dev.txkv.proto.ExcludeResponse.parseFrom(source.exclude("b", true, Duration.ofSeconds(1)))
                .getMap().getExcludedList()).containsExactly("");
    }

    @Test
    void mergesGoToTheProvider() throws com.google.protobuf.InvalidProtocolBufferException {
        RemoteStatusSource source = new RemoteStatusSource("127.0.0.1:4500", List.of(new FakeProvider()));
        dev.txkv.proto.MergeResponse r = dev.txkv.proto.MergeResponse.parseFrom(source.merge(3, "", Duration.ofSeconds(2)));
        assertThat(r.getShard()).isEqualTo(3);
        assertThat(r.getAbsorbed()).isEqualTo(4);
        assertThat(r.getMap().getEpoch()).isEqualTo(2000);
    }

    @Test
    void usersAndRolesGoToTheProviderSerialized() {
        RemoteStatusSource source = new RemoteStatusSource("127.0.0.1:4500", List.of(new FakeProvider()));
        AuthDescription after = source.changeAuth(ChangeAuthRequest.newBuilder()
                .setUserAdd(dev.txkv.proto.UserAdd.newBuilder().setName("alice")).build(), Duration.ofSeconds(1));
        assertThat(after.getUsersList()).extracting(UserDescription::getName).containsExactly("alice", "127.0.0.1:4500");
        assertThat(source.describeAuth(Duration.ofSeconds(1)).getEnabled()).isTrue();
        assertThatThrownBy(() -> source.describeAuth(Duration.ofMillis(1)))
                .isInstanceOfSatisfying(TxkvException.class, e -> assertThat(e.getError()).isEqualTo(ErrorCode.INTERNAL_ERROR))
                .hasMessageContaining("users and roles that do not parse");
    }

    @Test
    void noProviderIsAClearError() {
        RemoteStatusSource source = new RemoteStatusSource("127.0.0.1:4500", List.of());
        assertThatThrownBy(() -> source.fetch(Duration.ofSeconds(1)))
                .isInstanceOfSatisfying(TxkvException.class,
                        e -> assertThat(e.getError()).isEqualTo(ErrorCode.CLIENT_INVALID_OPERATION))
                .hasMessageContaining("No remote client on the class path")
                .hasMessageContaining("dev.txkv:txkv-remote");
        assertThatThrownBy(() -> source.setMembers(Map.of("a", "127.0.0.1:4502"), Duration.ofSeconds(1)))
                .hasMessageContaining("No remote client on the class path");
        assertThatThrownBy(() -> source.describeAuth(Duration.ofSeconds(1)))
                .hasMessageContaining("No remote client on the class path");
        assertThatThrownBy(() -> source.exclude("b", false, Duration.ofSeconds(1)))
                .hasMessageContaining("No remote client on the class path");
        assertThatThrownBy(() -> source.merge(0, "", Duration.ofSeconds(1)))
                .hasMessageContaining("No remote client on the class path");
    }
}
