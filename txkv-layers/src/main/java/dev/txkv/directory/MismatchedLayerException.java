package dev.txkv.directory;

import dev.txkv.ByteArrays;
import java.util.List;

/** A directory was opened with a layer other than the one it was created with. */
public class MismatchedLayerException extends DirectoryException {
    private static final long serialVersionUID = 1L;

    /** The layer recorded when the directory was created. */
    public final byte[] stored;
    /** The layer the caller asked for. */
    public final byte[] opened;

    MismatchedLayerException(List<String> path, byte[] stored, byte[] opened) {
        super("Mismatched layer: stored=" + ByteArrays.printable(stored) + ", opened=" + ByteArrays.printable(opened), path);
        this.stored = stored.clone();
        this.opened = opened.clone();
    }
}
