package dev.txkv.cli.shell;

import dev.txkv.spi.RemoteAdminProvider;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A remote admin provider for tests: each fake overrides the calls its commands make; any other fails the test. */
abstract class AdminProviderStub implements RemoteAdminProvider {
    private static UnsupportedOperationException unused() {
        return new UnsupportedOperationException("not a call this test's commands make");
    }

    @Override
    public byte[] status(String connection, Duration timeout) {
        throw unused();
    }

    @Override
    public Map<String, String> setMembers(String connection, Map<String, String> members, Duration timeout) {
        throw unused();
    }

    @Override
    public byte[] split(String connection, byte[] key, Duration timeout) {
        throw unused();
    }

    @Override
    public byte[] move(String connection, int shard, List<String> members, String reason, Duration timeout) {
        throw unused();
    }

    @Override
    public byte[] merge(String connection, int shard, String reason, Duration timeout) {
        throw unused();
    }

    @Override
    public byte[] exclude(String connection, String member, boolean include, Duration timeout) {
        throw unused();
    }

    @Override
    public byte[] changeAuth(String connection, byte[] request, Duration timeout) {
        throw unused();
    }

    @Override
    public byte[] describeAuth(String connection, Duration timeout) {
        throw unused();
    }
}
