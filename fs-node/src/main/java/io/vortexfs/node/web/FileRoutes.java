package io.vortexfs.node.web;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.DirEntry;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Names;
import io.vortexfs.protocol.rpc.ClusterKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST file API of a node's HTTP port:
 * <ul>
 *   <li>{@code GET /api/files/PATH}: a directory as JSON, a file's bytes (one {@code Range} of bytes
 *       honoured: 206 with {@code Content-Range}, 416 when it is past the end);</li>
 *   <li>{@code HEAD /api/files/PATH}: the same headers without the body;</li>
 *   <li>{@code GET /api/stat/PATH}: one entry as JSON;</li>
 *   <li>{@code PUT /api/files/PATH}: the body becomes the file (201 new, 204 replaced), streamed;</li>
 *   <li>{@code DELETE /api/files/PATH}: a file or an empty directory (204).</li>
 * </ul>
 * Errors are JSON {@code {"error": "..."}} with the status that matches. When the cluster has a key,
 * every request must carry {@code Authorization: Bearer TOKEN}, the token derived from it
 * ({@link ClusterKey#apiToken}).
 *
 * <p>Transfers run on threads of their own, at most {@link #TRANSFERS} at once (then 503). Memory stays bounded both ways: a download writes its next block only when the
 * connection can take it, an upload reads its next piece only when the last one is written. A client
 * that stops reading or sending for {@link #STALL} loses its connection and frees its thread.
 */
final class FileRoutes implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FileRoutes.class);
    static final String FILES = "/api/files";
    static final String STAT = "/api/stat";
    static final int TRANSFERS = 8;
    private static final int BLOCK = 256 << 10;
    private static final long STALL = TimeUnit.SECONDS.toNanos(30);
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

    private final String token;
    private volatile FileService files;
    private final java.util.concurrent.Semaphore slots = new java.util.concurrent.Semaphore(TRANSFERS);
    /** Its queue is bounded by {@link #admit}: each admitted transfer has at most one task waiting. */
    private final ThreadPoolExecutor transfers = new ThreadPoolExecutor(TRANSFERS, TRANSFERS, 30, TimeUnit.SECONDS,
            new java.util.concurrent.LinkedBlockingQueue<>(), new DefaultThreadFactory("vortex-http-transfer", true));

    /** @param token what requests must present as a bearer token; null when the cluster has no key */
    FileRoutes(String token) {
        this.token = token;
        transfers.allowCoreThreadTimeOut(true);
    }

    void serve(FileService f) {
        this.files = f;
    }

    static boolean handles(String rawPath) {
        return under(rawPath, FILES) || under(rawPath, STAT);
    }

    private static boolean under(String rawPath, String prefix) {
        return rawPath.equals(prefix) || rawPath.startsWith(prefix + "/");
    }

    /**
     * Starts answering {@code request}; the answer closes the connection when it is done. Returns the
     * upload that takes the request's body, or null when its body, if any, is to be ignored.
     */
    Upload start(ChannelHandlerContext ctx, HttpRequest request) {
        HttpMethod method = request.method();
        String raw = new QueryStringDecoder(request.uri()).rawPath();
        if (token != null && !authorized(request)) {
            FullHttpResponse r = error(HttpResponseStatus.UNAUTHORIZED, "this cluster has a key: send "
                    + "'Authorization: Bearer TOKEN' with the token `vortex token` prints");
            r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"vortexfs\"");
            send(ctx.channel(), r);
            return null;
        }
        FileService f = files;
        if (f == null) {
            send(ctx.channel(), error(HttpResponseStatus.SERVICE_UNAVAILABLE, "this node serves no files (yet)"));
            return null;
        }
        String path;
        try {
            path = clusterPath(raw.substring(under(raw, FILES) ? FILES.length() : STAT.length()));
        } catch (IllegalArgumentException e) {
            send(ctx.channel(), error(HttpResponseStatus.BAD_REQUEST, e.getMessage()));
            return null;
        }
        boolean stat = under(raw, STAT);
        Channel ch = ctx.channel();
        if (!admit(ch)) {
            return null;
        }
        if (method == HttpMethod.GET || method == HttpMethod.HEAD) {
            boolean head = method == HttpMethod.HEAD;
            String range = request.headers().get(HttpHeaderNames.RANGE);
            later(ch, () -> {
                Attr a = f.stat(path);
                if (stat) {
                    send(ch, json(HttpResponseStatus.OK, entry(new Json().begin(), name(path), a).end().toString(), head));
                } else if (a.isDirectory()) {
                    send(ch, json(HttpResponseStatus.OK, listing(path, f.list(path)), head));
                } else {
                    download(ch, f, path, a, range, head);
                }
            });
            return null;
        }
        if (stat) {
            send(ch, notAllowed("GET, HEAD"));
            return null;
        }
        if (method == HttpMethod.DELETE) {
            later(ch, () -> {
                f.delete(path);
                send(ch, empty(HttpResponseStatus.NO_CONTENT));
            });
            return null;
        }
        if (method == HttpMethod.PUT) {
            if (path.equals("/")) {
                send(ch, error(HttpResponseStatus.CONFLICT, "the root is a directory"));
                return null;
            }
            return new Upload(ctx, f, path);
        }
        send(ch, notAllowed("GET, HEAD, PUT, DELETE"));
        return null;
    }

    private boolean authorized(HttpRequest request) {
        String given = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        return given != null && given.startsWith("Bearer ") && ClusterKey.same(given.substring(7).trim(), token);
    }

    /**
     * The cluster path a URL path names: each segment percent-decoded, and refused when it is empty,
     * "." or "..", holds '/' or NUL once decoded, or is longer than a name may be.
     */
    static String clusterPath(String rawRest) {
        if (rawRest.isEmpty() || rawRest.equals("/")) {
            return "/";
        }
        StringBuilder out = new StringBuilder();
        String rest = rawRest.endsWith("/") ? rawRest.substring(0, rawRest.length() - 1) : rawRest;
        for (String segment : rest.substring(1).split("/", -1)) {
            String name = QueryStringDecoder.decodeComponent(segment, StandardCharsets.UTF_8);
            try {
                Names.check(name);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("bad path " + rawRest + ": " + e.getMessage());
            }
            out.append('/').append(name);
        }
        return out.toString();
    }

    private static String name(String path) {
        return path.equals("/") ? "/" : path.substring(path.lastIndexOf('/') + 1);
    }

    private static Json entry(Json j, String name, Attr a) {
        String type = a.isDirectory() ? "directory" : a.isRegular() ? "file" : a.isSymlink() ? "symlink" : "other";
        return j.field("name", name).field("type", type).field("size", a.size())
                .field("mode", String.format("%04o", a.mode() & 07777)).field("links", a.nlink())
                .field("uid", a.uid()).field("gid", a.gid())
                .field("mtime", Instant.ofEpochSecond(0, a.mtimeNs()).toString());
    }

    private static String listing(String path, List<DirEntry> entries) {
        Json j = new Json().begin().field("path", path).beginArray("entries");
        for (DirEntry e : entries) {
            entry(j.begin(), e.name(), e.attr()).end();
        }
        return j.endArray().end().toString();
    }

    /** Streams the file, or the one range asked for, a block at a time as the connection takes it. */
    private static void download(Channel ch, FileService f, String path, Attr a, String rangeHeader, boolean head)
            throws FsException, IOException {
        long size = a.size();
        long[] range = rangeHeader == null ? null : Ranges.parse(rangeHeader, size);
        if (range != null && range.length == 0) {
            FullHttpResponse r = error(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "range " + rangeHeader
                    + " is past the end of the file (" + size + " bytes)");
            r.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + size);
            send(ch, r);
            return;
        }
        long from = range == null ? 0 : range[0];
        long to = range == null ? size : range[1] + 1;
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                range == null ? HttpResponseStatus.OK : HttpResponseStatus.PARTIAL_CONTENT);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM)
                .set(HttpHeaderNames.ACCEPT_RANGES, HttpHeaderValues.BYTES)
                .set(HttpHeaderNames.LAST_MODIFIED, HTTP_DATE.format(Instant.ofEpochSecond(0, a.mtimeNs())))
                .set(HttpHeaderNames.ETAG, "\"" + a.ino() + "-" + a.version() + "\"")
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        HttpUtil.setContentLength(r, to - from);
        if (range != null) {
            r.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes " + from + "-" + (to - 1) + "/" + size);
        }
        if (head) {
            ch.write(r);
            ch.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        long handle = f.open(path);
        try {
            ch.writeAndFlush(r);
            byte[] block = new byte[BLOCK];
            long at = from;
            while (at < to) {
                int n = f.read(handle, at, block, (int) Math.min(BLOCK, to - at));
                if (n <= 0) {
                    throw new IOException(path + " ended at " + at + " of " + to + " bytes");
                }
                awaitWritable(ch);
                ch.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(block, 0, n)));
                at += n;
            }
            ch.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
        } catch (FsException | IOException e) {
            ch.close(); // The status line is sent: a cut connection is how the client learns of it.
            throw e;
        } finally {
            f.close(handle);
        }
    }

    /** Waits until the connection's outbound buffer is below its high-water mark. */
    private static void awaitWritable(Channel ch) throws IOException {
        long deadline = System.nanoTime() + STALL;
        while (!ch.isWritable()) {
            if (!ch.isActive()) {
                throw new IOException("the client went away");
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("the client stopped reading");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }

    /**
     * An upload: the file is created once the headers are in, then each piece of the body is written
     * on a transfer thread before the connection reads the next, and the file is closed (stored and
     * visible) after the last. Pieces arrive on the event loop, in order; the steps run in that order.
     */
    final class Upload {
        private final ChannelHandlerContext ctx;
        private final FileService f;
        private final String path;
        /** The steps so far; each runs after the one before, and none completes exceptionally. */
        private CompletableFuture<Void> done = CompletableFuture.completedFuture(null);
        private long handle = -1;
        private long at;
        private boolean created;
        private boolean failed;

        private Upload(ChannelHandlerContext ctx, FileService f, String path) {
            this.ctx = ctx;
            this.f = f;
            this.path = path;
            ctx.channel().config().setAutoRead(false);
            then(null, () -> {
                boolean existed;
                try {
                    existed = !f.stat(path).isDirectory();
                } catch (FsException e) {
                    existed = false;
                }
                handle = f.create(path);
                created = !existed;
            });
            done.thenRun(ctx::read);
        }

        /** Takes the next piece of the body (on the event loop); the last one ends the upload. */
        void accept(HttpContent piece) {
            ByteBuf content = piece.content().retain();
            boolean last = piece instanceof LastHttpContent;
            then(content, () -> {
                int n = content.readableBytes();
                if (n > 0) {
                    byte[] bytes = new byte[n];
                    content.readBytes(bytes);
                    f.write(handle, at, bytes, n);
                    at += n;
                }
                if (last) {
                    long h = handle;
                    handle = -1;
                    f.close(h);
                    send(ctx.channel(), empty(created ? HttpResponseStatus.CREATED : HttpResponseStatus.NO_CONTENT));
                }
            });
            if (!last) {
                done.thenRun(ctx::read);
            }
        }

        /** The connection closed before the body was all in: what was written stays, as after a cut cp. */
        void abandon() {
            then(null, () -> {
                if (handle >= 0) {
                    failed = true;
                    long h = handle;
                    handle = -1;
                    f.close(h);
                }
            });
        }

        /**
         * Queues a step after the others; {@code release} is released after it whatever happens. After
         * the first failure the client has its answer and the remaining steps do nothing.
         */
        private void then(ByteBuf release, Work step) {
            done = done.thenRunAsync(() -> {
                try {
                    if (!failed) {
                        step.run();
                    }
                } catch (FsException | IOException | RuntimeException e) {
                    failed = true;
                    if (handle >= 0) {
                        try {
                            f.close(handle);
                        } catch (FsException closing) {
                            LOG.debug("closing a failed upload of {}: {}", path, closing.toString());
                        }
                        handle = -1;
                    }
                    send(ctx.channel(), failure(e));
                } finally {
                    if (release != null) {
                        release.release();
                    }
                }
            }, transfers);
        }
    }

    private interface Work {
        void run() throws FsException, IOException;
    }

    /**
     * Admits one more transfer, or answers 503 when {@link #TRANSFERS} are under way. The slot is
     * given back when the connection closes, which every answer here does. Each transfer has at most
     * one step queued at a time, so the transfer threads' queue is bounded by this.
     */
    private boolean admit(Channel ch) {
        if (!slots.tryAcquire()) {
            send(ch, error(HttpResponseStatus.SERVICE_UNAVAILABLE, "too many transfers at once; try again"));
            return false;
        }
        ch.closeFuture().addListener(closed -> slots.release());
        return true;
    }

    /** Runs {@code work} on a transfer thread; what it throws is the client's answer. */
    private void later(Channel ch, Work work) {
        transfers.execute(() -> {
            try {
                work.run();
            } catch (FsException | IOException | RuntimeException e) {
                if (ch.isActive()) {
                    send(ch, failure(e));
                }
            }
        });
    }

    private static FullHttpResponse failure(Exception e) {
        if (!(e instanceof FsException fe)) {
            LOG.warn("REST file request failed: {}", e.toString());
            return error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error: " + e.getMessage());
        }
        HttpResponseStatus status = switch (fe.code()) {
            case NOT_FOUND -> HttpResponseStatus.NOT_FOUND;
            case EXISTS, NOT_DIRECTORY, IS_DIRECTORY, NOT_EMPTY -> HttpResponseStatus.CONFLICT;
            case INVALID, NAME_TOO_LONG -> HttpResponseStatus.BAD_REQUEST;
            case PERMISSION -> HttpResponseStatus.FORBIDDEN;
            case NO_SPACE -> HttpResponseStatus.INSUFFICIENT_STORAGE;
            case TOO_BIG -> HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
            case BUSY, TIMEOUT, UNAVAILABLE, NOT_COORDINATOR, STALE -> HttpResponseStatus.SERVICE_UNAVAILABLE;
            default -> HttpResponseStatus.INTERNAL_SERVER_ERROR;
        };
        return error(status, fe.getMessage());
    }

    private static FullHttpResponse error(HttpResponseStatus status, String message) {
        return json(status, new Json().begin().field("error", message).end().toString(), false);
    }

    private static FullHttpResponse notAllowed(String allow) {
        FullHttpResponse r = error(HttpResponseStatus.METHOD_NOT_ALLOWED, "allowed here: " + allow);
        r.headers().set(HttpHeaderNames.ALLOW, allow);
        return r;
    }

    private static FullHttpResponse json(HttpResponseStatus status, String body, boolean head) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        HttpUtil.setContentLength(r, bytes.length);
        return r;
    }

    private static FullHttpResponse empty(HttpResponseStatus status) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
        HttpUtil.setContentLength(r, 0);
        return r;
    }

    /** Sends a whole answer and closes the connection: one request per connection on these routes. */
    private static void send(Channel ch, FullHttpResponse r) {
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ch.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void close() {
        transfers.shutdownNow();
    }
}
