package io.vortexfs.protocol;

/**
 * One slot of a file's layout: the chunk stored there and how many of its bytes belong to the file.
 * Bytes of the slot past {@code length} read as zeros, which is how truncating a file down never
 * needs to rewrite a chunk, and how a later truncate up cannot resurrect old bytes.
 */
public record ChunkRef(ChunkId id, int length) {
    public ChunkRef {
        if (id == null) {
            throw new IllegalArgumentException("id == null");
        }
        if (length < 0) {
            throw new IllegalArgumentException("length < 0: " + length);
        }
    }
}
