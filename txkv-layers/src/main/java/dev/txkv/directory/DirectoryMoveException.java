package dev.txkv.directory;

import java.util.List;

/**
 * A move was refused: into its own subtree, between partitions, or of a root (of the
 * directory layer or of a partition, which only its parent can move).
 */
public class DirectoryMoveException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The absolute path of the directory to move. */
    public final transient List<String> sourcePath;
    /** The absolute path it was to move to. */
    public final transient List<String> destPath;

    DirectoryMoveException(String message, List<String> sourcePath, List<String> destPath) {
        super(message + ": sourcePath=" + PathUtil.format(sourcePath) + ", destPath=" + PathUtil.format(destPath));
        this.sourcePath = List.copyOf(sourcePath);
        this.destPath = List.copyOf(destPath);
    }
}
