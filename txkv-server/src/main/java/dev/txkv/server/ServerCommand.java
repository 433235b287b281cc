package dev.txkv.server;

import dev.txkv.TxkvException;
import dev.txkv.replication.ReplicationConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code txkv server}: runs a {@link TxkvServer} until the process is told to stop (SIGTERM,
 * SIGINT), then shuts it down gracefully. Binds to 127.0.0.1 unless told otherwise: a
 * database should not appear on a network by accident.
 */
@Command(
        name = "server",
        description = {
            "Runs txkv as a network database: gRPC (txkv.v1 and grpc.health.v1) and HTTP/JSON on a data directory.",
            "Runs until SIGTERM or SIGINT, then stops gracefully: in-flight calls finish, every acknowledged commit is on disk."
        },
        footer = {
            "",
            "Replication: start every member with the same --peers (this server included) and its own --id;",
            "the members elect a leader, which takes commits; the others serve reads and follow. With",
            "--peer-clients, status on any member lists every member's applied version, health and lag. Example:",
            "  txkv server --data d1 --listen 127.0.0.1:4500 --http none --id a \\",
            "      --peers a@127.0.0.1:4502,b@127.0.0.1:4512,c@127.0.0.1:4522 \\",
            "      --peer-clients a@127.0.0.1:4500,b@127.0.0.1:4510,c@127.0.0.1:4520"
        },
        sortOptions = false)
public final class ServerCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = "./txkv-data",
            description = "Data directory; created if missing, locked while the server runs (default: ${DEFAULT-VALUE}).")
    private Path data;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:4500",
            description = "gRPC address; port 0 picks a free port (default: ${DEFAULT-VALUE}).")
    private String listen;

    @Option(names = "--http", paramLabel = "HOST:PORT|none", defaultValue = "127.0.0.1:4501",
            description = "HTTP/JSON gateway address, or none (default: ${DEFAULT-VALUE}).")
    private String http;

    @Option(names = "--id", paramLabel = "ID",
            description = "This server's member id in a replicated cluster (letters, digits, '-', '_'); needs --peers.")
    private String id;

    @Option(names = "--peers", paramLabel = "ID@HOST:RAFTPORT,...",
            description = "Every member of the replicated cluster, this server included: id@host:port of each"
                    + " member's Raft endpoint (separate from its client port). Needs --id.")
    private String peers;

    @Option(names = "--peer-clients", paramLabel = "ID@HOST:PORT,...",
            description = "The client (gRPC) address of members of the replicated cluster: id@host:port each."
                    + " Status asked on this server asks the others for their own status (members left out show as"
                    + " unreachable), and a member that does not lead names the leader's address in its not_leader"
                    + " answers, so that clients go there first (default: none; this server's own is its --listen)."
                    + " Needs --peers.")
    private String peerClients;

    @Option(names = "--cluster-name", paramLabel = "NAME",
            description = "Name of the replicated cluster; all members must agree (default: txkv).")
    private String clusterName;

    @Option(names = "--shards", paramLabel = "N",
            description = "Split the keyspace evenly into N shards, each its own Raft group, with transactions across"
                    + " shards by two-phase commit (docs/sharding.md); 1 to " + ShardLayout.SHARDS_MAX
                    + ". Needs --id, --peers and every other member in --peer-clients; fixed when the cluster is"
                    + " created (default: unsharded).")
    private Integer shards;

    @Option(names = "--shard-replicas", paramLabel = "R",
            description = "Members that keep a replica of each shard, 1 to the member count (default: 3, or every"
                    + " member when fewer). Needs --shards.")
    private Integer shardReplicas;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "Serve the client port and the HTTP gateway over TLS with this certificate chain (PEM);"
                    + " needs --tls-key and --tls-ca. A replicated server then speaks mutual TLS to the other members"
                    + " too (docs/security.md).")
    private Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "The private key of --tls-cert (PEM, PKCS#8).")
    private Path tlsKey;

    @Option(names = "--tls-ca", paramLabel = "FILE",
            description = "The CA certificates (PEM) that sign the certificates of clients and members.")
    private Path tlsCa;

    @Option(names = "--tls-client-auth", paramLabel = "none|want|require",
            description = "Which client certificates the client port and the gateway ask for: none (default), want"
                    + " (one given must be signed by --tls-ca), require.")
    private String tlsClientAuth;

    @Option(names = "--peer-tls-cert", paramLabel = "FILE",
            description = "The certificate members present to each other (default: --tls-cert); its common name"
                    + " must begin with txkv-node:. Needs --peer-tls-key and --peer-tls-ca.")
    private Path peerTlsCert;

    @Option(names = "--peer-tls-key", paramLabel = "FILE", description = "The private key of --peer-tls-cert.")
    private Path peerTlsKey;

    @Option(names = "--peer-tls-ca", paramLabel = "FILE", description = "The CA that signs the members' certificates.")
    private Path peerTlsCa;

    @Option(names = "--tls-reload-interval", paramLabel = "MS",
            description = "How often the TLS files are checked for changes and reloaded, in ms (default 60000; 0:"
                    + " never). A file that fails to load keeps the certificate in use and logs an error.")
    private Long tlsReloadMs;

    @Option(names = "--insecure",
            description = "Allow listening beyond the loopback interface without TLS (refused otherwise).")
    private boolean insecure;

    @Option(names = "--split-size", paramLabel = "SIZE",
            description = "A shard whose keys and values pass SIZE bytes splits by itself at the key that halves"
                    + " them (a number, or with KiB, MiB or GiB; 0 turns automatic splits off; default 64MiB)."
                    + " Needs --shards.")
    private String splitSize;

    @Option(names = "--split-load", paramLabel = "KEYS_PER_SECOND",
            description = "A shard whose reads and commits touch more than this many keys per second over a check's"
                    + " period splits by itself at the sampled key that halves its load; a shard whose load is mostly"
                    + " one key is reported in status instead (0 turns it off; default 10000). Needs --shards.")
    private Long splitLoad;

    @Option(names = "--split-check-interval", paramLabel = "MS",
            description = "How often each shard's leader compares its size with --split-size and its load with"
                    + " --split-load, in ms (default 10000). Needs --shards.")
    private Long splitCheckMs;

    @Option(names = "--replace-lost-after", paramLabel = "MS",
            description = "A member the control group's leader has not heard from for MS ms is lost: its shard replicas"
                    + " move to the other members, one shard at a time (0 turns it off; default 300000). Needs --shards.")
    private Long replaceLostAfterMs;

    @Option(names = "--move-rate", paramLabel = "SIZE",
            description = "How fast this server copies a shard replica it takes in a move, per second (a number of"
                    + " bytes, or with KiB, MiB or GiB; 0: as fast as it can; default 4MiB): a lower rate makes a move"
                    + " take longer and take less from the traffic meanwhile. Needs --shards.")
    private String moveRate;

    @Option(names = "--rebalance", paramLabel = "on|off",
            description = "Whether the control group's leader evens out what the members keep by itself (shard replicas"
                    + " weighed by size, load and count), one move at a time, then their shard leaderships (by load),"
                    + " and merges two neighbouring shards on the same"
                    + " members that together hold less than a quarter of --split-size and carry less than a quarter of"
                    + " --split-load (never below --shards shards; default on). Needs --shards.")
    private String rebalance;

    @Option(names = "--join",
            description = "Join a running sharded cluster as a new member: start with the cluster's --shards and"
                    + " --shard-replicas, --peers and --peer-clients naming its members and this server, and a new"
                    + " --data directory; this server asks to be added, then receives shard replicas. Needs --shards.")
    private boolean join;

    @Option(names = "--connections-per-address", paramLabel = "N",
            description = "Client connections served from one address (default 256); calls on more fail with 1213.")
    private Integer connectionsPerAddress;

    @Option(names = "--crash-points", hidden = true,
            description = "For fault tests only (txkv check): lets ShardPeer.ArmCrashPoint arm the two-phase crash"
                    + " points, which end this process when reached. Needs --shards.")
    private boolean crashPoints;

    /** The TLS flags into {@code config}: all three files of a kind together, or none. */
    private void tls(ServerConfig config) {
        boolean any = tlsCert != null || tlsKey != null || tlsCa != null;
        if (any && (tlsCert == null || tlsKey == null || tlsCa == null)) {
            throw usage("--tls-cert, --tls-key and --tls-ca go together");
        }
        boolean anyPeer = peerTlsCert != null || peerTlsKey != null || peerTlsCa != null;
        if (anyPeer && (peerTlsCert == null || peerTlsKey == null || peerTlsCa == null)) {
            throw usage("--peer-tls-cert, --peer-tls-key and --peer-tls-ca go together");
        }
        if (anyPeer && !any) {
            throw usage("--peer-tls-* needs --tls-cert, --tls-key and --tls-ca");
        }
        if (!any && (tlsClientAuth != null || tlsReloadMs != null)) {
            throw usage((tlsClientAuth != null ? "--tls-client-auth" : "--tls-reload-interval")
                    + " needs --tls-cert, --tls-key and --tls-ca");
        }
        for (Path p : new Path[] {tlsCert, tlsKey, tlsCa, peerTlsCert, peerTlsKey, peerTlsCa}) {
            if (p != null && !java.nio.file.Files.isRegularFile(p)) {
                throw usage("no such file: " + p);
            }
        }
        if (any) {
            dev.txkv.server.tls.ServerTls.ClientAuth auth;
            String a = tlsClientAuth == null ? "none" : tlsClientAuth.trim().toLowerCase(java.util.Locale.ROOT);
            switch (a) {
                case "none" -> auth = dev.txkv.server.tls.ServerTls.ClientAuth.NONE;
                case "want" -> auth = dev.txkv.server.tls.ServerTls.ClientAuth.WANT;
                case "require" -> auth = dev.txkv.server.tls.ServerTls.ClientAuth.REQUIRE;
                default -> throw usage("--tls-client-auth must be none, want or require, got '" + tlsClientAuth + "'");
            }
            config.tls(new dev.txkv.server.tls.ServerTls.Files(tlsCert, tlsKey, tlsCa), auth);
            if (anyPeer) {
                config.peerTls(new dev.txkv.server.tls.ServerTls.Files(peerTlsCert, peerTlsKey, peerTlsCa));
            }
            if (tlsReloadMs != null) {
                if (tlsReloadMs < 0 || tlsReloadMs > 86_400_000L) {
                    throw usage("--tls-reload-interval must be 0 (never) to 86400000 ms, got " + tlsReloadMs);
                }
                config.tlsReloadMs(tlsReloadMs);
            }
        }
        config.insecure(insecure);
    }

    private static final Pattern SIZE = Pattern.compile("([0-9]{1,15})\\s*(|B|KiB|MiB|GiB)", Pattern.CASE_INSENSITIVE);

    /** A byte count: digits, optionally followed by B, KiB, MiB or GiB (powers of 1024). */
    private long parseSize(String option, String text) {
        java.util.regex.Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw usage(option + " must be a number of bytes, optionally with KiB, MiB or GiB (e.g. 64MiB), got '"
                    + text + "'");
        }
        long n = Long.parseLong(m.group(1));
        int shift = switch (m.group(2).toLowerCase(java.util.Locale.ROOT)) {
            case "kib" -> 10;
            case "mib" -> 20;
            case "gib" -> 30;
            default -> 0;
        };
        if (n > (Long.MAX_VALUE >> 31)) {
            throw usage(option + " is too large: " + text);
        }
        return n << shift;
    }

    private static final Pattern MEMBER_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    /**
     * Runs {@code txkv server ARGS} without the launcher, for a class path that has this module
     * but not txkv-cli (the remote client's tests start server processes that way). Exit codes
     * as the launcher's: 0, 1 when the server fails, 2 for a usage error.
     */
    public static void main(String[] args) {
        System.exit(new CommandLine(new ServerCommand()).execute(args));
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ServerConfig config = new ServerConfig().dataDir(data);
        HostPort grpcAddress = parse("--listen", listen);
        config.grpcAddress(grpcAddress.host, grpcAddress.port);
        HostPort httpAddress = "none".equalsIgnoreCase(http.trim()) ? null : parse("--http", http);
        if (httpAddress != null) {
            config.httpAddress(httpAddress.host, httpAddress.port);
        }
        ReplicationConfig replication = replication();
        config.replication(replication);
        if (peerClients != null) {
            if (replication == null) {
                throw usage("--peer-clients needs --id and --peers");
            }
            config.peerClientAddresses(parsePeerClients(peerClients));
        }
        if (shards != null) {
            if (replication == null) {
                throw usage("--shards needs --id and --peers (use --peers " + "ID@HOST:RAFTPORT for a cluster of one)");
            }
            int members = replication.members().size();
            int replicas = shardReplicas == null ? Math.min(3, members) : shardReplicas;
            if (shards < 1 || shards > ShardLayout.SHARDS_MAX) {
                throw usage("--shards must be 1 to " + ShardLayout.SHARDS_MAX + ", got " + shards);
            }
            if (replicas < 1 || replicas > members) {
                throw usage("--shard-replicas must be 1 to the " + members + " members, got " + replicas);
            }
            config.shards(shards, replicas);
        } else if (shardReplicas != null) {
            throw usage("--shard-replicas needs --shards");
        }
        if (splitSize != null || splitLoad != null || splitCheckMs != null) {
            if (shards == null) {
                throw usage((splitSize != null ? "--split-size" : splitLoad != null ? "--split-load" : "--split-check-interval")
                        + " needs --shards");
            }
            long bytes = splitSize == null ? ServerConfig.SPLIT_SIZE_DEFAULT : parseSize("--split-size", splitSize);
            long keysPerSecond = splitLoad == null ? ServerConfig.SPLIT_LOAD_DEFAULT : splitLoad;
            if (keysPerSecond < 0) {
                throw usage("--split-load must be 0 (off) or a positive number of keys per second, got " + keysPerSecond);
            }
            long every = splitCheckMs == null ? ServerConfig.SPLIT_CHECK_MS_DEFAULT : splitCheckMs;
            if (every < 10 || every > 86_400_000L) {
                throw usage("--split-check-interval must be 10 to 86400000 ms, got " + every);
            }
            config.autoSplit(bytes, keysPerSecond, every);
        }
        if (replaceLostAfterMs != null) {
            if (shards == null) {
                throw usage("--replace-lost-after needs --shards");
            }
            if (replaceLostAfterMs != 0 && (replaceLostAfterMs < 1_000 || replaceLostAfterMs > 86_400_000L)) {
                throw usage("--replace-lost-after must be 0 (off) or 1000 to 86400000 ms, got " + replaceLostAfterMs);
            }
            config.replaceLostAfter(replaceLostAfterMs);
        }
        if (moveRate != null) {
            if (shards == null) {
                throw usage("--move-rate needs --shards");
            }
            config.moveRate(parseSize("--move-rate", moveRate));
        }
        if (rebalance != null) {
            if (shards == null) {
                throw usage("--rebalance needs --shards");
            }
            switch (rebalance.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "on" -> config.rebalance(true);
                case "off" -> config.rebalance(false);
                default -> throw usage("--rebalance must be on or off, got '" + rebalance + "'");
            }
        }
        if (join) {
            if (shards == null) {
                throw usage("--join needs --shards (members join sharded clusters; an unsharded cluster takes new"
                        + " members with members add)");
            }
            config.join(true);
        }
        tls(config);
        if (connectionsPerAddress != null) {
            if (connectionsPerAddress < 1) {
                throw usage("--connections-per-address must be at least 1, got " + connectionsPerAddress);
            }
            config.connectionsPerAddressMax(connectionsPerAddress);
        }
        if (crashPoints) {
            if (shards == null) {
                throw usage("--crash-points needs --shards (the crash points are steps of the two-phase commit)");
            }
            config.crashPoints(true);
        }
        TxkvServer server;
        try {
            server = TxkvServer.start(config);
        } catch (IOException | TxkvException e) {
            err.println("txkv server: " + e.getMessage());
            if (debug()) {
                e.printStackTrace(err);
            }
            err.flush();
            return 1;
        }
        out.println("txkv server listening: grpc " + grpcAddress.host + ":" + server.grpcPort()
                + ", http " + (httpAddress == null ? "none" : httpAddress.host + ":" + server.httpPort())
                + ", data " + data
                + (replication == null ? "" : ", member " + replication.selfId() + " of " + replication.members().size()
                        + " (raft " + replication.members().get(replication.selfId()) + ")"));
        out.flush();
        Thread hook = new Thread(() -> {
            server.close();
            out.println("txkv server stopped");
            out.flush();
        }, "txkv-server-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            server.awaitTermination();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** The membership from --id, --peers and --cluster-name, or null when none is given; usage errors otherwise. */
    private ReplicationConfig replication() {
        if (id == null && peers == null) {
            if (clusterName != null) {
                throw usage("--cluster-name needs --id and --peers");
            }
            return null;
        }
        if (id == null) {
            throw usage("--peers needs --id (this server's member id)");
        }
        if (peers == null) {
            throw usage("--id needs --peers (every member as ID@HOST:RAFTPORT, this server included)");
        }
        String self = id.trim();
        if (!MEMBER_ID.matcher(self).matches()) {
            throw usage("--id must be 1 to 64 letters, digits, '-' or '_', got '" + id + "'");
        }
        Map<String, String> members = parseMembers("--peers", "ID@HOST:RAFTPORT", peers);
        if (!members.containsKey(self)) {
            throw usage("--id " + self + " is not among the --peers " + members.keySet());
        }
        try {
            ReplicationConfig rc = new ReplicationConfig(self, members);
            if (clusterName != null) {
                rc.clusterName(clusterName.trim());
            }
            return rc;
        } catch (TxkvException e) {
            throw usage(e.getMessage());
        }
    }

    /** id -> host:port from {@code option}'s value, entries of the form {@code form}; usage errors otherwise. */
    private Map<String, String> parseMembers(String option, String form, String text) {
        Map<String, String> members = new LinkedHashMap<>();
        for (String part : text.split(",", -1)) {
            String entry = part.trim();
            int at = entry.indexOf('@');
            if (at <= 0 || at == entry.length() - 1) {
                throw usage(option + " entries must be " + form + ", got '" + entry + "'");
            }
            String memberId = entry.substring(0, at);
            if (!MEMBER_ID.matcher(memberId).matches()) {
                throw usage(option + ": member id must be 1 to 64 letters, digits, '-' or '_', got '" + memberId + "'");
            }
            HostPort address = parse(option + " (member " + memberId + ")", entry.substring(at + 1));
            if (address.port == 0) {
                throw usage(option + ": member " + memberId + " needs a port from 1 to 65535, got 0");
            }
            if (members.put(memberId, TxkvService.hostPort(address.host, address.port)) != null) {
                throw usage(option + " names member " + memberId + " twice");
            }
        }
        if (new java.util.HashSet<>(members.values()).size() != members.size()) {
            throw usage(option + " gives two members the same address");
        }
        return members;
    }

    private Map<String, String> parsePeerClients(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String part : text.split(",", -1)) {
            String entry = part.trim();
            int at = entry.indexOf('@');
            if (at <= 0 || at == entry.length() - 1) {
                throw usage("--peer-clients entries must be ID@HOST:PORT, got '" + entry + "'");
            }
            String memberId = entry.substring(0, at);
            // Members added later (SetMembers) may be named before they are in --peers.
            if (!MEMBER_ID.matcher(memberId).matches()) {
                throw usage("--peer-clients: member id must be 1 to 64 letters, digits, '-' or '_', got '" + memberId
                        + "'");
            }
            HostPort address = parse("--peer-clients (member " + memberId + ")", entry.substring(at + 1));
            if (address.port == 0) {
                throw usage("--peer-clients: member " + memberId + " needs a client port from 1 to 65535, got 0");
            }
            String normalized = (address.host.contains(":") ? "[" + address.host + "]" : address.host) + ":" + address.port;
            if (out.put(memberId, normalized) != null) {
                throw usage("--peer-clients names member " + memberId + " twice");
            }
        }
        return out;
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    private HostPort parse(String option, String text) {
        String value = text.trim();
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new ParameterException(spec.commandLine(), option + " must be HOST:PORT, got '" + text + "'");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65_535) {
            throw new ParameterException(spec.commandLine(),
                    option + " needs a port from 0 to 65535, got '" + value.substring(colon + 1) + "'");
        }
        return new HostPort(host, port);
    }

    private static boolean debug() {
        String env = System.getenv("TXKV_DEBUG");
        return (env != null && !env.isEmpty() && !env.equals("0")) || Boolean.getBoolean("txkv.debug");
    }

    private record HostPort(String host, int port) {
    }
}
