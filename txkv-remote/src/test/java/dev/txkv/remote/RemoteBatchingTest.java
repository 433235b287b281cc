package dev.txkv.remote;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.ErrorCode;
import dev.txkv.Range;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.proto.CommitManyRequest;
import dev.txkv.proto.CommitResponse;
import dev.txkv.proto.GetManyRequest;
import dev.txkv.server.ServerConfig;
import dev.txkv.server.TxkvServer;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.Mutation;
import dev.txkv.wire.WireErrors;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coalescing of concurrent gets and commits into GetMany and CommitMany: fewer calls than
 * requests, and every element's outcome exactly as its own call's would have been.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RemoteBatchingTest {
    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Range point(byte[] key) {
        byte[] end = java.util.Arrays.copyOf(key, key.length + 1);
        return new Range(key, end);
    }

    private static CommitRequest set(byte[] key, byte[] value) {
        return new CommitRequest(-1, List.of(), List.of(point(key)), List.of(new Mutation(Mutation.SET, key, value)),
                null, false);
    }

    private static TxkvException error(CompletableFuture<?> f) {
        try {
            f.join();
        } catch (CompletionException e) {
            assertThat(e.getCause()).isInstanceOf(TxkvException.class);
            return (TxkvException) e.getCause();
        }
        throw new AssertionError("succeeded but should have failed");
    }

    /** Sum and count of the server's txkv_rpc_batch_size summary for {@code method}. */
    private static double[] batchMeter(TxkvServer server, String method) {
        String scrape = server.meterRegistry().scrape();
        double[] out = new double[2];
        Matcher sum = Pattern.compile("txkv_rpc_batch_size_sum\\{method=\"" + method + "\"\\} (\\S+)").matcher(scrape);
        Matcher count = Pattern.compile("txkv_rpc_batch_size_count\\{method=\"" + method + "\"\\} (\\S+)").matcher(scrape);
        assertThat(sum.find()).isTrue();
        assertThat(count.find()).isTrue();
        out[0] = Double.parseDouble(sum.group(1));
        out[1] = Double.parseDouble(count.group(1));
        return out;
    }

    @Test
    void concurrentGetsAndCommitsShareCallsAndKeepTheirOwnErrors() throws Exception {
        try (TxkvServer server = TxkvServer.start(new ServerConfig().dataDir(dir).grpcAddress("127.0.0.1", 0)
                .txkvConfig(new TxkvConfig().durable(false)));
                RemoteBackend backend = RemoteBackend.connect("127.0.0.1:" + server.grpcPort(), new RemoteSettings())) {
            int n = 600;
            List<CompletableFuture<CommitResult>> commits = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                byte[] value = i % 10 == 7 ? new byte[100_001] : b("v" + i);   // 2103 for every tenth
                commits.add(backend.commit(set(b("k" + i), value)));
            }
            for (int i = 0; i < n; i++) {
                if (i % 10 == 7) {
                    TxkvException e = error(commits.get(i));
                    assertThat(e.getError()).isEqualTo(ErrorCode.VALUE_TOO_LARGE);
                    assertThat(e.getMessage()).contains("(server 127.0.0.1:" + server.grpcPort() + ")");
                } else {
                    assertThat(commits.get(i).join().version()).isPositive();
                }
            }
            long rv = backend.getReadVersion().join();
            List<CompletableFuture<byte[]>> reads = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                byte[] key = i % 10 == 3 ? new byte[] {(byte) 0xFF, 1} : b("k" + i);   // 2004 for every tenth
                reads.add(backend.get(key, rv));
            }
            for (int i = 0; i < n; i++) {
                if (i % 10 == 3) {
                    TxkvException e = error(reads.get(i));
                    assertThat(e.getError()).isEqualTo(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE);
                    assertThat(e.isRetryable()).isFalse();
                } else if (i % 10 == 7) {
                    assertThat(reads.get(i).join()).isNull();
                } else {
                    assertThat(new String(reads.get(i).join(), StandardCharsets.UTF_8)).isEqualTo("v" + i);
                }
            }
            // Far fewer calls than requests: the server saw most elements inside batch calls.
            long[] sent = backend.batchCounts().get("127.0.0.1:" + server.grpcPort());
            assertThat(sent[1]).isEqualTo(n);
            assertThat(sent[3]).isEqualTo(n);
            assertThat(sent[0]).isLessThan(n / 10);
            assertThat(sent[2]).isLessThan(n / 10);
            double[] getMany = batchMeter(server, "get_many");
            double[] commitMany = batchMeter(server, "commit_many");
            assertThat(getMany[0]).isGreaterThan(n / 2.0);
            assertThat(commitMany[0]).isGreaterThan(n / 2.0);
            assertThat(getMany[1]).isLessThan(n / 10.0);
            assertThat(commitMany[1]).isLessThan(n / 10.0);
        }
    }

    @Test
    void conflictingCommitsInBatchesCommitOnceAndReportTheirRanges() throws Exception {
        try (TxkvServer server = TxkvServer.start(new ServerConfig().dataDir(dir).grpcAddress("127.0.0.1", 0)
                .txkvConfig(new TxkvConfig().durable(false)));
                RemoteBackend backend = RemoteBackend.connect("127.0.0.1:" + server.grpcPort(), new RemoteSettings())) {
            byte[] key = b("contended");
            backend.commit(set(key, b("0"))).join();
            long rv = backend.getReadVersion().join();
            List<CompletableFuture<CommitResult>> commits = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                commits.add(backend.commit(new CommitRequest(rv, List.of(point(key)), List.of(point(key)),
                        List.of(new Mutation(Mutation.SET, key, b("w" + i))), null, true)));
            }
            int committed = 0;
            for (CompletableFuture<CommitResult> c : commits) {
                if (!c.isCompletedExceptionally() && c.handle((r, e) -> e == null).join()) {
                    committed++;
                } else {
                    TxkvException e = error(c);
                    assertThat(e.getError()).isEqualTo(ErrorCode.NOT_COMMITTED);
                    assertThat(e.isRetryable()).isTrue();
                    assertThat(e.getConflictingKeyRanges()).hasSize(1);
                    assertThat(e.getConflictingKeyRanges().get(0).begin).isEqualTo(key);
                }
            }
            assertThat(committed).isEqualTo(1);
        }
    }

    /**
     * Holds the first commits on the server so that the next ones queue in the client and go
     * out as one CommitMany (and the reads likewise as one GetMany).
     */
    private static CountDownLatch holdSingles(FakeServer fake) {
        CountDownLatch release = new CountDownLatch(1);
        fake.onCommit = (r, o) -> new Thread(() -> {
            await(release);
            o.onNext(CommitResponse.newBuilder().setVersion(100).build());
            o.onCompleted();
        }).start();
        fake.onGet = (r, o) -> new Thread(() -> {
            await(release);
            o.onNext(dev.txkv.proto.GetResponse.newBuilder().build());
            o.onCompleted();
        }).start();
        return release;
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aLostCommitManyLeavesEachCommitUnknownAndALostGetManyIsConnectionFailed() throws Exception {
        try (FakeServer fake = new FakeServer();
                RemoteBackend backend = RemoteBackend.connect(fake.connection(), new RemoteSettings())) {
            CountDownLatch release = holdSingles(fake);
            fake.onCommitMany = (r, o) -> o.onError(Status.UNAVAILABLE.withDescription("connection reset").asRuntimeException());
            fake.onGetMany = (r, o) -> o.onError(Status.UNAVAILABLE.withDescription("connection reset").asRuntimeException());
            List<CompletableFuture<CommitResult>> commits = new ArrayList<>();
            List<CompletableFuture<byte[]>> reads = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                commits.add(backend.commit(set(b("k" + i), b("v"))));
                reads.add(backend.get(b("k" + i), 5));
            }
            release.countDown();
            assertThat(commits.get(0).join().version()).isEqualTo(100);
            assertThat(commits.get(1).join().version()).isEqualTo(100);
            for (int i = 2; i < 10; i++) {
                TxkvException e = error(commits.get(i));
                assertThat(e.getError()).isEqualTo(ErrorCode.COMMIT_UNKNOWN_RESULT);
                TxkvException r = error(reads.get(i));
                assertThat(r.getError()).isEqualTo(ErrorCode.CONNECTION_FAILED);
                assertThat(r.isRetryable()).isTrue();
            }
            assertThat(fake.requests.stream().filter(q -> q instanceof CommitManyRequest)).hasSize(1);
            assertThat(fake.requests.stream().filter(q -> q instanceof GetManyRequest)).hasSize(1);
        }
    }

    @Test
    void aServerErrorForTheWholeBatchIsEachElementsError() throws Exception {
        try (FakeServer fake = new FakeServer();
                RemoteBackend backend = RemoteBackend.connect(fake.connection(), new RemoteSettings())) {
            CountDownLatch release = holdSingles(fake);
            fake.onCommitMany = (r, o) -> {
                io.grpc.Metadata trailers = new io.grpc.Metadata();
                trailers.put(WireErrors.ERROR_CODE, "1042");
                trailers.put(WireErrors.ERROR_NAME, "proxy_memory_limit_exceeded");
                o.onError(Status.RESOURCE_EXHAUSTED.withDescription("queue full").asRuntimeException(trailers));
            };
            List<CompletableFuture<CommitResult>> commits = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                commits.add(backend.commit(set(b("k" + i), b("v"))));
            }
            release.countDown();
            for (int i = 2; i < 6; i++) {
                TxkvException e = error(commits.get(i));
                assertThat(e.getError()).isEqualTo(ErrorCode.PROXY_MEMORY_LIMIT_EXCEEDED);
                assertThat(e.isRetryable()).isTrue();
            }
        }
    }

    @Test
    void aServerWithoutBatchCallsGetsSingleCalls() throws Exception {
        try (FakeServer fake = new FakeServer();
                RemoteBackend backend = RemoteBackend.connect(fake.connection(), new RemoteSettings())) {
            CountDownLatch release = holdSingles(fake);
            List<CompletableFuture<CommitResult>> commits = new ArrayList<>();
            List<CompletableFuture<byte[]>> reads = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                commits.add(backend.commit(set(b("k" + i), b("v"))));
                reads.add(backend.get(b("k" + i), 5));
            }
            release.countDown();
            for (int i = 0; i < 8; i++) {
                assertThat(commits.get(i).join().version()).isEqualTo(100);
                assertThat(reads.get(i).join()).isNull();
            }
            // At most one refused CommitMany (none when the scheduler let every call go alone);
            // after a refusal every element goes alone.
            assertThat(fake.requests.stream().filter(q -> q instanceof dev.txkv.proto.CommitRequest)).hasSize(8);
            assertThat(fake.requests.stream().filter(q -> q instanceof dev.txkv.proto.GetRequest)).hasSize(8);
            assertThat(fake.requests.stream().filter(q -> q instanceof CommitManyRequest).count()).isLessThanOrEqualTo(1);
        }
    }
}
