package dev.txkv.layers.testing;

import java.util.HexFormat;

/** Byte strings written as spaced hex in tests, so that expected encodings read like the spec. */
public final class Hex {
    private Hex() {
    }

    /** Parses hex digits, ignoring spaces: {@code "13 fe"}. */
    public static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", ""));
    }

    /** Spaced lower-case hex, for messages. */
    public static String of(byte[] bytes) {
        return HexFormat.ofDelimiter(" ").formatHex(bytes);
    }
}
