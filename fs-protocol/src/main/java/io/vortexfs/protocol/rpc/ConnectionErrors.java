package io.vortexfs.protocol.rpc;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderException;
import io.vortexfs.protocol.wire.CorruptFrameException;
import java.io.IOException;
import org.slf4j.Logger;

/** The one policy for a connection that fails: log one line, close that connection, nothing else. */
public final class ConnectionErrors {
    private ConnectionErrors() {
    }

    public static void closeOnError(Logger log, ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (root instanceof CorruptFrameException) {
            log.warn("closing connection {}: {}", ctx.channel().remoteAddress(), root.getMessage());
        } else if (root instanceof IOException) {
            log.debug("connection {} failed: {}", ctx.channel().remoteAddress(), root.toString());
        } else {
            log.warn("closing connection {} after an unexpected error", ctx.channel().remoteAddress(), root);
        }
        ctx.close();
    }
}
