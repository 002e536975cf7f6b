package io.vortexfs.node.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class RangesTest {
    @Test
    void oneRangeOfBytesIsHonouredAndClippedToTheBody() {
        assertArrayEquals(new long[] {0, 99}, Ranges.parse("bytes=0-99", 1000));
        assertArrayEquals(new long[] {500, 999}, Ranges.parse("bytes=500-", 1000));
        assertArrayEquals(new long[] {990, 999}, Ranges.parse("bytes=-10", 1000));
        assertArrayEquals(new long[] {0, 999}, Ranges.parse("bytes=-5000", 1000));
        assertArrayEquals(new long[] {900, 999}, Ranges.parse("bytes=900-5000", 1000));
        assertArrayEquals(new long[] {7, 7}, Ranges.parse(" bytes=7-7 ", 1000));
    }

    @Test
    void aRangePastTheEndCannotBeSatisfied() {
        assertEquals(0, Ranges.parse("bytes=1000-", 1000).length);
        assertEquals(0, Ranges.parse("bytes=0-", 0).length);
        assertEquals(0, Ranges.parse("bytes=-0", 1000).length);
    }

    @Test
    void whatIsNotOneRangeOfBytesIsIgnored() {
        for (String h : new String[] {"items=0-1", "bytes=0-1,5-6", "bytes=5-1", "bytes=a-b", "bytes=", "bytes=7",
                "bytes=--1"}) {
            assertNull(Ranges.parse(h, 1000), h);
        }
    }

    @Test
    void urlPathsBecomeClusterPathsOrAreRefused() {
        assertEquals("/", FileRoutes.clusterPath(""));
        assertEquals("/", FileRoutes.clusterPath("/"));
        assertEquals("/docs/a b.txt", FileRoutes.clusterPath("/docs/a%20b.txt"));
        assertEquals("/docs", FileRoutes.clusterPath("/docs/"));
        assertEquals("/ünï", FileRoutes.clusterPath("/%C3%BCn%C3%AF"));
        for (String bad : new String[] {"/a/../b", "/..", "/./a", "/a//b", "/a%2Fb", "/a%00b", "/%2E%2E", "/" + "x".repeat(256)}) {
            assertThrows(IllegalArgumentException.class, () -> FileRoutes.clusterPath(bad), bad);
        }
    }
}
