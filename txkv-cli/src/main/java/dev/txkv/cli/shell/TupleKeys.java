package dev.txkv.cli.shell;

import dev.txkv.tuple.Tuple;
import java.util.Arrays;
import java.util.Optional;
import java.util.UUID;

/**
 * Recognises keys written by the tuple layer and renders them in Python's tuple notation, as
 * FoundationDB's tools do: {@code ('users', 42)}, {@code (b'\x01', None, True)}.
 *
 * <p>A key counts as a tuple only if it decodes and packs back to the very same bytes (the
 * decoder already rejects non-canonical input; the round trip makes sure). Keys made only of
 * printable ASCII are left alone even when they happen to decode: {@code "&"} is the tuple
 * {@code (False,)}, and {@code "0123456789abcdef!"} a UUID, but a person who typed such a key
 * meant text. Every tuple holding a string or an integer contains a non-printable type code or
 * terminator, so real tuple keys are still recognised.
 */
public final class TupleKeys {
    private TupleKeys() {
    }

    /** The tuple notation of {@code key}, or empty when it is not a tuple worth showing. */
    public static Optional<String> describe(byte[] key) {
        if (key.length == 0 || isPrintableAscii(key)) {
            return Optional.empty();
        }
        Tuple tuple;
        try {
            tuple = Tuple.fromBytes(key);
            if (!Arrays.equals(tuple.pack(), key)) {
                return Optional.empty();
            }
        } catch (RuntimeException notATuple) {
            // Decoding arbitrary bytes: any failure just means "not a tuple".
            return Optional.empty();
        }
        return Optional.of(repr(tuple));
    }

    /** Python's notation of a tuple: a one-element tuple keeps its trailing comma. */
    static String repr(Tuple tuple) {
        StringBuilder sb = new StringBuilder("(");
        int i = 0;
        for (Object element : tuple) {
            if (i++ > 0) {
                sb.append(", ");
            }
            sb.append(reprElement(element));
        }
        if (i == 1) {
            sb.append(',');
        }
        return sb.append(')').toString();
    }

    private static String reprElement(Object element) {
        if (element == null) {
            return "None";
        } else if (element instanceof String) {
            return "'" + escapeText((String) element) + "'";
        } else if (element instanceof byte[]) {
            return "b'" + ShellSyntax.printable((byte[]) element).replace("'", "\\'") + "'";
        } else if (element instanceof Boolean) {
            return (Boolean) element ? "True" : "False";
        } else if (element instanceof Tuple) {
            return repr((Tuple) element);
        } else if (element instanceof UUID) {
            return "UUID('" + element + "')";
        } else {
            // Integers, floats, doubles and versionstamps print as their own toString.
            return String.valueOf(element);
        }
    }

    private static String escapeText(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            if (c == '\\' || c == '\'') {
                sb.append('\\').append((char) c);
            } else if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\x%02x", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.toString();
    }

    private static boolean isPrintableAscii(byte[] key) {
        for (byte b : key) {
            if (b < 0x20 || b == 0x7f) {
                // Negative bytes (0x80 and up) are caught by b < 0x20 too.
                return false;
            }
        }
        return true;
    }
}
