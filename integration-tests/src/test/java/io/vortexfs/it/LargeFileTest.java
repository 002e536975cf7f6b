package io.vortexfs.it;

import org.junit.jupiter.api.Test;

/** Memory per open file is bounded: a file three times the mount's whole heap streams through it. */
class LargeFileTest extends MountedNodeTest {
    @Override
    String mountHeap() {
        return "100m";
    }

    @Test
    void copiesAFileLargerThanTheMountHeap() {
        Shell.run("head -c 300M /dev/urandom > src.bin && cp src.bin '" + mp + "/big' && cmp src.bin '" + mp
                + "/big' && cp '" + mp + "/big' back.bin && cmp src.bin back.bin", tmp).ok();
    }
}
