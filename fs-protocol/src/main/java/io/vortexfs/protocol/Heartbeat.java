package io.vortexfs.protocol;

/**
 * A member and its heartbeat counter, as gossip carries them. The member raises its own counter on
 * every heartbeat; a counter that stops rising tells every other node the member has gone silent.
 */
public record Heartbeat(MemberInfo member, long beat) {
    public Heartbeat {
        if (member == null) {
            throw new IllegalArgumentException("member == null");
        }
    }
}
