package io.vortexfs.mount.fs;

import io.vortexfs.mount.client.ClusterClient;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.FsException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The last {@code capacity} chunks read, by content id. Content-addressed entries never go stale, so
 * the cache needs no invalidation: a changed file points at different ids.
 */
final class ChunkCache {
    private final ClusterClient client;
    private final Map<ChunkId, byte[]> entries;

    ChunkCache(ClusterClient client, int capacity) {
        this.client = client;
        this.entries = new LinkedHashMap<>(capacity * 2, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<ChunkId, byte[]> eldest) {
                return size() > capacity;
            }
        };
    }

    /** The chunk's verified bytes; fetched from the cluster on a miss. */
    byte[] get(ChunkId id) throws FsException {
        synchronized (entries) {
            byte[] hit = entries.get(id);
            if (hit != null) {
                return hit;
            }
        }
        byte[] bytes = client.getChunk(id);
        put(id, bytes);
        return bytes;
    }

    void put(ChunkId id, byte[] bytes) {
        synchronized (entries) {
            entries.put(id, bytes);
        }
    }
}
