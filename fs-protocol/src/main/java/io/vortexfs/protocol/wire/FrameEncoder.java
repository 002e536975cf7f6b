package io.vortexfs.protocol.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Writes an {@link Envelope} as a frame: a small buffer with header and Kryo body, followed by the
 * payload buffer itself, or its file region, so chunk bytes are never copied on the way out.
 * Stateless and sharable.
 */
@ChannelHandler.Sharable
public final class FrameEncoder extends MessageToMessageEncoder<Envelope> {
    private final int maxBody;

    public FrameEncoder() {
        this(FrameFormat.DEFAULT_MAX_BODY);
    }

    public FrameEncoder(int maxBody) {
        super(Envelope.class);
        this.maxBody = maxBody;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Envelope envelope, List<Object> out) {
        ByteBuf payload = envelope.payload();
        byte[] body = MessageCodec.encode(envelope.message(), maxBody);
        ByteBuf head = ctx.alloc().buffer(FrameFormat.HEADER_BYTES + body.length);
        writeHeadAndBody(head, envelope, body);
        out.add(head);
        // MessageToMessageEncoder releases the envelope, and so its payload, after encode() (and when
        // encode() throws): the payload goes out retained, as the same buffer, never copied.
        if (envelope.file() != null) {
            out.add(envelope.file().retain());
        } else if (payload.isReadable()) {
            out.add(payload.retain());
        }
    }

    /** Encodes an envelope to one buffer outside any pipeline (tests, tools); the payload is copied. */
    public static ByteBuf toBuffer(ByteBufAllocator alloc, Envelope envelope) {
        if (envelope.file() != null) {
            throw new IllegalArgumentException("a file region is sent by a channel, not copied into a buffer");
        }
        byte[] body = MessageCodec.encode(envelope.message(), FrameFormat.DEFAULT_MAX_BODY);
        ByteBuf payload = envelope.payload();
        ByteBuf buf = alloc.buffer(FrameFormat.HEADER_BYTES + body.length + payload.readableBytes());
        writeHeadAndBody(buf, envelope, body);
        buf.writeBytes(payload, payload.readerIndex(), payload.readableBytes());
        return buf;
    }

    private static void writeHeadAndBody(ByteBuf buf, Envelope envelope, byte[] body) {
        buf.writeInt(FrameFormat.MAGIC);
        buf.writeByte(FrameFormat.VERSION);
        buf.writeByte(0);
        buf.writeShort(MessageCodec.kindOf(envelope.message()));
        buf.writeLong(envelope.requestId());
        buf.writeInt(body.length);
        buf.writeInt(Math.toIntExact(envelope.payloadLength()));
        buf.writeBytes(body);
    }
}
