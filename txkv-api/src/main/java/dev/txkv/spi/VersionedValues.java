package dev.txkv.spi;

import java.util.List;

/**
 * Values of keys (null where absent), in the order asked, all read at {@code readVersion}, a
 * read version the backend took for them: the answer of {@link Backend#getAtNewReadVersion}.
 */
public record VersionedValues(long readVersion, List<byte[]> values) {
}
