package io.vortexfs.protocol;

/**
 * One member of the cluster as every node and client sees it. The generation grows each time the
 * node restarts, so news about an older incarnation never overrides a newer one.
 */
public record MemberInfo(String nodeId, String host, int port, MemberState state, long generation) {
    public MemberInfo {
        if (nodeId == null || nodeId.isEmpty()) {
            throw new IllegalArgumentException("empty nodeId");
        }
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("empty host");
        }
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        if (state == null) {
            throw new IllegalArgumentException("state == null");
        }
    }

    public String address() {
        return host + ":" + port;
    }
}
