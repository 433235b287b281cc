package dev.txkv.cli.shell;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.cli.Main;
import dev.txkv.proto.MergeResponse;
import dev.txkv.proto.MergedShard;
import dev.txkv.proto.ShardMapRecord;
import dev.txkv.proto.ShardRecord;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code txkv merge} against a fake remote client that keeps a shard map in key order and merges in it. */
class MergeCommandTest {
    private static final String CLUSTER = "10.0.0.1:4500";

    /** One call of {@link dev.txkv.spi.RemoteAdminProvider#merge}. */
    record MergeCall(String connection, int shard, String reason, Duration timeout) {
    }

    /**
     * A sharded cluster's map in memory, in key order: merges a shard with the next one as the
     * control group does (refusing an unknown or last shard, and neighbours on different members);
     * {@link #absorbing} answers with the absorbed shard still listed, as while its left neighbour's
     * replicas take its keys.
     */
    private static final class FakeProvider extends AdminProviderStub {
        final List<ShardRecord> shards = new ArrayList<>();
        final List<MergedShard> merged = new ArrayList<>();
        final List<MergeCall> merges = new ArrayList<>();
        boolean absorbing;
        long epoch = 1;

        /** Adds the shard {@code id} from {@code begin} on (the previous one ends there) on {@code members}. */
        FakeProvider shard(int id, String begin, String... members) {
            if (!shards.isEmpty()) {
                ShardRecord previous = shards.remove(shards.size() - 1);
                shards.add(previous.toBuilder().setEnd(bytes(begin)).build());
            }
            shards.add(ShardRecord.newBuilder().setId(id).setBegin(bytes(begin)).addAllMembers(List.of(members)).build());
            return this;
        }

        @Override
        public byte[] merge(String connection, int shard, String reason, Duration timeout) {
            merges.add(new MergeCall(connection, shard, reason, timeout));
            int at = -1;
            for (int i = 0; i < shards.size(); i++) {
                if (shards.get(i).getId() == shard) {
                    at = i;
                }
            }
            if (at < 0) {
                throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "No shard " + shard + " in the map");
            }
            if (at == shards.size() - 1) {
                throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE,
                        "Shard " + shard + " is the last shard: it has no right neighbour to absorb");
            }
            ShardRecord left = shards.get(at);
            ShardRecord right = shards.get(at + 1);
            if (!new java.util.HashSet<>(left.getMembersList()).equals(new java.util.HashSet<>(right.getMembersList()))) {
                throw new TxkvException(ErrorCode.OPERATION_FAILED, "Shard " + shard + " is on "
                        + String.join(",", left.getMembersList()) + " and shard " + right.getId() + " on "
                        + String.join(",", right.getMembersList()) + "; move one onto the other's members first"
                        + " (txkv move)");
            }
            epoch++;
            if (absorbing) {
                shards.set(at + 1, right.toBuilder().setMergingInto(shard).setMergeAbsorbed(true)
                        .setMergeReason(reason).build());
            } else {
                ShardRecord.Builder wider = left.toBuilder().clearEnd();
                if (right.hasEnd()) {
                    wider.setEnd(right.getEnd());
                }
                shards.set(at, wider.build());
                shards.remove(at + 1);
                merged.add(MergedShard.newBuilder().setId(right.getId()).setInto(shard).build());
            }
            ShardMapRecord map = ShardMapRecord.newBuilder().setEpoch(epoch).addAllShards(shards).setNextId(9)
                    .addAllMerged(merged).build();
            return MergeResponse.newBuilder().setShard(shard).setAbsorbed(right.getId()).setMap(map).build()
                    .toByteArray();
        }
    }

    private static ByteString bytes(String key) {
        return ByteString.copyFrom(key, StandardCharsets.ISO_8859_1);
    }

    private final FakeProvider provider = new FakeProvider().shard(0, "", "a", "b", "c").shard(3, "\u0040", "a", "b", "c")
            .shard(4, "m", "c", "a", "b").shard(5, "t", "a", "b");

    /** Runs {@code txkv ARGS} as the launcher would, with the fake remote client. */
    private CliRun txkv(String... args) {
        return CliRun.run(List.of(new MergeCommand(this::source)), args);
    }

    private RemoteStatusSource source(String cluster) {
        return new RemoteStatusSource(cluster, List.of(provider));
    }

    private static void assertOk(CliRun run) {
        assertThat(run.exitCode()).as(run.err()).isEqualTo(Main.EXIT_OK);
        assertThat(run.err()).isEmpty();
    }

    private void assertRefused(CliRun run, String... messages) {
        assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(Main.EXIT_USAGE);
        assertThat(run.err()).contains(messages);
        assertThat(run.out()).isEmpty();
        assertThat(provider.merges).as("nothing is merged").isEmpty();
    }

    @Test
    void mergeSendsTheShardAndPrintsWhatTheLeftShardHolds() {
        CliRun run = txkv("merge", "3", "-C", CLUSTER);
        assertOk(run);
        assertThat(provider.merges).containsExactly(
                new MergeCall(CLUSTER, 3, "", Duration.ofMillis(MergeCommand.TIMEOUT_MS_DEFAULT)));
        assertThat(run.out()).isEqualTo("Shard 3 absorbed shard 4; shard 3 holds [@, t) now.\n");
        assertThat(provider.shards).extracting(ShardRecord::getId).containsExactly(0, 3, 5);
    }

    @Test
    void theDefaultTimeoutIsThatOfAMove() {
        assertThat(MergeCommand.TIMEOUT_MS_DEFAULT).isEqualTo(MoveCommand.TIMEOUT_MS_DEFAULT);
    }

    @Test
    void aMergeIntoTheLastShardReachesTheEndOfTheKeyspace() {
        // Shard 5, the last one, on the members of shard 3 as well: 3 absorbs 4, then 5.
        provider.shards.set(3, provider.shards.get(3).toBuilder().clearMembers().addAllMembers(List.of("a", "b", "c"))
                .build());
        assertOk(txkv("merge", "3"));
        CliRun run = txkv("merge", "3");
        assertOk(run);
        assertThat(run.out()).isEqualTo("Shard 3 absorbed shard 5; shard 3 holds [@, \\xff) now.\n");
    }

    @Test
    void theRangeRunsToTheAbsorbedShardsEndWhileTheMapStillListsIt() {
        provider.absorbing = true;
        CliRun run = txkv("merge", "0");
        assertOk(run);
        assertThat(run.out()).isEqualTo("Shard 0 absorbed shard 3; shard 0 holds [, m) now.\n");
    }

    @Test
    void aMapWithoutTheShardPrintsTheMergeAlone() {
        MergeResponse r = MergeResponse.newBuilder().setShard(7).setAbsorbed(8).build();
        assertThat(MergeCommand.rangeAfter(r)).isNull();
    }

    @Test
    void mergeTakesATimeoutAndPrintsJson() {
        CliRun run = txkv("merge", "3", "--timeout", "2500", "--json");
        assertOk(run);
        assertThat(provider.merges).containsExactly(
                new MergeCall(ShellCommand.CLUSTER_DEFAULT, 3, "", Duration.ofMillis(2500)));
        assertThat(run.out()).startsWith("{").contains("\"shard\": 3", "\"absorbed\": 4", "\"shards\"",
                "\"merged\": [{", "\"id\": 4", "\"into\": 3");
    }

    @Test
    void mergeChecksItsArgumentsBeforeAsking() {
        assertRefused(txkv("merge", "x"),
                "txkv: SHARD must be a shard id, a non-negative integer (txkv shards lists them), got 'x'",
                "Run 'txkv merge --help' for usage.");
        assertRefused(txkv("merge", "-1"), "SHARD must be a shard id", "got '-1'");
        assertRefused(txkv("merge", "1.5"), "got '1.5'");
        assertRefused(txkv("merge", "99999999999"), "too large");
        assertRefused(txkv("merge", ""), "got ''");
        assertRefused(txkv("merge", "1", "--timeout", "0"), "--timeout must be positive, got 0");
        assertRefused(txkv("merge", "1", "--timeout", "-5"), "--timeout must be positive, got -5");
        assertRefused(txkv("merge"), "Missing required parameter", "SHARD");
        assertRefused(txkv("merge", "1", "2"), "Unmatched argument");
    }

    @Test
    void theServersRefusalsArePassedOn() {
        CliRun run = txkv("merge", "4");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(run.err()).contains("txkv merge: operation_failed (1000): Shard 4 is on c,a,b and shard 5 on a,b;"
                + " move one onto the other's members first (txkv move)");
        assertThat(run.out()).isEmpty();
        run = txkv("merge", "5");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(run.err()).contains("txkv merge: invalid_option_value (2006): Shard 5 is the last shard");
        run = txkv("merge", "6");
        assertThat(run.exitCode()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(run.err()).contains("txkv merge: invalid_option_value (2006): No shard 6");
        assertThat(provider.shards).hasSize(4);
    }

    @Test
    void theLauncherHasTheCommand() {
        CommandLine launcher = Main.commandLine();
        assertThat(launcher.getSubcommands()).containsKey("merge");
        StringWriter help = new StringWriter();
        launcher.setOut(new PrintWriter(help));
        assertThat(launcher.execute("merge", "--help")).isEqualTo(Main.EXIT_OK);
        assertThat(help.toString().replaceAll("\\s+", " ")).contains("Usage: txkv merge", "SHARD", "right neighbour",
                "same members", "--cluster", "--timeout", "(default: 300000)", "--json");
    }
}
