package io.vortexfs.protocol.rpc;

import io.netty.buffer.ByteBuf;
import io.vortexfs.protocol.Response;

/** A response with its raw payload. The caller owns the payload: close the reply when done. */
public record Reply(Response response, ByteBuf payload) implements AutoCloseable {
    @Override
    public void close() {
        if (payload.refCnt() > 0) {
            payload.release();
        }
    }
}
