package io.vortexfs.node.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * In-memory segment files that remember two images: what was written, and what was forced. A
 * power cut throws away every byte that was not forced — exactly what a disk may do.
 */
final class PowerCutFiles implements LogFile.Opener {
    private static final class Image {
        byte[] written = new byte[0];
        byte[] forced = new byte[0];
    }

    private final Map<Path, Image> files = new HashMap<>();
    private final java.nio.file.Path dir;

    PowerCutFiles(Path dir) {
        this.dir = dir;
    }

    /** Every file reverts to its last forced image; the files' names stay (the directory was fsynced). */
    synchronized void powerCut() {
        for (Image i : files.values()) {
            i.written = i.forced.clone();
        }
    }

    synchronized int fileCount() {
        return files.size();
    }

    @Override
    public synchronized LogFile open(Path path, boolean create) throws IOException {
        Image img = files.get(path);
        if (create) {
            img = new Image();
            files.put(path, img);
            // The log lists segments through the real directory: leave an empty marker file there.
            java.nio.file.Files.createDirectories(dir);
            java.nio.file.Files.deleteIfExists(path);
            java.nio.file.Files.createFile(path);
        } else if (img == null) {
            throw new java.nio.file.NoSuchFileException(path.toString());
        }
        Image file = img;
        return new LogFile() {
            @Override
            public void append(ByteBuffer src) {
                synchronized (PowerCutFiles.this) {
                    int n = src.remaining();
                    byte[] grown = Arrays.copyOf(file.written, file.written.length + n);
                    src.get(grown, file.written.length, n);
                    file.written = grown;
                }
            }

            @Override
            public void force() {
                synchronized (PowerCutFiles.this) {
                    file.forced = file.written.clone();
                }
            }

            @Override
            public long size() {
                synchronized (PowerCutFiles.this) {
                    return file.written.length;
                }
            }

            @Override
            public int read(ByteBuffer dst, long position) {
                synchronized (PowerCutFiles.this) {
                    if (position >= file.written.length) {
                        return -1;
                    }
                    int n = (int) Math.min(dst.remaining(), file.written.length - position);
                    dst.put(file.written, (int) position, n);
                    return n;
                }
            }

            @Override
            public void truncate(long size) {
                synchronized (PowerCutFiles.this) {
                    file.written = Arrays.copyOf(file.written, (int) size);
                    file.forced = file.written.clone();
                }
            }

            @Override
            public void close() {
            }
        };
    }

    /** Lets a test damage a file's durable image directly. */
    synchronized byte[] image(Path path) {
        return files.get(path).forced;
    }

    synchronized void setImage(Path path, byte[] bytes) {
        Image i = files.get(path);
        i.forced = bytes.clone();
        i.written = bytes.clone();
    }
}
