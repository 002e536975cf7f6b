package io.vortexfs.protocol.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.vortexfs.protocol.Message;
import java.util.List;

/**
 * Cuts the byte stream into frames (see {@link FrameFormat}) and decodes each into an
 * {@link Envelope}. Nothing is emitted until a whole frame has arrived; the payload is handed on as
 * a retained slice of the input, not a copy.
 *
 * <pre>
 * BEFORE DECODE                                   AFTER DECODE
 * +--------+---------------+-----------+          +-----------------------------------+
 * | header | body (Kryo)   | payload   |  ----->  | Envelope(requestId, Message,      |
 * | 24 B   | bodyLength B  | payloadL. |          |          payload slice)           |
 * +--------+---------------+-----------+          +-----------------------------------+
 * </pre>
 *
 * <p>A frame with a bad magic, an unsupported version, an unknown kind, a length past its limit or a
 * body that does not decode raises {@link CorruptFrameException}; from then on every further byte on
 * the connection is discarded, and the handler at the end of the pipeline closes it. Not sharable:
 * one instance per channel.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    private final int maxBody;
    private final int maxPayload;
    private boolean failed;

    public FrameDecoder() {
        this(FrameFormat.DEFAULT_MAX_BODY, FrameFormat.DEFAULT_MAX_PAYLOAD);
    }

    public FrameDecoder(int maxBody, int maxPayload) {
        if (maxBody <= 0 || maxPayload < 0) {
            throw new IllegalArgumentException("bad limits: maxBody=" + maxBody + " maxPayload=" + maxPayload);
        }
        this.maxBody = maxBody;
        this.maxPayload = maxPayload;
        // Frames are gathered as a list of the buffers the socket was read into, not merged into one:
        // merging copies a 4 MiB chunk about twice as it grows, into a buffer too large for the
        // allocator's pool (fresh memory, page-faulted in, for every chunk), and copies again whatever
        // follows a frame whose payload slice is still held.
        setCumulator(COMPOSITE_CUMULATOR);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < FrameFormat.HEADER_BYTES) {
            return;
        }
        int start = in.readerIndex();
        try {
            int magic = in.getInt(start);
            if (magic != FrameFormat.MAGIC) {
                throw new CorruptFrameException("bad magic 0x" + Integer.toHexString(magic));
            }
            byte version = in.getByte(start + 4);
            if (version != FrameFormat.VERSION) {
                throw new CorruptFrameException("unsupported protocol version " + version);
            }
            int kind = in.getUnsignedShort(start + 6);
            Class<? extends Message> type = MessageCodec.messageClass(kind);
            if (type == null) {
                throw new CorruptFrameException("unknown message kind " + kind);
            }
            long requestId = in.getLong(start + 8);
            int bodyLength = in.getInt(start + 16);
            int payloadLength = in.getInt(start + 20);
            if (bodyLength < 0 || bodyLength > maxBody) {
                throw new CorruptFrameException("body length " + bodyLength + " outside [0, " + maxBody + "]");
            }
            if (payloadLength < 0 || payloadLength > maxPayload) {
                throw new CorruptFrameException("payload length " + payloadLength + " outside [0, " + maxPayload + "]");
            }
            long frameLength = (long) FrameFormat.HEADER_BYTES + bodyLength + payloadLength;
            if (in.readableBytes() < frameLength) {
                return;
            }
            in.skipBytes(FrameFormat.HEADER_BYTES);
            byte[] body = ByteBufUtil.getBytes(in, in.readerIndex(), bodyLength);
            in.skipBytes(bodyLength);
            Message message = MessageCodec.decode(kind, body);
            ByteBuf payload = in.readRetainedSlice(payloadLength);
            out.add(new Envelope(requestId, message, payload));
        } catch (CorruptFrameException e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    /** True while part of a frame has arrived and the rest has not. */
    public boolean hasPartialFrame() {
        return !failed && actualReadableBytes() > 0;
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        super.decodeLast(ctx, in, out);
        if (!failed && in.isReadable()) {
            int left = in.readableBytes();
            in.skipBytes(left);
            throw new CorruptFrameException("connection closed inside a frame: " + left + " bytes of a truncated frame");
        }
    }
}
