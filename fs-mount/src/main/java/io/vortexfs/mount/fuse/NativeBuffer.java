package io.vortexfs.mount.fuse;

import io.vortexfs.mount.fs.IoBuffer;
import jnr.ffi.Pointer;

/** A FUSE request's data buffer, which libfuse owns for the length of the call. */
final class NativeBuffer implements IoBuffer {
    private final Pointer memory;

    NativeBuffer(Pointer memory) {
        this.memory = memory;
    }

    @Override
    public void put(int at, byte[] src, int from, int length) {
        memory.put(at, src, from, length);
    }

    @Override
    public void get(int at, byte[] dst, int to, int length) {
        memory.get(at, dst, to, length);
    }

    @Override
    public void zero(int at, int length) {
        memory.setMemory(at, length, (byte) 0);
    }
}
