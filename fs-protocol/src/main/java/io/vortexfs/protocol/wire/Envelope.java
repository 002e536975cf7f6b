package io.vortexfs.protocol.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.FileRegion;
import io.netty.util.ReferenceCounted;
import io.vortexfs.protocol.Message;

/**
 * A decoded frame: the message, the request id that pairs a response with its request, and the raw
 * payload (empty for most messages). Whoever takes an envelope owns its payload and must release it.
 *
 * <p>An envelope to be sent may carry its payload as a {@code file} region instead, which the
 * channel sends straight from the file (sendfile) without reading it into memory; it arrives as an
 * ordinary payload. Only a channel without TLS can send one.
 *
 * <p>An envelope is reference-counted through its payload, so that Netty releases the payload of an
 * envelope it drops: one written to a channel that has closed (its pipeline, and so the encoder, is
 * gone), one whose write task an event loop rejects, one that reaches the tail of a pipeline unread.
 */
public record Envelope(long requestId, Message message, ByteBuf payload, FileRegion file) implements ReferenceCounted {
    public Envelope {
        if (message == null) {
            throw new IllegalArgumentException("message == null");
        }
        payload = payload == null ? Unpooled.EMPTY_BUFFER : payload;
        if (file != null && payload.isReadable()) {
            throw new IllegalArgumentException("an envelope carries a payload or a file region, not both");
        }
    }

    public Envelope(long requestId, Message message, ByteBuf payload) {
        this(requestId, message, payload, null);
    }

    public Envelope(long requestId, Message message) {
        this(requestId, message, Unpooled.EMPTY_BUFFER, null);
    }

    /** How many payload bytes follow the message on the wire. */
    public long payloadLength() {
        return file != null ? file.count() : payload.readableBytes();
    }

    private ReferenceCounted counted() {
        return file != null ? file : payload;
    }

    @Override
    public int refCnt() {
        return counted().refCnt();
    }

    @Override
    public Envelope retain() {
        counted().retain();
        return this;
    }

    @Override
    public Envelope retain(int increment) {
        counted().retain(increment);
        return this;
    }

    @Override
    public Envelope touch() {
        counted().touch();
        return this;
    }

    @Override
    public Envelope touch(Object hint) {
        counted().touch(hint);
        return this;
    }

    /** Releases the payload (or file region); true when that freed it. */
    @Override
    public boolean release() {
        return counted().release();
    }

    @Override
    public boolean release(int decrement) {
        return counted().release(decrement);
    }
}
