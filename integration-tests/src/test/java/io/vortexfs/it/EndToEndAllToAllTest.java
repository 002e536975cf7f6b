package io.vortexfs.it;

/** The end-to-end suite on three node processes, all-to-all: writes fan out to every replica at once. */
class EndToEndAllToAllTest extends EndToEndTest {
    @Override
    Layout layout() {
        return Layout.THREE_ALL_TO_ALL;
    }
}
