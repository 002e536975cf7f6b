package io.vortexfs.protocol.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCounted;
import io.vortexfs.protocol.Message;

/**
 * A decoded frame: the message, the request id that pairs a response with its request, and the raw
 * payload (empty for most messages). Whoever takes an envelope owns its payload and must release it.
 *
 * <p>An envelope is reference-counted through its payload, so that Netty releases the payload of an
 * envelope it drops: one written to a channel that has closed (its pipeline, and so the encoder, is
 * gone), one whose write task an event loop rejects, one that reaches the tail of a pipeline unread.
 */
public record Envelope(long requestId, Message message, ByteBuf payload) implements ReferenceCounted {
    public Envelope {
        if (message == null) {
            throw new IllegalArgumentException("message == null");
        }
        payload = payload == null ? Unpooled.EMPTY_BUFFER : payload;
    }

    public Envelope(long requestId, Message message) {
        this(requestId, message, Unpooled.EMPTY_BUFFER);
    }

    @Override
    public int refCnt() {
        return payload.refCnt();
    }

    @Override
    public Envelope retain() {
        payload.retain();
        return this;
    }

    @Override
    public Envelope retain(int increment) {
        payload.retain(increment);
        return this;
    }

    @Override
    public Envelope touch() {
        payload.touch();
        return this;
    }

    @Override
    public Envelope touch(Object hint) {
        payload.touch(hint);
        return this;
    }

    /** Releases the payload; true when that freed it. */
    @Override
    public boolean release() {
        return payload.release();
    }

    @Override
    public boolean release(int decrement) {
        return payload.release(decrement);
    }
}
