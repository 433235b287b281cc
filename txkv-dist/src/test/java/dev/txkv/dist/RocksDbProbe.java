package dev.txkv.dist;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Run in a separate JVM with only txkv.jar on the class path: loads RocksDB's native library
 * from the shaded jar, writes and reads one key. Reflection keeps this class free of a
 * compile-time RocksDB dependency, so it cannot pick RocksDB up from anywhere but the jar.
 */
public final class RocksDbProbe {
    private RocksDbProbe() {
    }

    /** Prints "rocksdb ok" when the round trip worked; exits non-zero (by exception) otherwise. */
    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("txkv-rocksdb-probe");
        Class<?> rocksDb = Class.forName("org.rocksdb.RocksDB");
        rocksDb.getMethod("loadLibrary").invoke(null);
        byte[] key = "probe".getBytes(StandardCharsets.UTF_8);
        byte[] value = "works".getBytes(StandardCharsets.UTF_8);
        try (AutoCloseable db = (AutoCloseable) rocksDb.getMethod("open", String.class).invoke(null, dir.toString())) {
            rocksDb.getMethod("put", byte[].class, byte[].class).invoke(db, key, value);
            byte[] read = (byte[]) rocksDb.getMethod("get", byte[].class).invoke(db, key);
            if (!Arrays.equals(read, value)) {
                throw new IllegalStateException("RocksDB returned " + Arrays.toString(read));
            }
        }
        System.out.println("rocksdb ok from " + rocksDb.getProtectionDomain().getCodeSource().getLocation());
    }
}
