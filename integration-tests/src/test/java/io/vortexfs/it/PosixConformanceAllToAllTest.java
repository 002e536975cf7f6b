package io.vortexfs.it;

/** The POSIX conformance cases on three node processes, all-to-all: writes fan out to every replica at once. */
class PosixConformanceAllToAllTest extends PosixConformanceTest {
    @Override
    Layout layout() {
        return Layout.THREE_ALL_TO_ALL;
    }
}
