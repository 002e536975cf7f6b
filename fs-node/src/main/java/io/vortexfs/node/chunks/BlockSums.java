package io.vortexfs.node.chunks;

import io.netty.buffer.ByteBuf;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.Response;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CRC-32C sums of the {@link Response.ChunkRange#BLOCK}-sized blocks of recently stored or read chunks,
 * kept so that a read of part of a chunk, or a reader of the chunk's file on this machine, can check it
 * without hashing all of it. Sums enter only from bytes
 * that were just checked against the chunk's id, or against the sums their writer took in the same
 * pass as the id (a summed put), so a block that matches its sum holds the bytes the id names.
 * Bounded: the least recently used chunk's sums go first (about 300 bytes for a 4 MiB chunk).
 */
public final class BlockSums {
    static final int BLOCK = Response.ChunkRange.BLOCK;

    /**
     * A chunk's length and the sum of each of its blocks. {@code checkedAgainstId} tells whether the
     * bytes they were taken from were checked against the chunk's id here; if not, they came with a
     * writer's summed put, and say only that the bytes are the ones that writer hashed.
     */
    public record Sums(int length, int[] blocks, boolean checkedAgainstId) {
    }

    private final Map<ChunkId, Sums> entries;

    BlockSums(int capacity) {
        this.entries = new LinkedHashMap<>(Math.min(capacity, 1024), 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<ChunkId, Sums> eldest) {
                return size() > capacity;
            }
        };
    }

    synchronized Sums get(ChunkId id) {
        return entries.get(id);
    }

    synchronized void put(ChunkId id, Sums sums) {
        entries.put(id, sums);
    }

    synchronized void forget(ChunkId id) {
        entries.remove(id);
    }

    /** The sums of every block of a chunk's readable bytes, which were just checked against its id. */
    static Sums of(ByteBuf chunk) {
        return of(chunk, true);
    }

    /** The sums of every block of a chunk's readable bytes. */
    static Sums of(ByteBuf chunk, boolean checkedAgainstId) {
        int length = chunk.readableBytes();
        int[] blocks = new int[Response.ChunkRange.blocks(length)];
        for (int i = 0; i < blocks.length; i++) {
            int from = chunk.readerIndex() + i * BLOCK;
            blocks[i] = Response.ChunkRange.sum(chunk, from, Math.min(BLOCK, length - i * BLOCK));
        }
        return new Sums(length, blocks, checkedAgainstId);
    }
}
