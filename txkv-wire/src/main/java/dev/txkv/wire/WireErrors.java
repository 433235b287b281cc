package dev.txkv.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.txkv.ErrorCode;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.proto.ConflictDetails;
import dev.txkv.proto.ElementError;
import dev.txkv.proto.KeyRange;
import dev.txkv.proto.NotLeader;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How a txkv error travels, both ways: in the status and trailers of a failed gRPC call, and
 * as the {@link ElementError} of one element of GetMany or CommitMany (which carries what the
 * trailers of the single call would have). The server encodes with {@link #toStatusException}
 * and {@link #elementError}; clients decode with {@link #fromTrailers} and
 * {@link #fromElement}. The gRPC status code comes from {@link ErrorTable}.
 *
 * <p>Trailers (txkv.proto documents them for every language):
 * <ul>
 *   <li>{@value #ERROR_CODE_TRAILER}: the decimal code, e.g. "1020";</li>
 *   <li>{@value #ERROR_NAME_TRAILER}: its name, e.g. "not_committed";</li>
 *   <li>{@value #ERROR_DETAILS_TRAILER}: for a not_committed whose commit asked for them, a
 *       serialized {@link ConflictDetails};</li>
 *   <li>{@value #NOT_LEADER_TRAILER}: on every not_leader (1060), a serialized
 *       {@link NotLeader}: the leader's member id and client address when the answering member
 *       knows them.</li>
 * </ul>
 */
public final class WireErrors {
    /** Trailer name of the decimal txkv error code. */
    public static final String ERROR_CODE_TRAILER = "txkv-error-code";
    /** Trailer name of the txkv error name. */
    public static final String ERROR_NAME_TRAILER = "txkv-error-name";
    /** Trailer name of the serialized {@link ConflictDetails} of a not_committed error. */
    public static final String ERROR_DETAILS_TRAILER = "txkv-error-details-bin";
    /** Trailer name of the serialized {@link NotLeader} of a not_leader error. */
    public static final String NOT_LEADER_TRAILER = "txkv-not-leader-bin";

    /** Key of the {@value #ERROR_CODE_TRAILER} trailer. */
    public static final Metadata.Key<String> ERROR_CODE =
            Metadata.Key.of(ERROR_CODE_TRAILER, Metadata.ASCII_STRING_MARSHALLER);
    /** Key of the {@value #ERROR_NAME_TRAILER} trailer. */
    public static final Metadata.Key<String> ERROR_NAME =
            Metadata.Key.of(ERROR_NAME_TRAILER, Metadata.ASCII_STRING_MARSHALLER);
    /** Key of the {@value #ERROR_DETAILS_TRAILER} trailer. */
    public static final Metadata.Key<byte[]> ERROR_DETAILS =
            Metadata.Key.of(ERROR_DETAILS_TRAILER, Metadata.BINARY_BYTE_MARSHALLER);
    /** Key of the {@value #NOT_LEADER_TRAILER} trailer. */
    public static final Metadata.Key<byte[]> NOT_LEADER =
            Metadata.Key.of(NOT_LEADER_TRAILER, Metadata.BINARY_BYTE_MARSHALLER);

    private WireErrors() {
    }

    // ---------------------------------------------------------------- encoding (server)

    /** The gRPC status of {@code e}: the code its {@link ErrorTable} row names, its message as description. */
    public static Status status(TxkvException e) {
        return Status.fromCode(ErrorTable.of(e.getError()).grpcStatus()).withDescription(e.getMessage());
    }

    /**
     * The failure of a call that answers {@code e}, ready for {@code StreamObserver.onError}.
     *
     * @param notLeader who leads, sent with a not_leader error (null: nothing known, an empty
     *     detail is sent); ignored for every other error
     */
    public static StatusRuntimeException toStatusException(TxkvException e, NotLeader notLeader) {
        return status(e).asRuntimeException(trailers(e, notLeader));
    }

    /** The trailers that carry {@code e}; {@code notLeader} as in {@link #toStatusException}. */
    public static Metadata trailers(TxkvException e, NotLeader notLeader) {
        Metadata trailers = new Metadata();
        trailers.put(ERROR_CODE, Integer.toString(e.getCode()));
        trailers.put(ERROR_NAME, e.getError().errorName());
        ConflictDetails details = conflictDetails(e);
        if (details != null) {
            trailers.put(ERROR_DETAILS, details.toByteArray());
        }
        if (e.getError() == ErrorCode.NOT_LEADER) {
            trailers.put(NOT_LEADER, orEmpty(notLeader).toByteArray());
        }
        return trailers;
    }

    /** One batch element's error: what {@link #trailers} would carry for a single call. */
    public static ElementError elementError(TxkvException e, NotLeader notLeader) {
        ElementError.Builder b = ElementError.newBuilder().setCode(e.getCode()).setName(e.getError().errorName())
                .setMessage(e.getMessage() == null ? e.getError().description() : e.getMessage());
        ConflictDetails details = conflictDetails(e);
        if (details != null) {
            b.setConflict(details);
        }
        if (e.getError() == ErrorCode.NOT_LEADER) {
            b.setNotLeader(orEmpty(notLeader));
        }
        return b.build();
    }

    /** The conflicting read ranges of a not_committed error that reported them, or null. */
    public static ConflictDetails conflictDetails(TxkvException e) {
        if (e.getError() != ErrorCode.NOT_COMMITTED || e.getConflictingKeyRanges().isEmpty()) {
            return null;
        }
        return toDetails(e.getConflictingKeyRanges());
    }

    private static NotLeader orEmpty(NotLeader notLeader) {
        return notLeader == null ? NotLeader.getDefaultInstance() : notLeader;
    }

    // ---------------------------------------------------------------- decoding (clients)

    /**
     * A server's error as a failed call or a batch element carried it.
     *
     * @param code the numeric code, possibly one this side does not know
     * @param name the name the server sent
     * @param description the server's message, or null when it sent none
     * @param conflictingRanges for not_committed with reported conflicts, the ranges; else empty
     * @param notLeader for not_leader, who leads as the server knew it (null when it sent nothing)
     */
    public record ServerError(int code, String name, String description, List<Range> conflictingRanges,
            NotLeader notLeader) {
        public ServerError {
            conflictingRanges = List.copyOf(conflictingRanges);
        }

        /** The error of {@link #code()}; internal_error (4100) for a code this side does not know. */
        public ErrorCode error() {
            return ErrorCode.of(code);
        }

        /** False for a code this side does not know (a newer server's): it is then internal_error, not retryable. */
        public boolean known() {
            return error().code() == code;
        }

        /** The not_leader detail, when one came. */
        public Optional<NotLeader> leader() {
            return Optional.ofNullable(notLeader);
        }

        /**
         * The exception a Java caller sees: the error with the server's message; an unknown code
         * keeps its number and name visible in the message.
         *
         * @param origin appended in parentheses, e.g. "server 127.0.0.1:4500"; null for none
         * @param cause the exception's cause, or null
         */
        public TxkvException toException(String origin, Throwable cause) {
            String message = description == null ? error().description() : description;
            // A txkv server's description already starts with "name (code): " (TxkvException's
            // message); the exception made here adds it again.
            String prefix = name + " (" + code + "): ";
            if (known() && message.startsWith(prefix)) {
                message = message.substring(prefix.length());
            }
            if (!known()) {
                message = "server error " + code + " " + name + ": " + message;
            }
            if (origin != null) {
                message = message + " (" + origin + ")";
            }
            return new TxkvException(error(), message, cause, conflictingRanges);
        }

        /**
         * The failure a single call with this error would have ended with: a batch element's
         * error turned back into what its own call would have given, so that one decoder reads
         * both. A code this side does not know gets status UNKNOWN.
         */
        public StatusRuntimeException asCallFailure() {
            Status.Code status = ErrorTable.forCode(code).map(ErrorTable.Row::grpcStatus).orElse(Status.Code.UNKNOWN);
            Metadata trailers = new Metadata();
            trailers.put(ERROR_CODE, Integer.toString(code));
            trailers.put(ERROR_NAME, name);
            if (!conflictingRanges.isEmpty()) {
                trailers.put(ERROR_DETAILS, toDetails(conflictingRanges).toByteArray());
            }
            if (notLeader != null) {
                trailers.put(NOT_LEADER, notLeader.toByteArray());
            }
            return Status.fromCode(status).withDescription(description).asRuntimeException(trailers);
        }
    }

    /**
     * The server's error that a failed call carries, or null when its trailers have no
     * {@value #ERROR_CODE_TRAILER}: then the failure came from the network or gRPC itself, and
     * what it means depends on the call. An unreadable code is internal_error (4100); an
     * unreadable detail is left out (the error itself still counts).
     */
    public static ServerError fromTrailers(Status status, Metadata trailers) {
        String codeText = trailers == null ? null : trailers.get(ERROR_CODE);
        if (codeText == null) {
            return null;
        }
        String description = status.getDescription();
        int code;
        try {
            code = Integer.parseInt(codeText.trim());
        } catch (NumberFormatException e) {
            return new ServerError(ErrorCode.INTERNAL_ERROR.code(), ErrorCode.INTERNAL_ERROR.errorName(),
                    "Unreadable error code '" + codeText + "'" + (description == null ? "" : ": " + description), List.of(), null);
        }
        String name = trailers.get(ERROR_NAME);
        return new ServerError(code, name == null ? "" : name, description, conflictingRanges(trailers.get(ERROR_DETAILS)),
                notLeader(trailers.get(NOT_LEADER)));
    }

    /** The server's error of one GetMany or CommitMany element. */
    public static ServerError fromElement(ElementError e) {
        List<Range> ranges = e.hasConflict() ? ranges(e.getConflict()) : List.of();
        return new ServerError(e.getCode(), e.getName(), e.getMessage().isEmpty() ? null : e.getMessage(), ranges,
                e.hasNotLeader() ? e.getNotLeader() : null);
    }

    private static List<Range> conflictingRanges(byte[] details) {
        if (details == null) {
            return List.of();
        }
        try {
            return ranges(ConflictDetails.parseFrom(details));
        } catch (InvalidProtocolBufferException e) {
            return List.of();
        }
    }

    private static NotLeader notLeader(byte[] detail) {
        if (detail == null) {
            return null;
        }
        try {
            return NotLeader.parseFrom(detail);
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
    }

    private static List<Range> ranges(ConflictDetails details) {
        List<Range> ranges = new ArrayList<>(details.getConflictingRangesCount());
        for (KeyRange r : details.getConflictingRangesList()) {
            ranges.add(new Range(r.getBegin().toByteArray(), r.getEnd().toByteArray()));
        }
        return ranges;
    }

    private static ConflictDetails toDetails(List<Range> ranges) {
        ConflictDetails.Builder details = ConflictDetails.newBuilder();
        for (Range r : ranges) {
            details.addConflictingRanges(KeyRange.newBuilder()
                    .setBegin(ByteString.copyFrom(r.begin)).setEnd(ByteString.copyFrom(r.end)));
        }
        return details.build();
    }
}
