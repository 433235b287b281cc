package dev.txkv.bench.compare.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** The driver's command line and its failures, without an etcd: none is started in the test suite. */
class EtcdDriverTest {
    private record Run(int code, String out, String err) {
    }

    private static Run run(String stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = EtcdDriver.run(args, new BufferedReader(new StringReader(stdin)), new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void withoutACommandPrintsUsage() {
        Run r = run("");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Usage: txkv-bench-etcd", "bank");
    }

    @Test
    void bankNeedsEndpoints() {
        Run r = run("", "bank");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required option: '--endpoints=URLS'");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void aBadOptionValueIsNamed() {
        Run r = run("", "bank", "--endpoints", "http://127.0.0.1:2379", "--connect-timeout-ms", "soon");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--connect-timeout-ms", "soon");
    }

    @Test
    void anUnreachableEtcdIsReportedWithItsAddress() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        String endpoint = "http://127.0.0.1:" + port;
        long start = System.nanoTime();
        Run r = run("run 10 1 0 100\n", "bank", "--endpoints", endpoint, "--connect-timeout-ms", "1500");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("txkv-bench-etcd: cannot reach etcd at " + endpoint);
        // Not "ready", and no result: bench compare reports the failure instead of waiting.
        assertThat(r.out()).isEmpty();
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(15_000);
    }
}
