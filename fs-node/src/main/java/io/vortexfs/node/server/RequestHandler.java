package io.vortexfs.node.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.rpc.ConnectionErrors;
import io.vortexfs.protocol.rpc.Reply;
import io.vortexfs.protocol.wire.CorruptFrameException;
import io.vortexfs.protocol.wire.Envelope;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a node connection. It hands each request to the worker pool (requests touch
 * the disk, so they never run on the event loop) and writes the reply back. A connection with
 * {@code maxInFlight} requests outstanding, or whose peer is not reading its replies, is not read
 * from until that clears, so no client can make the node buffer without bound. One per channel.
 */
final class RequestHandler extends SimpleChannelInboundHandler<Envelope> {
    private static final Logger LOG = LoggerFactory.getLogger(RequestHandler.class);

    private final java.util.function.Supplier<NodeService> service;
    private final Executor workers;
    private final int maxInFlight;
    private final io.vortexfs.node.web.NodeMetrics metrics;
    private int inFlight; // only touched on this channel's event loop

    RequestHandler(java.util.function.Supplier<NodeService> service, Executor workers, int maxInFlight,
            io.vortexfs.node.web.NodeMetrics metrics) {
        super(Envelope.class, false);
        this.service = service;
        this.workers = workers;
        this.maxInFlight = maxInFlight;
        this.metrics = metrics;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Envelope envelope) {
        if (!(envelope.message() instanceof Request request)) {
            envelope.release();
            ConnectionErrors.closeOnError(LOG, ctx, new CorruptFrameException("a response arrived on a server connection"));
            return;
        }
        NodeService s = service.get();
        if (s == null) {
            envelope.release();
            ctx.writeAndFlush(new Envelope(envelope.requestId(), new Response.Error(ErrorCode.UNAVAILABLE,
                    Response.Error.STARTING), io.netty.buffer.Unpooled.EMPTY_BUFFER));
            return;
        }
        long arrived = System.nanoTime();
        inFlight++;
        updateReading(ctx);
        try {
            s.executorFor(request, workers).execute(new Job(envelope) {
                @Override
                public void run() {
                    java.util.concurrent.CompletableFuture<Reply> reply;
                    try {
                        reply = s.handle(request, envelope.payload());
                    } catch (RuntimeException | Error e) {
                        reply = java.util.concurrent.CompletableFuture.failedFuture(e);
                    } finally {
                        envelope.release();
                    }
                    reply.whenComplete((r, e) -> {
                        if (e != null) {
                            // Even an Error (out of direct memory, say) gets a reply and frees the request's slot.
                            LOG.error("request {} failed unexpectedly", request, e);
                            r = new Reply(new Response.Error(ErrorCode.IO, "internal error: " + e),
                                    io.netty.buffer.Unpooled.EMPTY_BUFFER);
                        }
                        // Counted before the reply leaves, so a client that has its answer sees it counted.
                        metrics.served(request.getClass().getSimpleName(), outcome(r.response()), System.nanoTime() - arrived);
                        respond(ctx, envelope.requestId(), r);
                    });
                }
            });
        } catch (RejectedExecutionException e) {
            envelope.release();
            metrics.served(request.getClass().getSimpleName(), outcome(null), System.nanoTime() - arrived);
            respond(ctx, envelope.requestId(), new Reply(new Response.Error(ErrorCode.BUSY, "node is overloaded"),
                    io.netty.buffer.Unpooled.EMPTY_BUFFER));
        }
    }

    /** "ok", or the error's code in lower case ("busy" when no answer was made). */
    private static String outcome(Response r) {
        if (r == null) {
            return "busy";
        }
        return r instanceof Response.Error e ? e.code().name().toLowerCase(java.util.Locale.ROOT) : "ok";
    }

    /** A request waiting for a thread; holds its envelope until it runs, or is dropped at shutdown. */
    private abstract static class Job implements Runnable {
        final Envelope envelope;

        Job(Envelope envelope) {
            this.envelope = envelope;
        }
    }

    /** Releases the requests of jobs an executor dropped when it was shut down before running them. */
    static void dropped(List<Runnable> jobs) {
        for (Runnable r : jobs) {
            if (r instanceof Job j) {
                j.envelope.release();
            }
        }
    }

    private void respond(ChannelHandlerContext ctx, long requestId, Reply reply) {
        ctx.writeAndFlush(new Envelope(requestId, reply.response(), reply.payload(), reply.file())).addListener(f -> {
            if (!f.isSuccess() && ctx.channel().isActive()) {
                LOG.warn("cannot send reply to {}: {}", ctx.channel().remoteAddress(), f.cause().toString());
            }
        });
        try {
            ctx.executor().execute(() -> {
                inFlight--;
                updateReading(ctx);
            });
        } catch (RejectedExecutionException shuttingDown) {
            // The event loop is stopping with the node: the connection goes with it.
        }
    }

    private void updateReading(ChannelHandlerContext ctx) {
        boolean read = inFlight < maxInFlight && ctx.channel().isWritable();
        if (ctx.channel().config().isAutoRead() != read) {
            ctx.channel().config().setAutoRead(read);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        updateReading(ctx);
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ConnectionErrors.closeOnError(LOG, ctx, cause);
    }
}
