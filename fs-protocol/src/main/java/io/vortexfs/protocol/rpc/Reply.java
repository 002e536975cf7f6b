package io.vortexfs.protocol.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.FileRegion;
import io.vortexfs.protocol.Response;

/**
 * A response with its raw payload. The caller owns the payload: close the reply when done. A reply a
 * node sends may carry its payload as a {@code file} region instead (see {@link
 * io.vortexfs.protocol.wire.Envelope}); a reply received always has it as a buffer.
 */
public record Reply(Response response, ByteBuf payload, FileRegion file) implements AutoCloseable {
    public Reply(Response response, ByteBuf payload) {
        this(response, payload, null);
    }

    /** A reply whose payload is sent from a file, zero-copy. */
    public Reply(Response response, FileRegion file) {
        this(response, Unpooled.EMPTY_BUFFER, file);
    }

    @Override
    public void close() {
        if (payload.refCnt() > 0) {
            payload.release();
        }
        if (file != null && file.refCnt() > 0) {
            file.release();
        }
    }
}
