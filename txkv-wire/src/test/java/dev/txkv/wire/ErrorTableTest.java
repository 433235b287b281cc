package dev.txkv.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The error table lists every {@link ErrorCode} once, agrees with the Java API on
 * retryability, and docs/errors.md shows it exactly.
 */
class ErrorTableTest {
    static final String DOCS_BEGIN = "<!-- error-table:begin (generated from dev.txkv.wire.ErrorTable; ErrorTableTest checks it) -->";
    static final String DOCS_END = "<!-- error-table:end -->";

    @Test
    void everyErrorCodeAppearsExactlyOnceInCodeOrder() {
        List<ErrorCode> listed = new ArrayList<>();
        for (ErrorTable.Row r : ErrorTable.rows()) {
            listed.add(r.error());
        }
        assertThat(listed).containsExactlyInAnyOrder(ErrorCode.values());
        assertThat(ErrorTable.rows()).extracting(ErrorTable.Row::code).isSorted().doesNotHaveDuplicates();
        for (ErrorCode e : ErrorCode.values()) {
            assertThat(ErrorTable.of(e).error()).isEqualTo(e);
            assertThat(ErrorTable.forCode(e.code())).contains(ErrorTable.of(e));
        }
        assertThat(ErrorTable.forCode(9999)).isEmpty();
    }

    @Test
    void retryabilityIsTheJavaApisForEveryCode() {
        for (ErrorTable.Row r : ErrorTable.rows()) {
            assertThat(r.retryable()).as(r.name()).isEqualTo(new TxkvException(r.error()).isRetryable());
        }
    }

    @Test
    void statusesFollowTheKindOfError() {
        for (ErrorTable.Row r : ErrorTable.rows()) {
            // Invalid requests are the caller's fault on both protocols, and never retryable.
            assertThat(r.grpcStatus() == Status.Code.INVALID_ARGUMENT).as(r.name()).isEqualTo(
                    r.httpStatus() == 400 && r.error() != ErrorCode.PROTOCOL_VERSION_UNSUPPORTED);
            if (r.grpcStatus() == Status.Code.INVALID_ARGUMENT) {
                assertThat(r.retryable()).as(r.name()).isFalse();
            }
            assertThat(r.grpcStatus()).as(r.name()).isNotEqualTo(Status.Code.OK);
            assertThat(r.httpStatus()).as(r.name()).isBetween(400, 599);
        }
        assertThat(ErrorTable.of(ErrorCode.NOT_LEADER).grpcStatus()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(ErrorTable.of(ErrorCode.NOT_COMMITTED).httpStatus()).isEqualTo(409);
    }

    @Test
    void theDocsListEveryCodeWithTheTablesStatuses() throws IOException {
        Path doc = Path.of("..", "docs", "errors.md");
        String text = Files.readString(doc, StandardCharsets.UTF_8);
        int begin = text.indexOf(DOCS_BEGIN);
        int end = text.indexOf(DOCS_END);
        assertThat(begin).as("the table's begin marker in " + doc).isNotNegative();
        assertThat(end).as("the table's end marker in " + doc).isGreaterThan(begin);
        String shown = text.substring(begin + DOCS_BEGIN.length(), end).strip();
        assertThat(shown).as(doc + " is out of date; put this table between its markers:\n" + markdown() + "\n")
                .isEqualTo(markdown());
    }

    /** The table as docs/errors.md shows it. */
    static String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("| code | name | gRPC status | HTTP status | retryable | meaning |\n");
        b.append("|---:|---|---|---:|---|---|\n");
        for (ErrorTable.Row r : ErrorTable.rows()) {
            b.append("| ").append(r.code()).append(" | `").append(r.name()).append("` | ").append(r.grpcStatus())
                    .append(" | ").append(r.httpStatus()).append(" | ").append(r.retryable() ? "yes" : "no")
                    .append(" | ").append(r.error().description()).append(" |\n");
        }
        return b.toString().strip();
    }
}
