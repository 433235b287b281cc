package dev.txkv.directory;

import java.util.List;

/** A directory operation failed because of the state of the directory tree at {@link #path}. */
public class DirectoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The absolute path of the directory concerned. */
    public final transient List<String> path;

    DirectoryException(String message, List<String> path) {
        super(message + ": path=" + PathUtil.format(path));
        this.path = List.copyOf(path);
    }
}
