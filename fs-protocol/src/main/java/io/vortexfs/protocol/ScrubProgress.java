package io.vortexfs.protocol;

/**
 * What a node's scrubbing has found since it started.
 *
 * @param scrubbed chunks re-read and re-hashed by scrub passes
 * @param damaged  copies found whose bytes no longer match their hash (by a pass or by a read)
 * @param healed   damaged copies replaced by a good copy from another owner
 */
public record ScrubProgress(long scrubbed, long damaged, long healed) {
    public static final ScrubProgress NONE = new ScrubProgress(0, 0, 0);
}
