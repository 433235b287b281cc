package dev.txkv.server.http;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;

/**
 * How keys and values are written in URLs and JSON documents: UTF-8 text (the default, what a
 * curl user types) or base64 (any bytes). Both directions are strict: text that is not valid
 * UTF-8 or base64 is a 400, and bytes that are not UTF-8 are never printed as if they were.
 */
enum KeyEncoding {
    UTF8,
    BASE64;

    /** The encoding a request names ({@code null} or empty: UTF-8). */
    static KeyEncoding of(String name) {
        if (name == null || name.isEmpty()) {
            return UTF8;
        }
        switch (name.toLowerCase(Locale.ROOT)) {
            case "utf8":
            case "utf-8":
                return UTF8;
            case "base64":
                return BASE64;
            default:
                throw HttpError.badRequest("Unknown encoding '" + name + "'; use utf8 or base64");
        }
    }

    /** The bytes {@code text} stands for; {@code what} names it in an error. */
    ByteString decode(String text, String what) {
        if (this == UTF8) {
            try {
                // String.getBytes would replace a lone surrogate silently; refuse it instead.
                return ByteString.copyFrom(StandardCharsets.UTF_8.newEncoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .encode(java.nio.CharBuffer.wrap(text)));
            } catch (CharacterCodingException e) {
                throw HttpError.badRequest("The " + what + " is not valid Unicode text");
            }
        }
        return ByteString.copyFrom(base64(text, what));
    }

    /** The bytes of a URL part that was already percent-decoded to {@code raw}. */
    ByteString decodeUrlBytes(byte[] raw, String what) {
        if (this == UTF8) {
            HttpCall.utf8(raw, what);
            return ByteString.copyFrom(raw);
        }
        return ByteString.copyFrom(base64(new String(raw, StandardCharsets.ISO_8859_1), what));
    }

    /**
     * {@code bytes} as the value of a JSON document field: the bytes themselves for base64 (the
     * document's bytes field prints them as base64), a string for UTF-8. Bytes that are not
     * UTF-8 cannot be shown as text.
     */
    Object encode(ByteString bytes, String what) {
        if (this == BASE64) {
            return bytes;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw HttpError.of(406, dev.txkv.ErrorCode.CLIENT_INVALID_OPERATION,
                    "A stored " + what + " is not valid UTF-8; ask again with encoding=base64");
        }
    }

    /** Standard base64, or its URL-safe alphabet (which needs no escaping in a URL). */
    private static byte[] base64(String text, String what) {
        try {
            if (text.indexOf('-') >= 0 || text.indexOf('_') >= 0) {
                return Base64.getUrlDecoder().decode(text);
            }
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw HttpError.badRequest("The " + what + " is not valid base64: " + e.getMessage());
        }
    }
}
