package io.vortexfs.protocol.placement;

import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.rpc.HostPort;
import io.vortexfs.protocol.rpc.Reply;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * Asynchronous plumbing shared by every replicated write, chunk or metadata, client or node: count
 * the copies a reply reports, walk past an unreachable head of a chain, and decide the quorum.
 * Nothing here blocks, so it may run on an event loop.
 */
public final class Chains {
    private Chains() {
    }

    /** The copies a {@link Response.Stored} reply reports; the reply is closed. */
    public static CompletableFuture<Integer> copies(CompletableFuture<Reply> call) {
        return call.thenApply(r -> {
            try (r) {
                if (r.response() instanceof Response.Stored s) {
                    return s.copies();
                }
                throw new CompletionException(new FsException(ErrorCode.PROTOCOL, "expected Stored, got " + r.response()));
            }
        });
    }

    /**
     * Sends down {@code chain} with {@code send}; when its head cannot be reached, tries again with
     * the head left out, so one dead owner does not cut off those behind it.
     */
    public static CompletableFuture<Integer> along(List<HostPort> chain, Function<List<HostPort>, CompletableFuture<Integer>> send) {
        if (chain.isEmpty()) {
            return CompletableFuture.completedFuture(0);
        }
        return send.apply(chain).handle((n, e) -> {
            if (e == null) {
                return CompletableFuture.completedFuture(n);
            }
            FsException f = unwrap(e);
            if (Quorum.unreachable(f) && chain.size() > 1) {
                return along(chain.subList(1, chain.size()), send);
            }
            return CompletableFuture.<Integer>failedFuture(f);
        }).thenCompose(f -> f);
    }

    /**
     * Waits for every branch and completes once their copies reach {@code required}. A branch that
     * failed for any reason but unreachability fails the whole; unreachable ones are tolerated
     * while the quorum holds.
     */
    public static CompletableFuture<Void> quorum(List<CompletableFuture<Integer>> branches, int required, String what) {
        return CompletableFuture.allOf(branches.stream().map(b -> b.exceptionally(e -> -1)).toArray(CompletableFuture[]::new))
                .thenApply(v -> {
                    int copies = 0;
                    FsException last = null;
                    for (CompletableFuture<Integer> b : branches) {
                        try {
                            copies += b.join();
                        } catch (CompletionException e) {
                            FsException f = unwrap(e);
                            if (!Quorum.unreachable(f)) {
                                throw new CompletionException(new FsException(f.code(), what + ": " + f.getMessage()));
                            }
                            last = f;
                        }
                    }
                    try {
                        Quorum.check(copies, required, what, last);
                    } catch (FsException e) {
                        throw new CompletionException(e);
                    }
                    return null;
                });
    }

    public static FsException unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t instanceof FsException f ? f : new FsException(ErrorCode.IO, String.valueOf(t), t);
    }
}
