package dev.txkv.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.testkit.Seeds;
import dev.txkv.proto.GetReadVersionRequest;
import dev.txkv.proto.TxkvGrpc;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile input on the gRPC port: random bytes on raw connections, and random (mostly
 * malformed) protobuf payloads to every method. The server must answer each call with a
 * status (never hang), and still serve normal requests afterwards. Seeded: prints its seed,
 * -Dtxkv.seed replays it.
 */
class GrpcFuzzTest {
    @TempDir
    Path dir;
    TestServers.Running running;
    TxkvServer server;
    ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        running = new TestServers.Running(dir);
        server = running.server;
        channel = running.channel;
    }

    @AfterEach
    void stop() throws Exception {
        running.close();
    }

    private void assertStillServes() {
        long version = TxkvGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                .getReadVersion(GetReadVersionRequest.newBuilder().setProtocolVersion(1).build()).getReadVersion();
        assertThat(version).isPositive();
    }

    @Test
    void randomBytesOnRawConnectionsNeitherCrashNorHangTheServer() throws Exception {
        Random r = new Random(Seeds.seed());
        for (int i = 0; i < 200; i++) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", server.grpcPort()), 2000);
                s.setSoTimeout(2000);
                byte[] junk = new byte[r.nextInt(4096)];
                r.nextBytes(junk);
                if (r.nextBoolean() && junk.length > 24) {
                    // A valid HTTP/2 preface followed by garbage frames reaches deeper code.
                    byte[] preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                    System.arraycopy(preface, 0, junk, 0, preface.length);
                }
                OutputStream out = s.getOutputStream();
                out.write(junk);
                out.flush();
                try {
                    s.getInputStream().read(new byte[1024]);
                } catch (java.io.IOException expected) {
                    // The server may close or reset the connection: that is a fine answer to junk.
                }
            }
        }
        assertStillServes();
    }

    /** Sends raw bytes as the request message of any method. */
    private static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }
    };

    @Test
    void malformedProtobufToEveryMethodGetsAStatusAndTheServerGoesOn() {
        Random r = new Random(Seeds.seed());
        List<MethodDescriptor<?, ?>> methods = new ArrayList<>(TxkvGrpc.getServiceDescriptor().getMethods());
        int answered = 0;
        for (int i = 0; i < 600; i++) {
            MethodDescriptor<?, ?> m = methods.get(r.nextInt(methods.size()));
            MethodDescriptor<byte[], byte[]> raw = MethodDescriptor.<byte[], byte[]>newBuilder()
                    .setType(m.getType() == MethodDescriptor.MethodType.SERVER_STREAMING
                            ? MethodDescriptor.MethodType.SERVER_STREAMING : MethodDescriptor.MethodType.UNARY)
                    .setFullMethodName(m.getFullMethodName()).setRequestMarshaller(RAW).setResponseMarshaller(RAW).build();
            byte[] payload = new byte[r.nextInt(256)];
            r.nextBytes(payload);
            if (r.nextInt(4) == 0 && payload.length > 2) {
                // Protocol version 1 first, then garbage: passes the first check, fails deeper.
                payload[0] = 0x08;
                payload[1] = 0x01;
            }
            try {
                if (raw.getType() == MethodDescriptor.MethodType.UNARY) {
                    ClientCalls.blockingUnaryCall(channel, raw, CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS),
                            payload);
                } else {
                    ClientCalls.blockingServerStreamingCall(channel, raw,
                            CallOptions.DEFAULT.withDeadlineAfter(2, TimeUnit.SECONDS), payload).forEachRemaining(b -> { });
                }
                answered++;
            } catch (StatusRuntimeException e) {
                // A watch on a random key legitimately waits until the deadline; anything else
                // must be answered with a status of its own, never a hang.
                if (!m.getFullMethodName().endsWith("/Watch")) {
                    assertThat(e.getStatus().getCode()).isNotEqualTo(io.grpc.Status.Code.DEADLINE_EXCEEDED);
                }
                answered++;
            }
        }
        assertThat(answered).isEqualTo(600);
        assertStillServes();
    }
}
