package dev.txkv.directory;

import java.util.List;

/** A directory was to be created, or moved to, at a path where one already exists. */
public class DirectoryAlreadyExistsException extends DirectoryException {
    private static final long serialVersionUID = 1L;

    DirectoryAlreadyExistsException(List<String> path) {
        super("Directory already exists", path);
    }
}
