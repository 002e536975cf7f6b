package io.vortexfs.protocol;

/**
 * Where a node's chunk repair stands: the pass that checks that every chunk it holds has all its
 * copies on the chunk's current owners, copies the missing ones, and drops the copies it holds but no
 * longer owns once every owner confirms it has them.
 *
 * @param running     true while a pass is under way
 * @param checked     chunks the current (or last) pass has looked at
 * @param total       chunks the node held when that pass began
 * @param copied      copies sent to owners that lacked them, since the node started
 * @param copiedBytes bytes of those copies
 * @param dropped     surplus copies removed after their owners confirmed theirs, since the node started
 * @param lacking     copies found missing on a live owner by the current (or last) pass
 * @param passes      passes finished since the node started
 * @param queued      true while a pass is due to start (after a change of members, or on schedule)
 */
public record RepairProgress(boolean running, long checked, long total, long copied, long copiedBytes, long dropped,
        long lacking, long passes, boolean queued) {
    public static final RepairProgress NONE = new RepairProgress(false, 0, 0, 0, 0, 0, 0, 0, false);
}
