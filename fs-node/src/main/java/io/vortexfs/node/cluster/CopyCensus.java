package io.vortexfs.node.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.vortexfs.node.chunks.ChunkStore;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.placement.HashRing;
import io.vortexfs.protocol.rpc.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Counts the good copies of chunks across the cluster, for fsck: a copy is good when the member
 * holding it re-reads it and its bytes hash to its id. The owners are asked first; for a chunk they
 * hold too few copies of, every other live member too, since just after the ring changed a former
 * owner may still hold the copy a new owner has not been sent yet. A member that is down holds
 * nothing as far as the count goes: while it is down, its copies cannot be read.
 */
public final class CopyCensus {
    private final Membership membership;
    private final ChunkStore chunks;
    private final ChunkScrub scrub;
    private final Peers peers;
    private final Duration timeout;

    /** @param timeout how long a member may take to re-hash one batch of {@link Request.HasChunks#MAX_VERIFIED} */
    public CopyCensus(Membership membership, ChunkStore chunks, ChunkScrub scrub, Peers peers, Duration timeout) {
        this.membership = membership;
        this.chunks = chunks;
        this.scrub = scrub;
        this.peers = peers;
        this.timeout = timeout;
    }

    /** What a count found. */
    public record Count(Map<ChunkId, Integer> good, Map<ChunkId, Integer> wanted, Map<ChunkId, Integer> lengthsHere,
            List<String> problems) {
    }

    /**
     * Those of {@code ids} held here whose bytes match their id, with their lengths. A damaged copy
     * is handed to the scrub, which replaces it.
     */
    public Map<ChunkId, Integer> verifyHere(Collection<ChunkId> ids) {
        Map<ChunkId, Integer> good = new LinkedHashMap<>();
        for (ChunkId id : ids) {
            try {
                ByteBuf data = chunks.get(id, PooledByteBufAllocator.DEFAULT);
                good.put(id, data.readableBytes());
                data.release();
            } catch (FsException e) {
                if (e.code() == ErrorCode.CORRUPT) {
                    scrub.damaged(id);
                }
            }
        }
        return good;
    }

    /** Counts the good copies of each of {@code ids}, and how many each should have. */
    public Count count(Collection<ChunkId> ids) {
        Map<ChunkId, Integer> good = new HashMap<>();
        Map<ChunkId, Integer> wanted = new HashMap<>();
        Map<ChunkId, Integer> lengthsHere = new HashMap<>();
        List<String> problems = new ArrayList<>();
        Set<String> silent = new HashSet<>();
        Map<String, MemberInfo> members = new HashMap<>();
        Map<String, List<ChunkId>> ask = new HashMap<>();
        Map<ChunkId, List<MemberInfo>> ownersOf = new HashMap<>();
        for (ChunkId id : ids) {
            List<MemberInfo> owners = membership.owners(HashRing.pointOf(id));
            ownersOf.put(id, owners);
            wanted.put(id, owners.size());
            good.put(id, 0);
            for (MemberInfo o : owners) {
                if (membership.isAlive(o.nodeId())) {
                    members.put(o.nodeId(), o);
                    ask.computeIfAbsent(o.nodeId(), k -> new ArrayList<>()).add(id);
                }
            }
        }
        tally(members, ask, good, lengthsHere, problems, silent);

        // Short on the owners: a former owner may still hold it.
        List<ChunkId> shortOnOwners = ids.stream().filter(id -> good.get(id) < wanted.get(id)).toList();
        Map<String, List<ChunkId>> more = new HashMap<>();
        for (MemberInfo m : shortOnOwners.isEmpty() ? List.<MemberInfo>of() : membership.members()) {
            if (!membership.isAlive(m.nodeId()) || silent.contains(m.nodeId())) {
                continue;
            }
            members.putIfAbsent(m.nodeId(), m);
            for (ChunkId id : shortOnOwners) {
                if (ownersOf.get(id).stream().noneMatch(o -> o.nodeId().equals(m.nodeId()))) {
                    more.computeIfAbsent(m.nodeId(), k -> new ArrayList<>()).add(id);
                }
            }
        }
        tally(members, more, good, lengthsHere, problems, silent);
        return new Count(good, wanted, lengthsHere, problems);
    }

    /**
     * Asks each member in {@code ask} to verify its ids, all members at once, and adds up the good
     * copies; a member that fails to answer is named in {@code problems} and {@code silent}.
     */
    private void tally(Map<String, MemberInfo> members, Map<String, List<ChunkId>> ask, Map<ChunkId, Integer> good,
            Map<ChunkId, Integer> lengthsHere, List<String> problems, Set<String> silent) {
        Map<String, CompletableFuture<List<ChunkId>>> replies = new HashMap<>();
        for (Map.Entry<String, List<ChunkId>> e : ask.entrySet()) {
            MemberInfo m = members.get(e.getKey());
            if (!membership.isSelf(m)) {
                replies.put(m.nodeId(), verifyOn(m, e.getValue(), 0, new ArrayList<>()));
            }
        }
        List<ChunkId> mine = ask.get(membership.self().nodeId());
        if (mine != null) {
            Map<ChunkId, Integer> here = verifyHere(mine);
            lengthsHere.putAll(here);
            here.keySet().forEach(id -> good.merge(id, 1, Integer::sum));
        }
        for (Map.Entry<String, CompletableFuture<List<ChunkId>>> e : replies.entrySet()) {
            try {
                e.getValue().join().forEach(id -> good.merge(id, 1, Integer::sum));
            } catch (CompletionException ex) {
                MemberInfo m = members.get(e.getKey());
                silent.add(m.nodeId());
                Throwable cause = ex.getCause() == null ? ex : ex.getCause();
                problems.add("node " + m.nodeId() + " (" + m.address() + ") could not count its copies: "
                        + cause.getMessage());
            }
        }
    }

    /** Verifies {@code ids} on {@code m} a batch at a time, one batch after the other. */
    private CompletableFuture<List<ChunkId>> verifyOn(MemberInfo m, List<ChunkId> ids, int from, List<ChunkId> found) {
        if (from >= ids.size()) {
            return CompletableFuture.completedFuture(found);
        }
        int to = Math.min(ids.size(), from + Request.HasChunks.MAX_VERIFIED);
        Request.HasChunks ask = new Request.HasChunks(List.copyOf(ids.subList(from, to)), true);
        return peers.call(Peers.address(m), ask, null, timeout).thenCompose(r -> {
            try (r) {
                if (!(r.response() instanceof Response.ChunksHeld held)) {
                    throw new CompletionException(new FsException(ErrorCode.IO, "answered " + r.response()));
                }
                found.addAll(held.held());
            }
            return verifyOn(m, ids, to, found);
        });
    }
}
