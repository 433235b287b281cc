package dev.txkv.server.auth;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.Semaphore;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Password hashes: Argon2id (Bouncy Castle) with OWASP's parameters (19 MiB, 2 passes, 1 lane),
 * a 16-byte random salt and a 32-byte hash, kept as a PHC string
 * ({@code $argon2id$v=19$m=19456,t=2,p=1$SALT$HASH}). A password is hashed by the server that
 * receives it, before anything is replicated, and checked only when a user signs in: never per
 * request. At most one hash per core runs at once, so sign-ins cannot take every thread and
 * 19 MiB each.
 */
final class Passwords {
    static final int MIN_BYTES = 12;
    static final int MAX_BYTES = 1024;
    private static final int MEMORY_KIB = 19 * 1024;
    private static final int PASSES = 2;
    private static final int LANES = 1;
    private static final int SALT_BYTES = 16;
    private static final int HASH_BYTES = 32;
    private static final Pattern PHC = Pattern.compile(
            "\\$argon2id\\$v=19\\$m=(\\d{1,7}),t=(\\d{1,3}),p=(\\d{1,2})\\$([A-Za-z0-9+/]+)\\$([A-Za-z0-9+/]+)");
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Semaphore HASHING = new Semaphore(Math.max(1, Runtime.getRuntime().availableProcessors()));
    private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getDecoder();
    /** Checked for unknown users, so that a sign-in takes as long whether or not the user exists. */
    private static volatile String dummy;

    private Passwords() {
    }

    /** Refuses a password shorter than 12 or longer than 1,024 bytes (UTF-8). */
    static void checkLength(String password) {
        int n = password.getBytes(StandardCharsets.UTF_8).length;
        if (n < MIN_BYTES || n > MAX_BYTES) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "A password has " + MIN_BYTES + " to " + MAX_BYTES
                    + " bytes, this one " + n);
        }
    }

    /** The PHC string of {@code password} with a new salt. */
    static String hash(String password) {
        checkLength(password);
        byte[] salt = new byte[SALT_BYTES];
        RANDOM.nextBytes(salt);
        byte[] hash = argon2(password, salt, MEMORY_KIB, PASSES, LANES, HASH_BYTES);
        return "$argon2id$v=19$m=" + MEMORY_KIB + ",t=" + PASSES + ",p=" + LANES + "$" + B64.encodeToString(salt) + "$"
                + B64.encodeToString(hash);
    }

    /** Whether {@code password} matches {@code phc}; null or blank {@code phc} (no such user) never matches. */
    static boolean verify(String phc, String password) {
        boolean known = phc != null && !phc.isEmpty();
        Matcher m = PHC.matcher(known ? phc : dummy());
        if (!m.matches()) {
            return false;
        }
        int memory = Integer.parseInt(m.group(1));
        int passes = Integer.parseInt(m.group(2));
        int lanes = Integer.parseInt(m.group(3));
        if (memory > 1 << 20 || passes < 1 || lanes < 1) {
            return false;
        }
        byte[] salt = B64D.decode(m.group(4));
        byte[] expected = B64D.decode(m.group(5));
        byte[] got = argon2(password, salt, memory, passes, lanes, expected.length);
        return MessageDigest.isEqual(expected, got) && known;
    }

    private static String dummy() {
        String d = dummy;
        if (d == null) {
            d = hash("not a password of anyone");
            dummy = d;
        }
        return d;
    }

    private static byte[] argon2(String password, byte[] salt, int memoryKib, int passes, int lanes, int length) {
        Argon2Parameters p = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13).withMemoryAsKB(memoryKib).withIterations(passes)
                .withParallelism(lanes).withSalt(salt).build();
        Argon2BytesGenerator g = new Argon2BytesGenerator();
        g.init(p);
        byte[] out = new byte[length];
        HASHING.acquireUninterruptibly();
        try {
            g.generateBytes(password.getBytes(StandardCharsets.UTF_8), out);
        } finally {
            HASHING.release();
        }
        return out;
    }
}
