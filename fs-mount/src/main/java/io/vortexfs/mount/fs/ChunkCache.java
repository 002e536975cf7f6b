package io.vortexfs.mount.fs;

import io.vortexfs.mount.client.ClusterClient;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.ErrorCode;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.Map;

/**
 * The last {@code capacity} chunks read, by content id. Content-addressed entries never go stale, so
 * the cache needs no invalidation: a changed file points at different ids. A chunk being fetched is
 * fetched once, however many readers (or read-ahead) ask for it meanwhile.
 */
final class ChunkCache {
    private final ClusterClient client;
    private final Map<ChunkId, byte[]> entries;
    private final Map<ChunkId, CompletableFuture<byte[]>> loading = new HashMap<>();
    private final Duration timeout;

    ChunkCache(ClusterClient client, int capacity, Duration timeout) {
        this.client = client;
        this.timeout = timeout;
        this.entries = new LinkedHashMap<>(capacity * 2, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<ChunkId, byte[]> eldest) {
                return size() > capacity;
            }
        };
    }

    /** The chunk's verified bytes if they are here, without fetching them. */
    byte[] peek(ChunkId id) {
        synchronized (entries) {
            return entries.get(id);
        }
    }

    /** The chunk's verified bytes; fetched from the cluster on a miss. */
    byte[] get(ChunkId id) throws FsException {
        CompletableFuture<byte[]> f;
        boolean mine = false;
        synchronized (entries) {
            byte[] hit = entries.get(id);
            if (hit != null) {
                return hit;
            }
            f = loading.get(id);
            if (f == null) {
                f = new CompletableFuture<>();
                loading.put(id, f);
                mine = true;
            }
        }
        if (mine) {
            return fetch(id, f);
        }
        try {
            return f.get(timeout.toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(ErrorCode.TIMEOUT, "interrupted while reading chunk " + id);
        } catch (TimeoutException e) {
            throw new FsException(ErrorCode.TIMEOUT, "reading chunk " + id + " timed out");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof FsException fs ? fs : new FsException(ErrorCode.IO, String.valueOf(e.getCause()));
        }
    }

    /** Starts fetching a chunk a sequential reader will want next, unless it is here or on its way. */
    void prefetch(ChunkId id, Executor executor) {
        CompletableFuture<byte[]> f;
        synchronized (entries) {
            if (entries.containsKey(id) || loading.containsKey(id)) {
                return;
            }
            f = new CompletableFuture<>();
            loading.put(id, f);
        }
        try {
            executor.execute(() -> {
                try {
                    fetch(id, f);
                } catch (FsException e) {
                    // The reader that wants it will see the failure (and retry) itself.
                }
            });
        } catch (RuntimeException e) {
            synchronized (entries) {
                loading.remove(id);
            }
            f.completeExceptionally(e);
        }
    }

    private byte[] fetch(ChunkId id, CompletableFuture<byte[]> f) throws FsException {
        try {
            byte[] bytes = client.getChunk(id);
            put(id, bytes);
            f.complete(bytes);
            return bytes;
        } catch (FsException | RuntimeException e) {
            f.completeExceptionally(e);
            throw e;
        } finally {
            synchronized (entries) {
                loading.remove(id);
            }
        }
    }

    void put(ChunkId id, byte[] bytes) {
        synchronized (entries) {
            entries.put(id, bytes);
        }
    }
}
