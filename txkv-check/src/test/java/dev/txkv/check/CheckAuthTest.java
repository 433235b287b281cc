package dev.txkv.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.proto.ChangeAuthRequest;
import dev.txkv.proto.Permission;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckAuthTest {
    private static Map<String, byte[]> prefixes() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("list-append", CheckSettings.LIST_APPEND_PREFIX);
        m.put("bank", CheckSettings.BANK_PREFIX);
        return m;
    }

    @Test
    void passwordsAreRandomInFilesOfMode600AndNeverInAName(@TempDir Path dir) throws Exception {
        CheckAuth auth = CheckAuth.forRun(dir.resolve("auth"), prefixes(), false, false);
        Set<String> passwords = new HashSet<>();
        for (CheckAuth.Login l : List.of(auth.root(), auth.monitor(), auth.workload("list-append"), auth.workload("bank"))) {
            assertThat(l.password()).hasSizeGreaterThanOrEqualTo(12);
            assertThat(Files.readString(l.file(), StandardCharsets.UTF_8)).isEqualTo(l.password() + "\n");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(l.file()))).isEqualTo("rw-------");
            assertThat(l.toString()).isEqualTo(l.user()).doesNotContain(l.password());
            passwords.add(l.password());
        }
        assertThat(passwords).hasSize(4);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(auth.dir()))).isEqualTo("rwx------");
        assertThat(auth.statusLogin()).isSameAs(auth.monitor());
        assertThat(CheckAuth.forRun(dir.resolve("auth2"), prefixes(), true, true).statusLogin().user()).isEqualTo("root");
    }

    @Test
    void eachWorkloadGetsReadwriteOnItsOwnPrefixOnlyAndAuthorizationIsTurnedOnLast(@TempDir Path dir) throws Exception {
        List<ChangeAuthRequest> changes = CheckAuth.forRun(dir, prefixes(), false, false).changes();
        assertThat(changes.get(changes.size() - 1).getSetEnabled()).isTrue();
        assertThat(changes.stream().filter(c -> c.getChangeCase() == ChangeAuthRequest.ChangeCase.ROLE_GRANT)
                .filter(c -> c.getRoleGrant().getRole().equals("check-bank")).map(c -> c.getRoleGrant().getPermission()))
                .containsExactly(Permission.newBuilder().setMode(Permission.Mode.READWRITE)
                        .setBegin(com.google.protobuf.ByteString.copyFrom(CheckSettings.BANK_PREFIX)).build());
        Map<String, List<String>> users = new LinkedHashMap<>();
        changes.stream().filter(c -> c.getChangeCase() == ChangeAuthRequest.ChangeCase.USER_ADD)
                .forEach(c -> users.put(c.getUserAdd().getName(), c.getUserAdd().getRolesList()));
        assertThat(users).containsEntry("root", List.of("root")).containsEntry("check-bank", List.of("check-bank"))
                .containsEntry("check-list-append", List.of("check-list-append"))
                .containsEntry("check-monitor", List.of("monitor", "check-probes"));
        assertThat(changes).allMatch(c -> c.getProtocolVersion() == 1);
    }

    @Test
    void spreadKeysGetOnePrefixPerFirstByteInRolesOfAtMostAHundred(@TempDir Path dir) throws Exception {
        List<ChangeAuthRequest> changes = CheckAuth.forRun(dir, prefixes(), true, true).changes();
        Map<String, Integer> grants = new LinkedHashMap<>();
        Set<Integer> firstBytes = new HashSet<>();
        for (ChangeAuthRequest c : changes) {
            if (c.getChangeCase() == ChangeAuthRequest.ChangeCase.ROLE_GRANT && c.getRoleGrant().getRole().startsWith("check-bank")) {
                grants.merge(c.getRoleGrant().getRole(), 1, Integer::sum);
                byte[] begin = c.getRoleGrant().getPermission().getBegin().toByteArray();
                assertThat(new String(begin, 1, begin.length - 1, StandardCharsets.US_ASCII)).isEqualTo("check/bank/");
                firstBytes.add(begin[0] & 0xFF);
            }
        }
        assertThat(grants).containsExactly(Map.entry("check-bank", 100), Map.entry("check-bank-2", 100),
                Map.entry("check-bank-3", 55));
        assertThat(firstBytes).hasSize(255).doesNotContain(0xFF);
        assertThat(changes.stream().filter(c -> c.getChangeCase() == ChangeAuthRequest.ChangeCase.USER_ADD)
                .filter(c -> c.getUserAdd().getName().equals("check-bank")).findFirst().orElseThrow().getUserAdd()
                .getRolesList()).containsExactly("check-bank", "check-bank-2", "check-bank-3");
    }
}
