package dev.txkv.directory;

import java.util.List;

/** A directory that an operation needs (the target, or the parent of a move's destination) does not exist. */
public class NoSuchDirectoryException extends DirectoryException {
    private static final long serialVersionUID = 1L;

    NoSuchDirectoryException(List<String> path) {
        super("No such directory", path);
    }
}
