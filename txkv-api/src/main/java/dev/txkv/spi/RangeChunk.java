package dev.txkv.spi;

import dev.txkv.KeyValue;
import java.util.List;

/**
 * One batch of a range read. {@code more} says that the range holds more rows past the last
 * one returned (a limit stopped the read).
 */
public record RangeChunk(List<KeyValue> rows, boolean more) {
}
