import dev.txkv.Database;
import dev.txkv.Transaction;
import dev.txkv.Txkv;
import dev.txkv.TxkvException;
import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;

/**
 * The client of bench/failover.sh: commits one key (one of 100) every INTERVAL ms through the
 * Java client, one commit at a time, and appends "startMs endMs code" per commit to LOG (epoch
 * milliseconds; code 0 = committed, else the error code). Stops once STOP_FILE exists.
 *
 * <p>Usage: java -cp txkv.jar:CLASSES FailoverProbe CONNECTION LOG INTERVAL_MS STOP_FILE
 */
public final class FailoverProbe {
    private FailoverProbe() {
    }

    public static void main(String[] args) throws Exception {
        String connection = args[0];
        long intervalMs = Long.parseLong(args[2]);
        Path stop = Path.of(args[3]);
        try (PrintStream out = new PrintStream(new BufferedOutputStream(new FileOutputStream(args[1], true)), true);
                Database db = Txkv.open(connection)) {
            for (long n = 0; !Files.exists(stop); n++) {
                long start = System.currentTimeMillis();
                int code = 0;
                try (Transaction tr = db.createTransaction()) {
                    tr.set(("probe/" + (n % 100)).getBytes(StandardCharsets.UTF_8),
                            Long.toString(start).getBytes(StandardCharsets.UTF_8));
                    tr.commit().join();
                } catch (CompletionException e) {
                    code = e.getCause() instanceof TxkvException t ? t.getCode() : -1;
                } catch (TxkvException e) {
                    code = e.getCode();
                }
                out.println(start + " " + System.currentTimeMillis() + " " + code);
                long sleep = start + intervalMs - System.currentTimeMillis();
                if (sleep > 0) {
                    Thread.sleep(sleep);
                }
            }
        }
    }
}
