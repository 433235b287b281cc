package dev.txkv.server.http;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import dev.txkv.ErrorCode;
import java.io.IOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/{Method}} for every method of a gRPC service, derived from the service's
 * descriptor: the JSON body is parsed into the method's request message, the call goes
 * through the channel, and the response is printed as proto3 JSON.
 *
 * <p>Implementation notes. A server-streaming method's messages are merged into one with
 * protobuf's merge rules: repeated fields concatenate and a set scalar overrides, which for
 * GetRange gives all rows and the last message's {@code more}, and for Watch its single
 * message. The merged response is bounded ({@code responseBytesMax}); past it the call is
 * cancelled and, when the message has a boolean {@code more} field, it is set, which is a
 * correct (if short) answer. Long-poll methods (Watch) do not hold a worker thread while they
 * wait: they run asynchronously, a semaphore bounds how many wait at once, and their deadline
 * comes from the {@code timeoutMs} query parameter; reaching it answers the response message's
 * defaults ({@code {"changed":false}}).
 */
final class RpcTranscoder {
    private static final Logger LOG = LoggerFactory.getLogger(RpcTranscoder.class);
    static final long LONG_POLL_TIMEOUT_MS_DEFAULT = 30_000;
    static final long LONG_POLL_TIMEOUT_MS_MAX = 300_000;

    private final Channel channel;
    private final Map<String, MethodDescriptor<Message, Message>> methods = new LinkedHashMap<>();
    private final Set<String> longPollMethods;
    private final long deadlineMs;
    private final long responseBytesMax;
    private final Semaphore longPolls;
    private final Set<ClientCall<?, ?>> longPollCalls = ConcurrentHashMap.newKeySet();
    private final Executor answers;

    /**
     * @param answers where a long poll's answer is written: the call's callback may run on a
     *     thread of the service (a direct executor), which must not wait on a client's socket
     */
    RpcTranscoder(Channel channel, java.util.List<ServiceDescriptor> services, Set<String> longPollMethods, long deadlineMs,
            long responseBytesMax, int longPollsMax, Executor answers) {
        this.channel = channel;
        this.answers = answers;
        this.longPollMethods = Set.copyOf(longPollMethods);
        this.deadlineMs = deadlineMs;
        this.responseBytesMax = responseBytesMax;
        this.longPolls = new Semaphore(longPollsMax);
        for (ServiceDescriptor service : services) {
            for (MethodDescriptor<?, ?> m : service.getMethods()) {
                if (methods.put(m.getBareMethodName(), cast(m)) != null) {
                    throw new IllegalArgumentException("Two services have a method " + m.getBareMethodName());
                }
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static MethodDescriptor<Message, Message> cast(MethodDescriptor<?, ?> m) {
        if (!(m.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller)
                || !(m.getResponseMarshaller() instanceof MethodDescriptor.PrototypeMarshaller)) {
            throw new IllegalArgumentException("Method " + m.getFullMethodName() + " has no protobuf marshaller");
        }
        return (MethodDescriptor<Message, Message>) m;
    }

    /** The bare names of the transcoded methods, in the service's order. */
    Set<String> methodNames() {
        return methods.keySet();
    }

    boolean has(String bareName) {
        return methods.containsKey(bareName);
    }

    void handle(HttpCall call, String bareName) throws IOException {
        MethodDescriptor<Message, Message> method = methods.get(bareName);
        boolean longPoll = longPollMethods.contains(bareName);
        call.allowQuery(longPoll ? Set.of("timeoutMs") : Set.of());
        long timeoutMs = longPoll ? longPollTimeoutMs(call) : deadlineMs;
        Message request = parseRequest(call, method);
        if (longPoll) {
            startLongPoll(call, method, request, timeoutMs);
            return;
        }
        Message response;
        try {
            response = method.getType() == MethodDescriptor.MethodType.UNARY
                    ? ClientCalls.blockingUnaryCall(channel, method, options(timeoutMs), request)
                    : collect(method, request, timeoutMs);
        } catch (RuntimeException e) {
            throw HttpError.fromGrpc(e);
        }
        call.respondJson(200, GatewayDocuments.print(response));
    }

    private static long longPollTimeoutMs(HttpCall call) {
        String text = call.query("timeoutMs");
        if (text == null) {
            return LONG_POLL_TIMEOUT_MS_DEFAULT;
        }
        long timeoutMs;
        try {
            timeoutMs = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw HttpError.badRequest("timeoutMs must be an integer, not '" + text + "'");
        }
        if (timeoutMs < 1 || timeoutMs > LONG_POLL_TIMEOUT_MS_MAX) {
            throw HttpError.of(400, ErrorCode.INVALID_OPTION_VALUE,
                    "timeoutMs must be between 1 and " + LONG_POLL_TIMEOUT_MS_MAX);
        }
        return timeoutMs;
    }

    private static Message parseRequest(HttpCall call, MethodDescriptor<Message, Message> method) throws IOException {
        Message prototype = ((MethodDescriptor.PrototypeMarshaller<Message>) method.getRequestMarshaller()).getMessagePrototype();
        Message.Builder builder = prototype.newBuilderForType();
        String body = call.bodyText();
        if (!body.isBlank()) {
            GatewayDocuments.parse(body, builder);
        }
        // Every request carries protocol_version; a curl user should not have to.
        FieldDescriptor version = builder.getDescriptorForType().findFieldByName("protocol_version");
        if (version != null && ((Number) builder.getField(version)).longValue() == 0) {
            builder.setField(version, 1);
        }
        return builder.build();
    }

    private static CallOptions options(long timeoutMs) {
        return CallOptions.DEFAULT.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS);
    }

    private Message collect(MethodDescriptor<Message, Message> method, Message request, long timeoutMs) {
        Message.Builder merged = null;
        long bytes = 0;
        // Run inside a cancellable context so that stopping early (over the size bound) cancels the call.
        Context.CancellableContext context = Context.current().withCancellation();
        Context previous = context.attach();
        try {
            Iterator<Message> messages = ClientCalls.blockingServerStreamingCall(channel, method, options(timeoutMs), request);
            while (messages.hasNext()) {
                Message next = messages.next();
                merged = merged == null ? next.toBuilder() : merged.mergeFrom(next);
                bytes += next.getSerializedSize();
                if (bytes > responseBytesMax) {
                    return truncated(merged);
                }
            }
        } finally {
            context.detach(previous);
            context.cancel(null);
        }
        if (merged == null) {
            Message prototype = ((MethodDescriptor.PrototypeMarshaller<Message>) method.getResponseMarshaller()).getMessagePrototype();
            return prototype;
        }
        return merged.build();
    }

    private Message truncated(Message.Builder merged) {
        FieldDescriptor more = merged.getDescriptorForType().findFieldByName("more");
        if (more == null || more.getJavaType() != FieldDescriptor.JavaType.BOOLEAN) {
            throw HttpError.of(500, ErrorCode.TRANSACTION_TOO_LARGE,
                    "The response exceeds the gateway's limit of " + responseBytesMax + " bytes");
        }
        return merged.setField(more, true).build();
    }

    private void startLongPoll(HttpCall call, MethodDescriptor<Message, Message> method, Message request, long timeoutMs) {
        if (!longPolls.tryAcquire()) {
            throw HttpError.of(ErrorCode.TOO_MANY_WATCHES, "Too many long polls are waiting; retry later");
        }
        ClientCall<Message, Message> clientCall = channel.newCall(method, options(timeoutMs));
        longPollCalls.add(clientCall);
        call.detach();
        Message defaults = ((MethodDescriptor.PrototypeMarshaller<Message>) method.getResponseMarshaller()).getMessagePrototype();
        StreamObserver<Message> observer = new StreamObserver<>() {
            private Message.Builder merged;

            @Override
            public void onNext(Message value) {
                merged = merged == null ? value.toBuilder() : merged.mergeFrom(value);
            }

            @Override
            public void onError(Throwable t) {
                if (Status.fromThrowable(t).getCode() == Status.Code.DEADLINE_EXCEEDED) {
                    finish(() -> call.respondJson(200, GatewayDocuments.print(defaults)));
                } else {
                    finish(() -> call.respondError(HttpError.fromGrpc(t)));
                }
            }

            @Override
            public void onCompleted() {
                Message response = merged == null ? defaults : merged.build();
                finish(() -> call.respondJson(200, GatewayDocuments.print(response)));
            }

            private void finish(IoAction respond) {
                longPollCalls.remove(clientCall);
                longPolls.release();
                try {
                    answers.execute(() -> answer(respond));
                } catch (RejectedExecutionException e) {
                    answer(respond);
                }
            }

            private void answer(IoAction respond) {
                try {
                    respond.run();
                } catch (IOException | RuntimeException e) {
                    LOG.debug("Could not answer a long poll on {}", call.rawPath, e);
                } finally {
                    call.exchange.close();
                }
            }
        };
        try {
            ClientCalls.asyncServerStreamingCall(clientCall, request, observer);
        } catch (RuntimeException e) {
            observer.onError(e);
        }
    }

    /** Cancels the waiting long polls; each answers with its error and releases its exchange. */
    void cancelLongPolls() {
        for (ClientCall<?, ?> c : longPollCalls) {
            c.cancel("The HTTP gateway is closing", null);
        }
    }

    @FunctionalInterface
    private interface IoAction {
        void run() throws IOException;
    }
}
