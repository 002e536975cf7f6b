package io.vortexfs.node.web;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.vortexfs.protocol.rpc.EventLoops;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's HTTP port: its status page ({@code /}), the cluster's state as JSON ({@code /api/status}),
 * its metrics for Prometheus ({@code /metrics}), and the REST file API under {@code /api/files} and
 * {@code /api/stat} ({@link FileRoutes}, which asks for the cluster's token). The state pages answer
 * GET and HEAD, with headers of at most 8 KiB; building an answer may wait on other members, so it
 * runs on two threads of its own, never on the event loop.
 */
public final class WebServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebServer.class);
    private static final int MAX_REQUEST_BYTES = 8192;
    private static final int MAX_CONNECTIONS = 256;
    private static final String PAGE = "status.html";

    private final NodeMetrics metrics;
    private final StatusReport status;
    private final byte[] page;
    private final EventLoopGroup group = EventLoops.newGroup(1, "vortex-http");
    private final ThreadPoolExecutor answers = new ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(64), new DefaultThreadFactory("vortex-http-answer", true));
    private final AtomicInteger connections = new AtomicInteger();
    private final FileRoutes files;
    private Channel channel;

    WebServer(NodeMetrics metrics, StatusReport status, String apiToken) {
        this.metrics = metrics;
        this.status = status;
        this.files = new FileRoutes(apiToken);
        try (InputStream in = WebServer.class.getResourceAsStream(PAGE)) {
            if (in == null) {
                throw new IllegalStateException(PAGE + " is missing from the jar");
            }
            this.page = in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + PAGE, e);
        }
        answers.allowCoreThreadTimeOut(true);
    }

    /**
     * Serves on {@code host:port} (0 picks a free port). The file API answers 503 until {@link
     * #serveFiles} gives it the files; {@code apiToken} is what its clients must present (null: the
     * cluster has no key, and neither do they).
     */
    public static WebServer start(String host, int port, NodeMetrics metrics, io.vortexfs.node.cluster.Membership membership,
            io.vortexfs.node.cluster.Peers peers, NodeMetrics.Source self, String apiToken) throws IOException {
        WebServer s = new WebServer(metrics, new StatusReport(membership, peers, self), apiToken);
        try {
            s.bind(host, port);
        } catch (RuntimeException | InterruptedException e) {
            s.close();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("cannot serve HTTP on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        return s;
    }

    private void bind(String host, int port) throws InterruptedException {
        channel = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (connections.incrementAndGet() > MAX_CONNECTIONS) {
                            connections.decrementAndGet();
                            ch.close();
                            return;
                        }
                        ch.closeFuture().addListener(f -> connections.decrementAndGet());
                        ch.pipeline()
                                .addLast(new IdleStateHandler(0, 0, 30, TimeUnit.SECONDS))
                                .addLast(new HttpServerCodec(4096, MAX_REQUEST_BYTES, 64 << 10))
                                .addLast(new HttpServerExpectContinueHandler())
                                .addLast(new Handler());
                    }
                })
                .bind(host, port).sync().channel();
        LOG.info("status page at http://{}:{}/", host, port());
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** Serves the REST file API ({@link FileRoutes}) from {@code f}. */
    public void serveFiles(FileService f) {
        files.serve(f);
    }

    private final class Handler extends SimpleChannelInboundHandler<HttpObject> {
        /**
         * An answer is being made on another thread; the connection closes once it is sent. Requests
         * pipelined behind it go unanswered (the client sends them again), so none is answered out of turn.
         */
        private boolean answering;
        /** The upload that takes the body of the request being answered; null: a body is ignored. */
        private FileRoutes.Upload upload;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpRequest request) {
                if (!answering) {
                    answer(ctx, request);
                }
            }
            if (msg instanceof HttpContent piece && upload != null) {
                upload.accept(piece);
                if (piece instanceof LastHttpContent) {
                    upload = null;
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (upload != null) {
                upload.abandon();
                upload = null;
            }
            super.channelInactive(ctx);
        }

        private void answer(ChannelHandlerContext ctx, HttpRequest request) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (!request.decoderResult().isSuccess()) {
                answering = true;
                send(ctx, text(HttpResponseStatus.BAD_REQUEST, "bad request\n"), false);
                return;
            }
            if (FileRoutes.handles(new QueryStringDecoder(request.uri()).rawPath())) {
                answering = true;
                upload = files.start(ctx, request);
                return;
            }
            HttpMethod method = request.method();
            if (method != HttpMethod.GET && method != HttpMethod.HEAD) {
                answering = true;
                FullHttpResponse r = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET and HEAD\n");
                r.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
                send(ctx, r, false);
                return;
            }
            boolean head = method == HttpMethod.HEAD;
            String path = new QueryStringDecoder(request.uri()).path();
            switch (path) {
                case "/", "/index.html" -> send(ctx, head(head, response(HttpResponseStatus.OK,
                        "text/html; charset=utf-8", Unpooled.wrappedBuffer(page))), keepAlive);
                case "/metrics" -> answerLater(ctx, head, () -> {
                    ByteBuf body = ctx.alloc().buffer();
                    try (ByteBufOutputStream out = new ByteBufOutputStream(body)) {
                        metrics.write(out);
                    } catch (IOException | RuntimeException e) {
                        body.release();
                        throw e;
                    }
                    return response(HttpResponseStatus.OK, NodeMetrics.contentType(), body);
                });
                case "/api/status" -> answerLater(ctx, head, () -> response(HttpResponseStatus.OK,
                        "application/json", Unpooled.copiedBuffer(status.json(), StandardCharsets.UTF_8)));
                default -> send(ctx, text(HttpResponseStatus.NOT_FOUND, "no such page: " + path + "\n"), keepAlive);
            }
        }

        /** Makes the answer off the event loop, then closes; a full queue gets 503 at once. */
        private void answerLater(ChannelHandlerContext ctx, boolean head, Answer answer) {
            answering = true;
            ctx.channel().config().setAutoRead(false);
            try {
                answers.execute(() -> {
                    FullHttpResponse r;
                    try {
                        r = head(head, answer.make());
                    } catch (IOException | RuntimeException e) {
                        LOG.warn("cannot answer an HTTP request: {}", e.toString());
                        r = text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error\n");
                    }
                    send(ctx, r, false);
                });
            } catch (RejectedExecutionException busy) {
                send(ctx, text(HttpResponseStatus.SERVICE_UNAVAILABLE, "busy\n"), false);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof io.netty.handler.timeout.IdleStateEvent) {
                ctx.close();
                return;
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("closing HTTP connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }

    private interface Answer {
        FullHttpResponse make() throws IOException;
    }

    private static FullHttpResponse head(boolean head, FullHttpResponse r) {
        if (head) {
            // HEAD: the headers of GET, Content-Length included, and no body.
            int length = r.content().readableBytes();
            r.content().clear();
            HttpUtil.setContentLength(r, length);
        }
        return r;
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
        return response(status, "text/plain; charset=utf-8", Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    }

    private static FullHttpResponse response(HttpResponseStatus status, String type, ByteBuf body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        HttpUtil.setContentLength(r, body.readableBytes());
        return r;
    }

    private static void send(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
        if (keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(r);
        } else {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        answers.shutdownNow();
        files.close();
    }
}
