package io.vortexfs.protocol;

/**
 * What a node's garbage collection has done since it started.
 *
 * @param passes         passes that listed every partition and swept
 * @param reclaimed      chunks deleted because no file referenced them
 * @param reclaimedBytes their bytes
 */
public record GcProgress(long passes, long reclaimed, long reclaimedBytes) {
    public static final GcProgress NONE = new GcProgress(0, 0, 0);
}
