package io.vortexfs.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.vortexfs.node.chunks.ChunkStore;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.FsException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A node's chunk path without the network: hashing a chunk, storing a new one (hash check, write,
 * fsync, rename, directory fsync) and reading one back (read and hash check). Divide 1000 by the
 * milliseconds per operation and multiply by the chunk size for a throughput.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ChunkStoreBench {
    @Param({"4194304"})
    public int chunkBytes;

    /** Where the store lives; a directory on the disk under test (default: java.io.tmpdir). */
    @Param({""})
    public String dir;

    private Path root;
    private ChunkStore store;
    private ByteBuf data;
    private ChunkId stored;
    private long counter;

    @Setup(Level.Trial)
    public void setUp() throws IOException, FsException {
        root = dir.isEmpty() ? Files.createTempDirectory("vortex-bench") : Files.createTempDirectory(Path.of(dir), "vortex-bench");
        store = new ChunkStore(root);
        byte[] bytes = new byte[chunkBytes];
        new Random(42).nextBytes(bytes);
        data = Unpooled.wrappedBuffer(bytes);
        stored = ChunkStore.hash(data);
        store.put(stored, data);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        try (var files = Files.walk(root)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    public ChunkId hash() {
        return ChunkStore.hash(data);
    }

    @Benchmark
    public ChunkId putNewChunk() throws FsException {
        data.setLong(0, ++counter); // a chunk the store does not hold yet
        ChunkId id = ChunkStore.hash(data);
        store.put(id, data);
        return id;
    }

    @Benchmark
    public int getAndVerify() throws FsException {
        ByteBuf b = store.get(stored, PooledByteBufAllocator.DEFAULT);
        int n = b.readableBytes();
        b.release();
        return n;
    }
}
