package dev.txkv.remote;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import java.util.ArrayList;
import java.util.List;

/**
 * One server of a connection string. {@link #parseConnection(String)} reads the whole string:
 * {@code host:port[,host:port...]}, where an IPv6 host is written in brackets
 * ({@code [::1]:4500}) because its own colons would otherwise hide the port.
 */
record ServerAddress(String host, int port) {
    ServerAddress {
        if (host.isEmpty()) {
            throw new IllegalArgumentException("empty host");
        }
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    /** The servers named by {@code connection}, in order; client_invalid_operation (2000) on a bad string. */
    static List<ServerAddress> parseConnection(String connection) {
        if (connection == null || connection.isBlank()) {
            throw invalid(connection, "it is empty; expected host:port[,host:port...]");
        }
        List<ServerAddress> servers = new ArrayList<>();
        for (String part : connection.split(",", -1)) {
            servers.add(parseOne(connection, part.trim()));
        }
        return List.copyOf(servers);
    }

    private static ServerAddress parseOne(String connection, String entry) {
        if (entry.isEmpty()) {
            throw invalid(connection, "it has an empty entry");
        }
        String host;
        String port;
        if (entry.startsWith("[")) {
            int close = entry.indexOf(']');
            if (close < 0 || close + 1 >= entry.length() || entry.charAt(close + 1) != ':') {
                throw invalid(connection, "'" + entry + "' needs the form [ipv6-address]:port");
            }
            host = entry.substring(1, close);
            port = entry.substring(close + 2);
        } else {
            int colon = entry.lastIndexOf(':');
            if (colon < 0) {
                throw invalid(connection, "'" + entry + "' has no port; expected host:port");
            }
            host = entry.substring(0, colon);
            port = entry.substring(colon + 1);
            if (host.indexOf(':') >= 0) {
                throw invalid(connection, "'" + entry + "' looks like an IPv6 address; write it as [address]:port");
            }
        }
        if (host.isEmpty()) {
            throw invalid(connection, "'" + entry + "' has no host");
        }
        int portNumber;
        try {
            portNumber = port.isEmpty() ? -1 : Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw invalid(connection, "'" + entry + "' has a port that is not a number: '" + port + "'");
        }
        if (port.isEmpty()) {
            throw invalid(connection, "'" + entry + "' has no port; expected host:port");
        }
        if (portNumber < 1 || portNumber > 65_535) {
            throw invalid(connection, "'" + entry + "' has port " + portNumber + ", outside 1 to 65535");
        }
        return new ServerAddress(host, portNumber);
    }

    private static TxkvException invalid(String connection, String why) {
        return new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                "Invalid connection string '" + connection + "': " + why);
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
