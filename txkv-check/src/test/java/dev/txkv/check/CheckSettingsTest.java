package dev.txkv.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckSettingsTest {
    private static CheckSettings settings(Duration duration, int nodes, Set<FaultKind.Category> faults) {
        return new CheckSettings(duration, nodes, 1, faults, Path.of("run"), Path.of("txkv.jar"), List.of(), 4, 2,
                false);
    }

    @Test
    void theQuietTailIsAQuarterBetweenTenAndSixtySeconds() {
        Set<FaultKind.Category> all = EnumSet.allOf(FaultKind.Category.class);
        assertThat(settings(Duration.ofSeconds(45), 3, all).quietTail()).isEqualTo(Duration.ofSeconds(11).plusMillis(250));
        assertThat(settings(Duration.ofSeconds(20), 3, all).quietTail()).isEqualTo(Duration.ofSeconds(10));
        assertThat(settings(Duration.ofMinutes(10), 3, all).quietTail()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void partitionsAndFollowerFaultsNeedWhatTheyNeed() {
        Set<FaultKind.Category> all = EnumSet.allOf(FaultKind.Category.class);
        // Two-phase crash points, splits, moves, exclusions and merges exist only in a sharded cluster.
        assertThat(settings(Duration.ofSeconds(60), 3, all).faultKinds(true)).containsExactlyInAnyOrder(
                java.util.Arrays.stream(FaultKind.values()).filter(k -> k.category() != FaultKind.Category.TWO_PHASE
                        && k.category() != FaultKind.Category.SPLIT && k.category() != FaultKind.Category.MOVE
                        && k.category() != FaultKind.Category.EXCLUDE && k.category() != FaultKind.Category.MERGE)
                        .toArray(FaultKind[]::new));
        assertThat(settings(Duration.ofSeconds(60), 3, all).faultKinds(false))
                .doesNotContain(FaultKind.PARTITION_LEADER, FaultKind.PARTITION_FOLLOWER).contains(FaultKind.KILL_LEADER);
        assertThat(settings(Duration.ofSeconds(60), 1, all).faultKinds(true))
                .containsExactlyInAnyOrder(FaultKind.KILL_LEADER, FaultKind.PAUSE_LEADER, FaultKind.RESTART,
                        FaultKind.STRANGER);
        // A plain server has no Raft port for a stranger to reach.
        assertThat(new CheckSettings(Duration.ofSeconds(60), 1, 1, all, Path.of("r"), Path.of("j"), List.of(), 4, 2, true)
                .faultKinds(true)).doesNotContain(FaultKind.STRANGER);
    }

    @Test
    void limitsAreEnforced() {
        Set<FaultKind.Category> none = Set.of();
        assertThatThrownBy(() -> settings(Duration.ofSeconds(5), 3, none)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> settings(Duration.ofSeconds(60), 0, none)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CheckSettings(Duration.ofSeconds(60), 3, 1, none, Path.of("r"), Path.of("j"),
                List.of(), 4, 2, true)).hasMessageContaining("--no-raft");
    }

    @Test
    void shardedSettingsGiveEveryServerTheShardFlags() {
        Set<FaultKind.Category> all = EnumSet.allOf(FaultKind.Category.class);
        CheckSettings sharded = new CheckSettings(Duration.ofSeconds(60), 3, 1, all, Path.of("r"), Path.of("j"),
                List.of(), 4, 2, false, 4, 3);
        assertThat(sharded.sharded()).isTrue();
        assertThat(sharded.serverArgs()).containsExactly("--shards", "4", "--shard-replicas", "3", "--crash-points");
        assertThat(new CheckSettings(Duration.ofSeconds(60), 3, 1, EnumSet.of(FaultKind.Category.KILL), Path.of("r"),
                Path.of("j"), List.of(), 4, 2, false, 4, 3).serverArgs())
                .containsExactly("--shards", "4", "--shard-replicas", "3");
        assertThat(new CheckSettings(Duration.ofSeconds(60), 3, 1, EnumSet.of(FaultKind.Category.KILL), Path.of("r"),
                Path.of("j"), List.of(), 4, 2, false, 4, 3, "64KiB").serverArgs())
                .containsExactly("--shards", "4", "--shard-replicas", "3", "--split-size", "64KiB");
        assertThatThrownBy(() -> new CheckSettings(Duration.ofSeconds(60), 3, 1, EnumSet.of(FaultKind.Category.KILL),
                Path.of("r"), Path.of("j"), List.of(), 4, 2, false, 0, 0, "64KiB"))
                .hasMessageContaining("--split-size needs --shards");
        assertThat(sharded.describe().get("shards")).startsWith("4 (--shards 4 --shard-replicas 3")
                .contains("control group's leader");
        // 3 replicas on 3 nodes: an excluded node could not be drained, so no exclusion is drawn.
        assertThat(sharded.faultKinds(true)).containsExactlyInAnyOrder(java.util.Arrays.stream(FaultKind.values())
                .filter(k -> k != FaultKind.EXCLUDE_MEMBER).toArray(FaultKind[]::new));
        assertThat(new CheckSettings(Duration.ofSeconds(60), 3, 1, all, Path.of("r"), Path.of("j"), List.of(), 4, 2, false,
                4, 2).faultKinds(true)).containsExactlyInAnyOrder(FaultKind.values());
        // A merge is an admin call, as a split is: a secure run's status calls sign in as root for it too.
        assertThat(new CheckSettings(Duration.ofSeconds(60), 3, 1, EnumSet.of(FaultKind.Category.MERGE), Path.of("r"),
                Path.of("j"), List.of(), 4, 2, false, 4, 3).splitFaults()).isTrue();
        assertThat(new CheckSettings(Duration.ofSeconds(60), 3, 1, EnumSet.of(FaultKind.Category.KILL), Path.of("r"),
                Path.of("j"), List.of(), 4, 2, false, 4, 3).splitFaults()).isFalse();
        CheckSettings plain = settings(Duration.ofSeconds(60), 3, all);
        assertThat(plain.sharded()).isFalse();
        assertThat(plain.serverArgs()).isEmpty();
        assertThat(plain.describe()).doesNotContainKey("shards").doesNotContainKey("authorization");
        CheckSettings secure = new CheckSettings(Duration.ofSeconds(60), 3, 1, all, Path.of("r"), Path.of("j"), List.of(),
                4, 2, false, 4, 3, null, true);
        assertThat(secure.describe().get("authorization")).startsWith("on (--secure), a user per workload")
                .contains("check-list-append", "check/bank/", "status calls and splits as root");
        assertThat(CheckSettings.defaultShardReplicas(5)).isEqualTo(3);
        assertThat(CheckSettings.defaultShardReplicas(2)).isEqualTo(2);
    }

    @Test
    void shardLimitsAreEnforced() {
        Set<FaultKind.Category> none = Set.of();
        assertThatThrownBy(() -> new CheckSettings(Duration.ofSeconds(60), 3, 1, none, Path.of("r"), Path.of("j"),
                List.of(), 4, 2, false, 257, 3)).hasMessageContaining("--shards must be 1 to 256");
        assertThatThrownBy(() -> new CheckSettings(Duration.ofSeconds(60), 3, 1, none, Path.of("r"), Path.of("j"),
                List.of(), 4, 2, false, 4, 4)).hasMessageContaining("--shard-replicas must be 1 to the 3 nodes");
        assertThatThrownBy(() -> new CheckSettings(Duration.ofSeconds(60), 3, 1, none, Path.of("r"), Path.of("j"),
                List.of(), 4, 2, false, 4, 0)).hasMessageContaining("--shard-replicas");
        assertThatThrownBy(() -> new CheckSettings(Duration.ofSeconds(60), 3, 1, none, Path.of("r"), Path.of("j"),
                List.of(), 4, 2, false, 0, 2)).hasMessageContaining("--shard-replicas needs --shards");
        assertThatThrownBy(() -> new CheckSettings(Duration.ofSeconds(60), 1, 1, none, Path.of("r"), Path.of("j"),
                List.of(), 4, 2, true, 2, 1)).hasMessageContaining("--no-raft");
    }

    @Test
    void badShardOptionsAreUsageErrors(@TempDir Path dir) throws Exception {
        Path jar = Files.createFile(dir.resolve("txkv.jar"));
        assertThat(usage("--shards", "0")).contains("--shards must be 1 to 256");
        assertThat(usage("--shard-replicas", "2")).contains("--shard-replicas needs --shards");
        assertThat(usage("--jar", jar.toString(), "--nodes", "2", "--shards", "4"))
                .isEmpty(); // replicas default to min(3, nodes): valid, so not a usage error
        assertThat(usage("--jar", jar.toString(), "--nodes", "3", "--shards", "4", "--shard-replicas", "5"))
                .contains("--shard-replicas must be 1 to the 3 nodes");
        assertThat(usage("--jar", jar.toString(), "--nodes", "3", "--shards", "300"))
                .contains("--shards must be 1 to 256");
    }

    /** The usage error {@code txkv check ARGS} prints (exit 2), or "" when the arguments are valid. */
    private static String usage(String... args) throws Exception {
        CheckCommand command = new CheckCommand();
        new picocli.CommandLine(command).parseArgs(args);
        try {
            command.settings();
        } catch (IllegalArgumentException e) {
            return "txkv check: " + e.getMessage();
        }
        return "";
    }

    @Test
    void durationsParseAsOperatorsWriteThem() {
        DurationConverter c = new DurationConverter();
        assertThat(c.convert("45s")).isEqualTo(Duration.ofSeconds(45));
        assertThat(c.convert("10m")).isEqualTo(Duration.ofMinutes(10));
        assertThat(c.convert("2h")).isEqualTo(Duration.ofHours(2));
        assertThat(c.convert("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(c.convert("30")).isEqualTo(Duration.ofSeconds(30));
        assertThatThrownBy(() -> c.convert("ten minutes")).hasMessageContaining("not a duration");
    }

    @Test
    void faultNamesParse() {
        assertThat(FaultKind.Category.ofToken(" Partition")).isEqualTo(FaultKind.Category.PARTITION);
        assertThat(FaultKind.Category.ofToken("two-phase")).isEqualTo(FaultKind.Category.TWO_PHASE);
        assertThat(FaultKind.Category.ofToken("split")).isEqualTo(FaultKind.Category.SPLIT);
        assertThat(FaultKind.SPLIT_SHARD.anyNode()).isTrue();
        assertThat(FaultKind.Category.ofToken("move")).isEqualTo(FaultKind.Category.MOVE);
        assertThat(FaultKind.MOVE_SHARD.anyNode()).isTrue();
        assertThat(FaultKind.Category.ofToken("exclude")).isEqualTo(FaultKind.Category.EXCLUDE);
        assertThat(FaultKind.EXCLUDE_MEMBER.anyNode()).isTrue();
        assertThat(FaultKind.Category.ofToken("merge")).isEqualTo(FaultKind.Category.MERGE);
        assertThat(FaultKind.MERGE_SHARD.anyNode()).isTrue();
        assertThat(FaultKind.MERGE_SHARD.token()).isEqualTo("merge-shard");
        assertThat(FaultKind.CRASH_COORDINATOR.crashPoint()).isEqualTo("coordinator-before-decision");
        assertThatThrownBy(() -> FaultKind.Category.ofToken("flood")).hasMessageContaining("unknown fault 'flood'")
                .hasMessageContaining("exclude, merge");
    }
}
