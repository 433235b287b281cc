package dev.txkv.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.KeySelector;
import dev.txkv.KeyValue;
import dev.txkv.MutationType;
import dev.txkv.Transaction;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BasicTransactionTest {
    @TempDir
    Path dir;
    Database db;

    static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    static String s(byte[] b) {
        return b == null ? null : new String(b, UTF_8);
    }

    @BeforeEach
    void open() {
        db = Txkv.openEmbedded(dir, new TxkvConfig().durable(false));
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void setThenGetAcrossTransactions() {
        db.run(tr -> {
            tr.set(b("a"), b("1"));
            tr.set(b("b"), b("2"));
            return null;
        });
        assertThat(s(db.read(tr -> tr.get(b("a")).join()))).isEqualTo("1");
        List<KeyValue> all = db.read(tr -> tr.getRange(b("a"), b("z")).asList().join());
        assertThat(all).hasSize(2);
    }

    @Test
    void readYourWritesInsideOneTransaction() {
        db.run(tr -> {
            tr.set(b("k1"), b("v1"));
            tr.set(b("k3"), b("v3"));
            return null;
        });
        db.run(tr -> {
            tr.set(b("k2"), b("v2"));
            tr.clear(b("k3"));
            List<KeyValue> rows = tr.getRange(b("k"), b("l")).asList().join();
            assertThat(rows).extracting(kv -> s(kv.getKey())).containsExactly("k1", "k2");
            assertThat(s(tr.get(b("k2")).join())).isEqualTo("v2");
            assertThat(tr.get(b("k3")).join()).isNull();
            return null;
        });
    }

    @Test
    void conflictingTransactionsFailWithNotCommitted() {
        db.run(tr -> {
            tr.set(b("x"), b("0"));
            return null;
        });
        Transaction t1 = db.createTransaction();
        Transaction t2 = db.createTransaction();
        t1.get(b("x")).join();
        t2.get(b("x")).join();
        t1.set(b("x"), b("1"));
        t2.set(b("x"), b("2"));
        t1.commit().join();
        assertThatThrownBy(() -> t2.commit().join()).isInstanceOf(CompletionException.class)
                .cause().isInstanceOf(TxkvException.class)
                .extracting(e -> ((TxkvException) e).getCode()).isEqualTo(ErrorCode.NOT_COMMITTED.code());
    }

    @Test
    void atomicAddAndVersionstamps() {
        byte[] one = {1, 0, 0, 0, 0, 0, 0, 0};
        for (int i = 0; i < 5; i++) {
            db.run(tr -> {
                tr.mutate(MutationType.ADD, b("counter"), one);
                return null;
            });
        }
        byte[] v = db.read(tr -> tr.get(b("counter")).join());
        assertThat(v[0]).isEqualTo((byte) 5);

        Transaction tr = db.createTransaction();
        byte[] key = new byte[] {'s', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
        tr.mutate(MutationType.SET_VERSIONSTAMPED_KEY, key, b("x"));
        tr.commit().join();
        byte[] stamp = tr.getVersionstamp().join();
        List<KeyValue> rows = db.read(t -> t.getRange(b("s"), b("t")).asList().join());
        assertThat(rows).hasSize(1);
        assertThat(java.util.Arrays.copyOfRange(rows.get(0).getKey(), 1, 11)).isEqualTo(stamp);
    }

    @Test
    void keySelectors() {
        db.run(tr -> {
            for (String k : new String[] {"a", "c", "e"}) {
                tr.set(b(k), b(k));
            }
            return null;
        });
        db.read(tr -> {
            assertThat(s(tr.getKey(KeySelector.firstGreaterOrEqual(b("b"))).join())).isEqualTo("c");
            assertThat(s(tr.getKey(KeySelector.firstGreaterThan(b("c"))).join())).isEqualTo("e");
            assertThat(s(tr.getKey(KeySelector.lastLessThan(b("c"))).join())).isEqualTo("a");
            assertThat(s(tr.getKey(KeySelector.lastLessOrEqual(b("c"))).join())).isEqualTo("c");
            assertThat(s(tr.getKey(KeySelector.firstGreaterOrEqual(b("a")).add(2)).join())).isEqualTo("e");
            assertThat(tr.getKey(KeySelector.firstGreaterThan(b("e"))).join()).isEqualTo(new byte[] {(byte) 0xFF});
            return null;
        });
    }

    @Test
    void dataSurvivesReopen() {
        db.run(tr -> {
            tr.set(b("durable"), b("yes"));
            return null;
        });
        db.close();
        db = Txkv.openEmbedded(dir, new TxkvConfig().durable(false));
        assertThat(s(db.read(tr -> tr.get(b("durable")).join()))).isEqualTo("yes");
    }
}
