package io.vortexfs.mount.fs;

import java.util.Arrays;

/**
 * The memory a read fills or a write takes its bytes from. The FUSE layer passes the request's own
 * native buffer, so file data is copied once between it and the chunk, not through an array in
 * between; tests and tools pass an array.
 */
public interface IoBuffer {
    /** Copies {@code length} bytes of {@code src} from {@code from} into this buffer at {@code at}. */
    void put(int at, byte[] src, int from, int length);

    /** Copies {@code length} bytes of this buffer from {@code at} into {@code dst} at {@code to}. */
    void get(int at, byte[] dst, int to, int length);

    /** Sets {@code length} bytes from {@code at} to zero. */
    void zero(int at, int length);

    static IoBuffer of(byte[] array) {
        return new IoBuffer() {
            @Override
            public void put(int at, byte[] src, int from, int length) {
                System.arraycopy(src, from, array, at, length);
            }

            @Override
            public void get(int at, byte[] dst, int to, int length) {
                System.arraycopy(array, at, dst, to, length);
            }

            @Override
            public void zero(int at, int length) {
                Arrays.fill(array, at, at + length, (byte) 0);
            }
        };
    }
}
