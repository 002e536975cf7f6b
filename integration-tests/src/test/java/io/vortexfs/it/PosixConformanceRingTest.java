package io.vortexfs.it;

/** The POSIX conformance cases on three node processes in a ring: chained replication, neighbour heartbeats. */
class PosixConformanceRingTest extends PosixConformanceTest {
    @Override
    Layout layout() {
        return Layout.THREE_IN_A_RING;
    }
}
