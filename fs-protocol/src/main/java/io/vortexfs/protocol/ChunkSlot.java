package io.vortexfs.protocol;

/** A chunk reference at a chunk index of a file. A null ref is a hole: the slot reads as zeros. */
public record ChunkSlot(long index, ChunkRef ref) {
    public ChunkSlot {
        if (index < 0) {
            throw new IllegalArgumentException("index < 0: " + index);
        }
    }
}
