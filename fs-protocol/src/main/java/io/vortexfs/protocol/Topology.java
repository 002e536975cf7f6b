package io.vortexfs.protocol;

/**
 * How the members of a cluster talk to each other; fixed when the cluster is founded. Both place
 * data identically; they differ in who heartbeats whom and how replicas are written.
 */
public enum Topology {
    /** Every node heartbeats every other node; a write goes to all its replicas in parallel. */
    ALL_TO_ALL("all-to-all"),
    /**
     * Each node heartbeats its two neighbours, news travels around the ring, and a write is chained
     * from the first owner to the last, which acknowledges back along the chain.
     */
    RING("ring");

    private final String label;

    Topology(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** The topology named {@code label}; the message of the exception is fit for a user. */
    public static Topology parse(String label) {
        for (Topology t : values()) {
            if (t.label.equals(label)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown topology '" + label + "' (expected ring or all-to-all)");
    }

    @Override
    public String toString() {
        return label;
    }
}
