package dev.txkv.subspace;

import static dev.txkv.layers.testing.Hex.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.Range;
import dev.txkv.tuple.Tuple;
import dev.txkv.tuple.Versionstamp;
import org.junit.jupiter.api.Test;

class SubspaceTest {
    @Test
    void prefixesComposeFromRawBytesAndTuples() {
        assertThat(new Subspace().getKey()).isEmpty();
        assertThat(new Subspace(bytes("fe")).getKey()).isEqualTo(bytes("fe"));
        assertThat(new Subspace(Tuple.from("app")).getKey()).isEqualTo(bytes("02 61 70 70 00"));
        assertThat(new Subspace(Tuple.from(1L), bytes("fe")).getKey()).isEqualTo(bytes("fe 15 01"));
        Subspace users = new Subspace(Tuple.from("app")).get("users");
        assertThat(users.getKey()).isEqualTo(bytes("02 61 70 70 00 02 75 73 65 72 73 00"));
        assertThat(users).isEqualTo(new Subspace(Tuple.from("app", "users")));
        assertThat(users).isEqualTo(new Subspace(Tuple.from("app")).subspace(Tuple.from("users")));
        assertThat(users).isEqualTo(new Subspace(Tuple.from("app")).get(Tuple.from("users")));
        assertThat(users.hashCode()).isEqualTo(new Subspace(Tuple.from("app", "users")).hashCode());
        assertThat(users.toString()).isEqualTo("Subspace(rawPrefix=\\x02app\\x00\\x02users\\x00)");
    }

    @Test
    void packAndUnpackKeys() {
        Subspace s = new Subspace(bytes("fe"));
        assertThat(s.pack()).isEqualTo(bytes("fe"));
        assertThat(s.pack(7L)).isEqualTo(bytes("fe 15 07"));
        assertThat(s.pack(Tuple.from("a", 1L))).isEqualTo(bytes("fe 02 61 00 15 01"));
        assertThat((Object) s.unpack(bytes("fe 02 61 00 15 01"))).isEqualTo(Tuple.from("a", 1L));
        assertThat((Object) s.unpack(bytes("fe"))).isEqualTo(Tuple.from());
        assertThatThrownBy(() -> s.unpack(bytes("fd 15 01"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not in");
        assertThatThrownBy(() -> s.unpack(bytes("fe ff"))).isInstanceOf(IllegalArgumentException.class);
        byte[] key = s.getKey();
        key[0] = 0;
        assertThat(s.getKey()).isEqualTo(bytes("fe"));
    }

    @Test
    void containsAndRange() {
        Subspace s = new Subspace(Tuple.from("a"));
        assertThat(s.contains(bytes("02 61 00"))).isTrue();
        assertThat(s.contains(bytes("02 61 00 15 01"))).isTrue();
        assertThat(s.contains(bytes("02 61"))).isFalse();
        assertThat(s.contains(bytes("02 62 00"))).isFalse();
        assertThat(s.range()).isEqualTo(new Range(bytes("02 61 00 00"), bytes("02 61 00 ff")));
        assertThat(s.range(Tuple.from(1L))).isEqualTo(new Range(bytes("02 61 00 15 01 00"), bytes("02 61 00 15 01 ff")));
        assertThat(s.range().contains(s.pack(Tuple.from((Object) null)))).isTrue();
        assertThat(s.range().contains(s.getKey())).isFalse();
    }

    @Test
    void packWithVersionstampCountsThePrefix() {
        Subspace s = new Subspace(bytes("aa bb"));
        byte[] key = s.packWithVersionstamp(Tuple.from(Versionstamp.incomplete(1)));
        assertThat(key).isEqualTo(bytes("aa bb 33 ff ff ff ff ff ff ff ff ff ff 00 01 03 00 00 00"));
    }

    @Test
    void subclassesAreNotEqualToPlainSubspaces() {
        Subspace plain = new Subspace(bytes("01"));
        Subspace sub = new Subspace(bytes("01")) { };
        assertThat(plain).isNotEqualTo(sub);
    }
}
