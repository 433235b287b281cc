package dev.txkv.directory;

/**
 * The directory metadata in the database was written by a newer directory layer: a newer
 * major version cannot be read, a newer minor version can be read but not written.
 */
public class DirectoryVersionException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DirectoryVersionException(String message) {
        super(message);
    }
}
