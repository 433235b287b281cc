package dev.txkv.server.http;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One HTTP request being answered: bounded body reading, query parameters, and exactly one
 * response. A handler that answers later from another thread (a long poll) calls
 * {@link #detach()} and then owns the exchange.
 */
final class HttpCall {
    static final String JSON = "application/json";

    final HttpExchange exchange;
    final String method;
    final String rawPath;
    private final long bodyBytesMax;
    private Map<String, String> query;
    private boolean responded;
    private boolean detached;
    private int status;

    HttpCall(HttpExchange exchange, long bodyBytesMax) {
        this.exchange = exchange;
        this.method = exchange.getRequestMethod().toUpperCase(Locale.ROOT);
        this.rawPath = exchange.getRequestURI().getRawPath() == null ? "" : exchange.getRequestURI().getRawPath();
        this.bodyBytesMax = bodyBytesMax;
    }

    /**
     * The request body, at most the gateway's limit. A larger declared Content-Length is refused
     * before reading anything; a chunked body is read only up to one byte past the limit. The
     * connection is then closed rather than drained, so an oversized upload costs little.
     */
    byte[] body() throws IOException {
        String length = exchange.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            long declared;
            try {
                declared = Long.parseLong(length.trim());
            } catch (NumberFormatException e) {
                throw HttpError.badRequest("Invalid Content-Length: " + length);
            }
            if (declared > bodyBytesMax) {
                throw tooLarge();
            }
        }
        InputStream in = exchange.getRequestBody();
        byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, bodyBytesMax + 1));
        if (body.length > bodyBytesMax) {
            throw tooLarge();
        }
        return body;
    }

    /** The body as strictly decoded UTF-8 (invalid bytes are a 400, never silently replaced). */
    String bodyText() throws IOException {
        return utf8(body(), "request body");
    }

    private HttpError tooLarge() {
        exchange.getResponseHeaders().set("Connection", "close");
        return HttpError.httpOnly(413, "request_too_large", "The request body exceeds " + bodyBytesMax + " bytes");
    }

    /** A query parameter (percent-decoded as UTF-8 text), or null. */
    String query(String name) {
        String raw = rawQuery().get(name);
        return raw == null ? null : utf8(percentDecode(raw, true), "query parameter " + name);
    }

    /** A query parameter's exact bytes after percent-decoding, or null. */
    byte[] queryBytes(String name) {
        String raw = rawQuery().get(name);
        return raw == null ? null : percentDecode(raw, true);
    }

    /** Refuses query parameters other than {@code allowed}: a misspelt one must not be ignored. */
    void allowQuery(Set<String> allowed) {
        for (String name : rawQuery().keySet()) {
            if (!allowed.contains(name)) {
                throw HttpError.badRequest("Unknown query parameter '" + name + "'; this endpoint takes " + allowed);
            }
        }
    }

    private Map<String, String> rawQuery() {
        if (query == null) {
            query = new HashMap<>();
            String raw = exchange.getRequestURI().getRawQuery();
            if (raw != null && !raw.isEmpty()) {
                for (String pair : raw.split("&", -1)) {
                    if (pair.isEmpty()) {
                        continue;
                    }
                    int eq = pair.indexOf('=');
                    String name = utf8(percentDecode(eq < 0 ? pair : pair.substring(0, eq), true), "query parameter name");
                    String value = eq < 0 ? "" : pair.substring(eq + 1);
                    if (query.put(name, value) != null) {
                        throw HttpError.badRequest("Query parameter '" + name + "' is given more than once");
                    }
                }
            }
        }
        return query;
    }

    /**
     * Percent-decoding to bytes. Decoding as ISO-8859-1 maps each %XX to exactly one char, so
     * the bytes come out unchanged whether or not they are UTF-8; '+' means a space only in a
     * query string.
     */
    static byte[] percentDecode(String raw, boolean plusIsSpace) {
        String s = plusIsSpace ? raw : raw.replace("+", "%2B");
        try {
            return URLDecoder.decode(s, StandardCharsets.ISO_8859_1).getBytes(StandardCharsets.ISO_8859_1);
        } catch (IllegalArgumentException e) {
            throw HttpError.badRequest("Invalid percent-encoding: " + e.getMessage());
        }
    }

    /** Strict UTF-8 decoding: malformed input is a 400 naming {@code what}. */
    static String utf8(byte[] bytes, String what) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw HttpError.badRequest("The " + what + " is not valid UTF-8; use encoding=base64 for binary keys and values");
        }
    }

    /** True when the client asked for JSON. */
    boolean acceptsJson() {
        String accept = exchange.getRequestHeaders().getFirst("Accept");
        return accept != null && accept.toLowerCase(Locale.ROOT).contains(JSON);
    }

    void header(String name, String value) {
        exchange.getResponseHeaders().set(name, value);
    }

    void respondJson(int status, String json) throws IOException {
        respond(status, JSON, json.getBytes(StandardCharsets.UTF_8));
    }

    void respondError(HttpError error) throws IOException {
        // A refused token is retried after a new sign-in, not after a pause with the same token.
        if (error.retryable && error.httpStatus != 401) {
            header("Retry-After", "1");
        }
        if (error.httpStatus == 401) {
            header("WWW-Authenticate", "Bearer realm=\"txkv\"");
        }
        respondJson(error.httpStatus, GatewayDocuments.errorJson(error));
    }

    void respond(int status, String contentType, byte[] body) throws IOException {
        if (responded) {
            throw new IllegalStateException("Responded twice to " + method + " " + rawPath);
        }
        responded = true;
        this.status = status;
        exchange.getResponseHeaders().set("Content-Type", contentType);
        boolean noBody = "HEAD".equals(method) || status == 204;
        exchange.sendResponseHeaders(status, noBody ? -1 : (body.length == 0 ? -1 : body.length));
        if (!noBody && body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    boolean responded() {
        return responded;
    }

    int status() {
        return status;
    }

    /** Hands the exchange to a later answer; the dispatcher then leaves it open. */
    void detach() {
        detached = true;
    }

    boolean detached() {
        return detached;
    }
}
