package dev.txkv.spi;

/**
 * A successful commit: its version and its order within the commit batch, which together
 * form the 10-byte versionstamp (8-byte big-endian version, 2-byte big-endian order).
 */
public record CommitResult(long version, int batchOrder) {
    /** The 10-byte versionstamp of this commit. */
    public byte[] versionstamp() {
        byte[] stamp = new byte[10];
        for (int i = 0; i < 8; i++) {
            stamp[i] = (byte) (version >>> (56 - 8 * i));
        }
        stamp[8] = (byte) (batchOrder >>> 8);
        stamp[9] = (byte) batchOrder;
        return stamp;
    }
}
