package dev.txkv.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** What bench compare and a driver JVM say to each other: requests and results, one a line. */
class DriverProtocolTest {
    @Test
    void roundTripsThroughOneLine() {
        Histogram latency = new Histogram(3);
        for (long micros = 100; micros < 90_000; micros += 997) {
            latency.recordValue(micros);
        }
        BankWorkload.Result r = new BankWorkload.Result("etcd", 1_000, 64, 2.0, 4_321, 4_400, 3, 7, latency, 1_000_000, 1_000_000);
        String line = r.toJson();
        assertThat(line).doesNotContain("\n");
        BankWorkload.Result back = BankWorkload.Result.fromJson(line);
        assertThat(back).usingRecursiveComparison().ignoringFields("latencyMicros").isEqualTo(r);
        assertThat(back.latencyMicros()).isEqualTo(latency);
        assertThat(back.p99Ms()).isEqualTo(r.p99Ms());
    }

    @Test
    void accountsAreKeyedAndValuedAlikeEverywhere() {
        assertThat(new String(BankWorkload.accountKey(42), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("bank/000042");
        assertThat(BankWorkload.amountOf(BankWorkload.amount(-5))).isEqualTo(-5);
        assertThat(BankWorkload.amountOf(null)).isZero();
        assertThatThrownBy(() -> BankWorkload.Result.fromJson("{\"system\":\"etcd\"}")).isInstanceOf(RuntimeException.class);
    }

    @Test
    void requestsRoundTripOrAreRefusedWithTheirForm() {
        BankRequest request = new BankRequest(1_000, 64, 500, 2_000);
        assertThat(request.line()).isEqualTo("run 1000 64 500 2000");
        assertThat(BankRequest.parse(" " + request.line() + " ")).isEqualTo(request);
        assertThatThrownBy(() -> BankRequest.parse("run 10 x 0 1"))
                .hasMessage("bad request 'run 10 x 0 1': expected 'run ACCOUNTS CLIENTS WARMUP_MS MEASURE_MS'");
        assertThatThrownBy(() -> BankRequest.parse("bank 10 1 0 1")).hasMessageContaining("expected 'run ");
    }
}
