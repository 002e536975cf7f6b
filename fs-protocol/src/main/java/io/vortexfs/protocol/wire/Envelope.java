package io.vortexfs.protocol.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vortexfs.protocol.Message;

/**
 * A decoded frame: the message, the request id that pairs a response with its request, and the raw
 * payload (empty for most messages). Whoever takes an envelope owns its payload and must release it.
 */
public record Envelope(long requestId, Message message, ByteBuf payload) {
    public Envelope {
        if (message == null) {
            throw new IllegalArgumentException("message == null");
        }
        payload = payload == null ? Unpooled.EMPTY_BUFFER : payload;
    }

    public Envelope(long requestId, Message message) {
        this(requestId, message, Unpooled.EMPTY_BUFFER);
    }

    public void release() {
        if (payload.refCnt() > 0) {
            payload.release();
        }
    }
}
