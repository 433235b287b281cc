package dev.txkv.client;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.KeyValue;
import dev.txkv.ReadTransaction;
import dev.txkv.TxkvException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.Supplier;

/** Small conversions and error catchers shared by the client's tests. */
public final class TestSupport {
    private TestSupport() {
    }

    static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    static String s(byte[] b) {
        return b == null ? null : new String(b, UTF_8);
    }

    /** Rows as "key=value" strings. */
    static List<String> rows(List<KeyValue> rows) {
        List<String> out = new ArrayList<>(rows.size());
        for (KeyValue kv : rows) {
            out.add(s(kv.getKey()) + "=" + s(kv.getValue()));
        }
        return out;
    }

    /** The bytes a read-only function returns, run with the database's retry loop. */
    static byte[] read(Database db, Function<ReadTransaction, byte[]> read) {
        return db.read(read);
    }

    /** The TxkvException a synchronous call or a joined future raised; fails if none. */
    public static TxkvException errorOf(Supplier<?> action) {
        try {
            action.get();
        } catch (CompletionException e) {
            if (e.getCause() instanceof TxkvException) {
                return (TxkvException) e.getCause();
            }
            throw e;
        } catch (TxkvException e) {
            return e;
        }
        throw new AssertionError("expected a TxkvException");
    }

    public static ErrorCode codeOf(Supplier<?> action) {
        return errorOf(action).getError();
    }

    public static ErrorCode codeOfRun(Runnable action) {
        return codeOf(() -> {
            action.run();
            return null;
        });
    }
}
