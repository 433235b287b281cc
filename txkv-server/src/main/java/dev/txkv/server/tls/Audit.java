package dev.txkv.server.tls;

import com.google.gson.JsonObject;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit log: security events on the logger {@code txkv.audit}, one JSON object a line
 * (built by Gson). The same event again within {@value #MERGE_MS} ms is counted instead of
 * logged; when its window closes, one more line carries the count ({@code "repeated": N}), so a
 * peer refused in a loop costs a line per 5 s, not a line per attempt.
 */
public final class Audit {
    private static final Logger LOG = LoggerFactory.getLogger("txkv.audit");
    static final long MERGE_MS = 5_000;

    /** An event's window: when it opened and how many repeats it has swallowed. */
    private static final class Window {
        final long openedMs;
        long repeated;

        Window(long openedMs) {
            this.openedMs = openedMs;
        }
    }

    private static final Map<String, Window> WINDOWS = new ConcurrentHashMap<>();
    private static final ScheduledExecutorService FLUSHER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "txkv-audit-flush");
        t.setDaemon(true);
        return t;
    });

    static {
        FLUSHER.scheduleWithFixedDelay(() -> flush(System.currentTimeMillis()), MERGE_MS, MERGE_MS, TimeUnit.MILLISECONDS);
    }

    private Audit() {
    }

    /** Logs event {@code name} with {@code fields} (name, value, name, value, ...), merged with its repeats. */
    public static void event(String name, String... fields) {
        JsonObject o = new JsonObject();
        o.addProperty("event", name);
        for (int i = 0; i + 1 < fields.length; i += 2) {
            o.addProperty(fields[i], fields[i + 1]);
        }
        String line = o.toString();
        long now = System.currentTimeMillis();
        boolean[] first = {false};
        WINDOWS.compute(line, (k, w) -> {
            if (w == null || now - w.openedMs >= MERGE_MS) {
                if (w != null && w.repeated > 0) {
                    logRepeats(k, w.repeated);
                }
                first[0] = true;
                return new Window(now);
            }
            w.repeated++;
            return w;
        });
        if (first[0]) {
            LOG.info(line);
        }
    }

    /** Ends the windows older than {@link #MERGE_MS}, logging the repeats each swallowed. */
    static void flush(long nowMs) {
        for (Iterator<Map.Entry<String, Window>> it = WINDOWS.entrySet().iterator(); it.hasNext();) {
            Map.Entry<String, Window> e = it.next();
            Window w = e.getValue();
            if (nowMs - w.openedMs >= MERGE_MS && WINDOWS.remove(e.getKey(), w) && w.repeated > 0) {
                logRepeats(e.getKey(), w.repeated);
            }
        }
    }

    private static void logRepeats(String line, long repeated) {
        JsonObject o = com.google.gson.JsonParser.parseString(line).getAsJsonObject();
        o.addProperty("repeated", repeated);
        LOG.info(o.toString());
    }

    /** The certificate's SHA-256 fingerprint in hex. */
    static String fingerprint(X509Certificate c) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            return "unknown";
        }
    }
}
