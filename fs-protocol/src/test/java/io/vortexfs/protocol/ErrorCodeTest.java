package io.vortexfs.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ErrorCodeTest {

    @Test
    void everyWireCodeIsUniqueAndReadsBack() {
        Set<Integer> seen = new HashSet<>();
        for (ErrorCode c : ErrorCode.values()) {
            assertTrue(seen.add(c.code()), "code " + c.code() + " used twice");
            assertEquals(c, ErrorCode.ofCode(c.code()));
        }
        assertEquals(ErrorCode.IO, ErrorCode.ofCode(9999), "a newer peer's code");
    }

    @Test
    void onlyFailuresOfTheClusterAreItsFault() {
        for (ErrorCode c : new ErrorCode[] {ErrorCode.TIMEOUT, ErrorCode.UNAVAILABLE, ErrorCode.CORRUPT, ErrorCode.IO,
                ErrorCode.NOT_COORDINATOR}) {
            assertTrue(c.isClusterFault(), c.name());
        }
        for (ErrorCode c : new ErrorCode[] {ErrorCode.NOT_FOUND, ErrorCode.EXISTS, ErrorCode.NOT_EMPTY, ErrorCode.INVALID,
                ErrorCode.NO_SPACE, ErrorCode.PERMISSION, ErrorCode.NO_DATA}) {
            assertFalse(c.isClusterFault(), c.name());
        }
    }
}
