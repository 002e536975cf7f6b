package io.vortexfs.protocol.rpc;

import java.util.ArrayList;
import java.util.List;

/** A node address as users write it: {@code host:port}. */
public record HostPort(String host, int port) {
    public HostPort {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("empty host");
        }
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range 1-65535: " + port);
        }
    }

    /**
     * Parses {@code host:port}, or {@code [ipv6]:port}; the message of the exception is fit to show a
     * user. An IPv6 address must be in brackets: in {@code fe80::1} nothing tells the port apart.
     */
    public static HostPort parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("missing address");
        }
        String s = text.trim();
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("address must be [IPV6]:PORT: '" + text + "'");
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("address must be HOST:PORT: '" + text + "'");
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
            if (host.indexOf(':') >= 0 || host.indexOf(']') >= 0) {
                throw new IllegalArgumentException("an IPv6 address must be in brackets, as [ADDRESS]:PORT: '"
                        + text + "'");
            }
        }
        if (host.isEmpty() || port.isEmpty()) {
            throw new IllegalArgumentException("address must be HOST:PORT: '" + text + "'");
        }
        if (port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("port is not a number in '" + text + "'");
        }
        return new HostPort(host, Integer.parseInt(port));
    }

    /** Parses a comma-separated list of addresses. */
    public static List<HostPort> parseList(String text) {
        List<HostPort> out = new ArrayList<>();
        for (String part : text.split(",")) {
            if (!part.isBlank()) {
                out.add(parse(part));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no address given");
        }
        return out;
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
