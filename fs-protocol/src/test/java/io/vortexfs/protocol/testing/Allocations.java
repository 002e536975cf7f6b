package io.vortexfs.protocol.testing;

import java.lang.management.ManagementFactory;

/** Bytes allocated on the heap by the current thread, to show that hostile input is refused cheaply. */
public final class Allocations {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private Allocations() {
    }

    public static long current() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    /** Fails if {@code t} or any of its causes is a VirtualMachineError (an OutOfMemoryError in disguise). */
    public static void assertNoVmError(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof VirtualMachineError) {
                throw new AssertionError("a VirtualMachineError hides in the cause chain", t);
            }
        }
    }
}
