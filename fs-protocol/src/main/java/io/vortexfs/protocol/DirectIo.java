package io.vortexfs.protocol;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.UUID;

/**
 * Writing new chunk files with direct I/O ({@code O_DIRECT}), around the page cache, as nodes write
 * theirs and a mount beside them writes into their staging directories. A direct write needs its
 * buffer's address, its length and its file offset to be multiples of the filesystem's alignment.
 */
public final class DirectIo {
    /** The largest alignment used; a filesystem that asks for more is written through the page cache. */
    public static final int MAX_ALIGNMENT = 64 << 10;
    /** How a new file is opened for direct writes. */
    public static final Set<OpenOption> CREATE_DIRECT =
            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);

    private DirectIo() {
    }

    /**
     * The alignment direct writes into {@code dir} need, found by writing (and removing) a test file.
     * Throws when the filesystem refuses them (some network and FUSE filesystems do) or asks for an
     * alignment over {@link #MAX_ALIGNMENT}.
     */
    public static int alignment(Path dir) throws IOException {
        Path probe = dir.resolve("direct-probe-" + UUID.randomUUID());
        try {
            int align = (int) Math.max(512, Files.getFileStore(dir).getBlockSize());
            if (align > MAX_ALIGNMENT || Integer.bitCount(align) != 1) {
                throw new IOException("an alignment of " + align + " bytes");
            }
            try (FileChannel ch = FileChannel.open(probe, CREATE_DIRECT)) {
                ch.write(ByteBuffer.allocateDirect(2 * align).alignedSlice(align).limit(align));
            }
            return align;
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            throw new IOException(e.toString(), e);
        } finally {
            Files.deleteIfExists(probe);
        }
    }

    /** {@code n} rounded up to a multiple of {@code alignment}, a power of two. */
    public static long padded(long n, int alignment) {
        return (n + alignment - 1) & -(long) alignment;
    }

    /**
     * Makes the {@code n} bytes at the start of {@code buffer} (a direct buffer at an aligned address)
     * fit for a direct write: zeros after them up to a multiple of {@code alignment}, for which the
     * buffer needs room, and the buffer's position and limit around them all. A file whose last
     * write was padded is cut back to its length after it.
     */
    public static ByteBuffer pad(ByteBuffer buffer, int n, int alignment) {
        buffer.limit((int) padded(n, alignment)).position(n);
        while (buffer.hasRemaining()) {
            buffer.put((byte) 0);
        }
        return buffer.flip();
    }

    /** Writes all of {@code buffer}'s remaining bytes at {@code offset} of {@code ch}. */
    public static void writeFully(FileChannel ch, ByteBuffer buffer, long offset) throws IOException {
        long start = offset - buffer.position();
        while (buffer.hasRemaining()) {
            ch.write(buffer, start + buffer.position());
        }
    }
}
