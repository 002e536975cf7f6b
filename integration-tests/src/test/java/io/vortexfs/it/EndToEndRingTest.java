package io.vortexfs.it;

/** The end-to-end suite on three node processes in a ring: chained replication, neighbour heartbeats. */
class EndToEndRingTest extends EndToEndTest {
    @Override
    Layout layout() {
        return Layout.THREE_IN_A_RING;
    }
}
