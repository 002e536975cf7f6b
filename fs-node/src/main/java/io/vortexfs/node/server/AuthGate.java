package io.vortexfs.node.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.rpc.ClusterKey;
import io.vortexfs.protocol.wire.Envelope;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets nothing through to the node until whoever opened the connection has proved it holds the
 * cluster key, and proves the same in return. The opener sends a fresh nonce
 * ({@link Request.Authenticate}); the node answers with its own fresh nonce and its proof over both
 * ({@link Response.Challenge}); the opener sends its proof over both ({@link Request.Prove}). Since
 * the node's nonce is new on every connection, a recorded handshake is worth nothing on another.
 * Anything else, or a wrong proof, closes the connection with one log line and no answer. Runs on
 * the event loop: an HMAC costs microseconds.
 */
final class AuthGate extends SimpleChannelInboundHandler<Envelope> {
    private static final Logger LOG = LoggerFactory.getLogger(AuthGate.class);

    private final ClusterKey key;
    /** The fingerprint of this node's TLS certificate, or "" without TLS: bound into both proofs. */
    private final String binding;
    /** The two nonces once the challenge went out; only touched on this channel's event loop. */
    private String theirs;
    private String ours;

    AuthGate(ClusterKey key, String binding) {
        super(Envelope.class, true);
        this.key = key;
        this.binding = binding;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Envelope envelope) {
        Object m = envelope.message();
        if (ours == null && m instanceof Request.Authenticate a) {
            theirs = a.nonce();
            ours = ClusterKey.nonce();
            reply(ctx, envelope, new Response.Challenge(ours, key.proof(ClusterKey.NODE, theirs, ours, binding)));
        } else if (ours != null && m instanceof Request.Prove p) {
            if (!ClusterKey.same(p.proof(), key.proof(ClusterKey.CLIENT, ours, theirs, binding))) {
                refuse(ctx, "a wrong proof of the cluster key");
                return;
            }
            reply(ctx, envelope, new Response.Ok());
            ctx.pipeline().remove(this);
        } else {
            refuse(ctx, ours == null ? "a request before authenticating: " + name(m) : "no proof of the cluster key: " + name(m));
        }
    }

    private static String name(Object m) {
        return m == null ? "nothing" : m.getClass().getSimpleName();
    }

    private static void reply(ChannelHandlerContext ctx, Envelope request, Response response) {
        ctx.writeAndFlush(new Envelope(request.requestId(), response, Unpooled.EMPTY_BUFFER));
    }

    private static void refuse(ChannelHandlerContext ctx, String why) {
        LOG.warn("closing connection {}: {}", ctx.channel().remoteAddress(), why);
        ctx.close();
    }
}
