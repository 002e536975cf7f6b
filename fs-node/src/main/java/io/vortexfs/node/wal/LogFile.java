package io.vortexfs.node.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The few file operations the log needs. It exists so that tests can substitute a file that loses
 * every byte not yet forced, as a power cut would, and show that nothing acknowledged relied on them.
 */
interface LogFile extends AutoCloseable {
    /** Appends all of {@code src} at the end of the file. */
    void append(ByteBuffer src) throws IOException;

    /** Makes every byte appended so far durable (fdatasync). */
    void force() throws IOException;

    long size() throws IOException;

    /** Reads up to {@code dst.remaining()} bytes at {@code position}; returns the count, -1 at the end. */
    int read(ByteBuffer dst, long position) throws IOException;

    /** Cuts the file to {@code size} bytes and makes that durable. */
    void truncate(long size) throws IOException;

    @Override
    void close() throws IOException;

    /** Opens segment files; production uses {@link #DISK}. */
    interface Opener {
        LogFile open(Path path, boolean create) throws IOException;
    }

    Opener DISK = (path, create) -> {
        FileChannel ch = create
                ? FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        return new LogFile() {
            @Override
            public void append(ByteBuffer src) throws IOException {
                long pos = ch.size();
                while (src.hasRemaining()) {
                    pos += ch.write(src, pos);
                }
            }

            @Override
            public void force() throws IOException {
                ch.force(false);
            }

            @Override
            public long size() throws IOException {
                return ch.size();
            }

            @Override
            public int read(ByteBuffer dst, long position) throws IOException {
                return ch.read(dst, position);
            }

            @Override
            public void truncate(long size) throws IOException {
                ch.truncate(size);
                ch.force(true);
            }

            @Override
            public void close() throws IOException {
                ch.close();
            }
        };
    };
}
