package io.vortexfs.protocol.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.vortexfs.protocol.Message;

/** Frames as byte arrays, so tests can cut and patch them freely and never leak a buffer. */
public final class Frames {
    private Frames() {
    }

    public static byte[] frame(long requestId, Message m, byte[] payload) {
        ByteBuf p = Unpooled.wrappedBuffer(payload);
        ByteBuf buf = FrameEncoder.toBuffer(UnpooledByteBufAllocator.DEFAULT, new Envelope(requestId, m, p));
        try {
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
            p.release();
        }
    }

    static byte[] frame(long requestId, Message m) {
        return frame(requestId, m, new byte[0]);
    }

    /** A frame with a hand-made header and body, for lies the encoder would never tell. */
    static byte[] rawFrame(int magic, int version, int kind, long requestId, int bodyLength, int payloadLength,
            byte[] rest) {
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeInt(magic);
            buf.writeByte(version);
            buf.writeByte(0);
            buf.writeShort(kind);
            buf.writeLong(requestId);
            buf.writeInt(bodyLength);
            buf.writeInt(payloadLength);
            buf.writeBytes(rest);
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
