package io.vortexfs.mount.fs;

import java.time.Duration;

/**
 * How a mount caches and buffers.
 *
 * @param chunkSize        bytes per chunk of files this mount creates (existing files keep theirs)
 * @param maxDirtyChunksPerFile chunks one open file may buffer before the oldest is uploaded
 * @param maxUploadsPerFile chunks of one file that may be uploading at once (write-behind)
 * @param ioThreads        threads of the mount that upload and prefetch chunks
 * @param readAheadChunks  chunks fetched ahead of a sequential reader
 * @param dirtyBudgetBytes bytes of unwritten data the whole mount may hold at once
 * @param cachedChunks     chunks kept in the read cache
 * @param attrTimeout      the longest a change made through another mount may stay unseen here;
 *                         split between the kernel's cache and the mount's own
 * @param commitAfter      the longest a chunk uploaded for a file that stays open waits to be
 *                         committed to it; nodes reclaim unreferenced chunks after their grace
 *                         ({@code --gc-grace}), which must be far longer
 */
public record MountConfig(int chunkSize, int maxDirtyChunksPerFile, int maxUploadsPerFile, int ioThreads,
        int readAheadChunks, long dirtyBudgetBytes, int cachedChunks, Duration attrTimeout, Duration commitAfter) {
    public static final int DEFAULT_CHUNK_SIZE = 4 << 20;
    public static final Duration DEFAULT_COMMIT_AFTER = Duration.ofSeconds(30);
    public static final int MIN_CHUNK_SIZE = 4 << 10;
    public static final int MAX_CHUNK_SIZE = 64 << 20;

    public MountConfig {
        if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
            throw new IllegalArgumentException("chunk size must be between 4 KiB and 64 MiB: " + chunkSize);
        }
        if (maxDirtyChunksPerFile < 1) {
            throw new IllegalArgumentException("maxDirtyChunksPerFile < 1: " + maxDirtyChunksPerFile);
        }
        if (dirtyBudgetBytes < (long) chunkSize * maxDirtyChunksPerFile) {
            throw new IllegalArgumentException("the dirty budget must hold at least one file's dirty chunks");
        }
        if (maxUploadsPerFile < 1 || ioThreads < 1 || readAheadChunks < 0) {
            throw new IllegalArgumentException("bad upload/read-ahead settings: " + maxUploadsPerFile + "/" + ioThreads
                    + "/" + readAheadChunks);
        }
        if (cachedChunks <= readAheadChunks) {
            throw new IllegalArgumentException("the chunk cache must hold more than the read-ahead");
        }
        if (cachedChunks < 1) {
            throw new IllegalArgumentException("cachedChunks < 1: " + cachedChunks);
        }
        if (attrTimeout.isNegative()) {
            throw new IllegalArgumentException("attrTimeout < 0: " + attrTimeout);
        }
        if (commitAfter.isNegative() || commitAfter.isZero()) {
            throw new IllegalArgumentException("commitAfter must be positive: " + commitAfter);
        }
    }

    public static MountConfig withChunkSize(int chunkSize) {
        return new MountConfig(chunkSize, 2, 4, 8, 2, Math.max(96L << 20, 6L * chunkSize), 8, Duration.ofSeconds(1),
                DEFAULT_COMMIT_AFTER);
    }

    public MountConfig withAttrTimeout(Duration t) {
        return new MountConfig(chunkSize, maxDirtyChunksPerFile, maxUploadsPerFile, ioThreads, readAheadChunks,
                dirtyBudgetBytes, cachedChunks, t, commitAfter);
    }

    public MountConfig withCommitAfter(Duration d) {
        return new MountConfig(chunkSize, maxDirtyChunksPerFile, maxUploadsPerFile, ioThreads, readAheadChunks,
                dirtyBudgetBytes, cachedChunks, attrTimeout, d);
    }

    public static MountConfig defaults() {
        return withChunkSize(DEFAULT_CHUNK_SIZE);
    }
}
