package dev.txkv.server.http;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Label;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Type;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.WrappersProto;
import com.google.protobuf.util.JsonFormat;
import dev.txkv.proto.TxkvProto;

/**
 * The JSON documents of the gateway's convenience endpoints, declared as protobuf messages so
 * that the same library ({@link JsonFormat}) parses and prints them as the transcoded RPCs:
 * strict parsing (unknown fields and wrong types are refused), 64-bit integers as strings,
 * and no JSON written by hand. The schema, in .proto terms:
 *
 * <pre>
 * message Error {
 *   int32 code = 1; string name = 2; string message = 3; bool retryable = 4;
 *   Leader leader = 5;                             // only for not_leader (1060)
 * }
 * message Leader { string id = 1; string address = 2; }  // txkv.v1.NotLeader's leader fields
 * message ErrorBody { Error error = 1; }
 * message Range { string begin = 1; string end = 2; }
 * message Mutation { txkv.v1.MutationType type = 1; string key = 2; string param = 3; }
 * message Transaction {
 *   google.protobuf.Int64Value read_version = 1;   // absent: the transaction read nothing
 *   repeated string reads = 2;                     // keys read: each a read conflict
 *   repeated Range read_conflicts = 3;
 *   repeated Range write_conflicts = 4;            // added to those the mutations imply
 *   repeated Mutation mutations = 5;
 *   string encoding = 6;                           // "utf8" (default) or "base64"
 *   string idempotency_id = 7;
 *   bool report_conflicting_keys = 8;
 * }
 * message Entry { string key = 1; string value = 2; int64 read_version = 3; }
 * message Rows { repeated Row rows = 1; bool more = 2; int64 read_version = 3; }
 * message Row { string key = 1; string value = 2; }
 * message Health { string status = 1; string reason = 2; }
 * // BinaryEntry, BinaryRow, BinaryRows: the same with bytes keys and values, for encoding=base64
 * </pre>
 *
 * Keys and values are strings in the request's encoding (UTF-8 text or base64).
 */
final class GatewayDocuments {
    private static final String PACKAGE = "txkv.http.v1";

    static final Descriptor ERROR;
    static final Descriptor ERROR_BODY;
    static final Descriptor LEADER;
    static final Descriptor RANGE;
    static final Descriptor MUTATION;
    static final Descriptor TRANSACTION;
    static final Descriptor ENTRY;
    static final Descriptor ROWS;
    static final Descriptor ROW;
    static final Descriptor HEALTH;
    static final Descriptor BINARY_ENTRY;
    static final Descriptor BINARY_ROWS;
    static final Descriptor BINARY_ROW;

    private static final JsonFormat.Parser PARSER = JsonFormat.parser();
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().alwaysPrintFieldsWithNoPresence();

    static {
        FileDescriptorProto file = FileDescriptorProto.newBuilder()
                .setName("txkv/http/v1/gateway.proto")
                .setPackage(PACKAGE)
                .setSyntax("proto3")
                .addDependency(TxkvProto.getDescriptor().getName())
                .addDependency(WrappersProto.getDescriptor().getName())
                .addMessageType(message("Error", scalar("code", 1, Type.TYPE_INT32), scalar("name", 2, Type.TYPE_STRING),
                        scalar("message", 3, Type.TYPE_STRING), scalar("retryable", 4, Type.TYPE_BOOL),
                        typed("leader", 5, Type.TYPE_MESSAGE, "." + PACKAGE + ".Leader")))
                .addMessageType(message("Leader", scalar("id", 1, Type.TYPE_STRING), scalar("address", 2, Type.TYPE_STRING)))
                .addMessageType(message("ErrorBody", typed("error", 1, Type.TYPE_MESSAGE, "." + PACKAGE + ".Error")))
                .addMessageType(message("Range", scalar("begin", 1, Type.TYPE_STRING), scalar("end", 2, Type.TYPE_STRING)))
                .addMessageType(message("Mutation", typed("type", 1, Type.TYPE_ENUM, ".txkv.v1.MutationType"),
                        scalar("key", 2, Type.TYPE_STRING), scalar("param", 3, Type.TYPE_STRING)))
                .addMessageType(message("Transaction",
                        typed("read_version", 1, Type.TYPE_MESSAGE, ".google.protobuf.Int64Value"),
                        repeated(scalar("reads", 2, Type.TYPE_STRING)),
                        repeated(typed("read_conflicts", 3, Type.TYPE_MESSAGE, "." + PACKAGE + ".Range")),
                        repeated(typed("write_conflicts", 4, Type.TYPE_MESSAGE, "." + PACKAGE + ".Range")),
                        repeated(typed("mutations", 5, Type.TYPE_MESSAGE, "." + PACKAGE + ".Mutation")),
                        scalar("encoding", 6, Type.TYPE_STRING),
                        scalar("idempotency_id", 7, Type.TYPE_STRING),
                        scalar("report_conflicting_keys", 8, Type.TYPE_BOOL)))
                .addMessageType(message("Entry", scalar("key", 1, Type.TYPE_STRING), scalar("value", 2, Type.TYPE_STRING),
                        scalar("read_version", 3, Type.TYPE_INT64)))
                .addMessageType(message("Row", scalar("key", 1, Type.TYPE_STRING), scalar("value", 2, Type.TYPE_STRING)))
                .addMessageType(message("Rows", repeated(typed("rows", 1, Type.TYPE_MESSAGE, "." + PACKAGE + ".Row")),
                        scalar("more", 2, Type.TYPE_BOOL), scalar("read_version", 3, Type.TYPE_INT64)))
                .addMessageType(message("Health", scalar("status", 1, Type.TYPE_STRING), scalar("reason", 2, Type.TYPE_STRING)))
                // With encoding=base64 keys and values are bytes fields, which JSON prints as base64.
                .addMessageType(message("BinaryEntry", scalar("key", 1, Type.TYPE_BYTES), scalar("value", 2, Type.TYPE_BYTES),
                        scalar("read_version", 3, Type.TYPE_INT64)))
                .addMessageType(message("BinaryRow", scalar("key", 1, Type.TYPE_BYTES), scalar("value", 2, Type.TYPE_BYTES)))
                .addMessageType(message("BinaryRows", repeated(typed("rows", 1, Type.TYPE_MESSAGE, "." + PACKAGE + ".BinaryRow")),
                        scalar("more", 2, Type.TYPE_BOOL), scalar("read_version", 3, Type.TYPE_INT64)))
                .build();
        Descriptors.FileDescriptor built;
        try {
            built = Descriptors.FileDescriptor.buildFrom(file, new Descriptors.FileDescriptor[] {
                TxkvProto.getDescriptor(), WrappersProto.getDescriptor()});
        } catch (Descriptors.DescriptorValidationException e) {
            throw new ExceptionInInitializerError(e);
        }
        ERROR = built.findMessageTypeByName("Error");
        ERROR_BODY = built.findMessageTypeByName("ErrorBody");
        LEADER = built.findMessageTypeByName("Leader");
        RANGE = built.findMessageTypeByName("Range");
        MUTATION = built.findMessageTypeByName("Mutation");
        TRANSACTION = built.findMessageTypeByName("Transaction");
        ENTRY = built.findMessageTypeByName("Entry");
        ROWS = built.findMessageTypeByName("Rows");
        ROW = built.findMessageTypeByName("Row");
        HEALTH = built.findMessageTypeByName("Health");
        BINARY_ENTRY = built.findMessageTypeByName("BinaryEntry");
        BINARY_ROWS = built.findMessageTypeByName("BinaryRows");
        BINARY_ROW = built.findMessageTypeByName("BinaryRow");
    }

    private GatewayDocuments() {
    }

    /** The JSON body of {@code error}. */
    static String errorJson(HttpError error) {
        DynamicMessage.Builder inner = DynamicMessage.newBuilder(ERROR)
                .setField(field(ERROR, "code"), error.code)
                .setField(field(ERROR, "name"), error.name)
                .setField(field(ERROR, "message"), String.valueOf(error.getMessage()))
                .setField(field(ERROR, "retryable"), error.retryable);
        if (error.leader != null) {
            inner.setField(field(ERROR, "leader"), DynamicMessage.newBuilder(LEADER)
                    .setField(field(LEADER, "id"), error.leader.getLeaderId())
                    .setField(field(LEADER, "address"), error.leader.getLeaderAddress())
                    .build());
        }
        return print(DynamicMessage.newBuilder(ERROR_BODY).setField(field(ERROR_BODY, "error"), inner.build()).build());
    }

    /** A new, empty builder of {@code type}. */
    static DynamicMessage.Builder builder(Descriptor type) {
        return DynamicMessage.newBuilder(type);
    }

    /** {@code type}'s field {@code name}; asserts that the schema above declares it. */
    static FieldDescriptor field(Descriptor type, String name) {
        FieldDescriptor f = type.findFieldByName(name);
        if (f == null) {
            throw new IllegalStateException(type.getFullName() + " has no field " + name);
        }
        return f;
    }

    /** Parses {@code json} into {@code builder}: unknown fields and wrong types are a 400. */
    static void parse(String json, Message.Builder builder) {
        try {
            PARSER.merge(json, builder);
        } catch (InvalidProtocolBufferException e) {
            throw HttpError.badRequest("Invalid JSON for " + builder.getDescriptorForType().getName() + ": " + e.getMessage());
        } catch (RuntimeException | StackOverflowError e) {
            // The JSON library's own refusals (syntax, nesting) arrive unchecked.
            throw HttpError.badRequest("Invalid JSON: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        }
    }

    /** {@code message} as proto3 JSON, with default-valued fields printed too. */
    static String print(MessageOrBuilder message) {
        try {
            return PRINTER.print(message);
        } catch (InvalidProtocolBufferException e) {
            // Only Any fields of unknown types fail to print; none of the gateway's messages has one.
            throw new IllegalStateException(e);
        }
    }

    private static DescriptorProto message(String name, FieldDescriptorProto... fields) {
        DescriptorProto.Builder b = DescriptorProto.newBuilder().setName(name);
        for (FieldDescriptorProto f : fields) {
            b.addField(f);
        }
        return b.build();
    }

    private static FieldDescriptorProto scalar(String name, int number, Type type) {
        return FieldDescriptorProto.newBuilder().setName(name).setNumber(number).setType(type)
                .setLabel(Label.LABEL_OPTIONAL).build();
    }

    private static FieldDescriptorProto typed(String name, int number, Type type, String typeName) {
        return scalar(name, number, type).toBuilder().setTypeName(typeName).build();
    }

    private static FieldDescriptorProto repeated(FieldDescriptorProto f) {
        return f.toBuilder().setLabel(Label.LABEL_REPEATED).build();
    }
}
