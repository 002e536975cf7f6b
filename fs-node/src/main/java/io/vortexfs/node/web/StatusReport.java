package io.vortexfs.node.web;

import io.vortexfs.node.cluster.Membership;
import io.vortexfs.node.cluster.Peers;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.rpc.Reply;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The cluster as this node sees it, as JSON for the status page and for scripts: its settings, every
 * member with the state this node judges it in and its share of the ring, and what each live member
 * stores, asked of it now (a member that does not answer within a moment is shown without figures).
 */
final class StatusReport {
    /** How long the report waits for members' figures. */
    static final Duration ASK = Duration.ofSeconds(2);
    /** Points sampled on the ring to estimate each member's share of it. */
    private static final int SAMPLES = 4096;

    private final Membership membership;
    private final Peers peers;
    private final NodeMetrics.Source self;

    StatusReport(Membership membership, Peers peers, NodeMetrics.Source self) {
        this.membership = membership;
        this.peers = peers;
        this.self = self;
    }

    /** Blocks for at most {@link #ASK}: never call on an event loop. */
    String json() {
        Response.ClusterView view = membership.view();
        Map<String, CompletableFuture<Response.NodeStats>> asked = new LinkedHashMap<>();
        for (MemberInfo m : view.members()) {
            asked.put(m.nodeId(), statsOf(m));
        }
        Map<String, Double> shares = shares();
        long deadline = System.nanoTime() + ASK.toNanos();
        Json j = new Json().begin()
                .field("node", membership.self().nodeId())
                .field("address", membership.self().address())
                .field("cluster", view.clusterId())
                .field("topology", view.topology())
                .field("replicas", view.replicas())
                .field("writeQuorum", view.writeQuorum())
                .field("partitions", view.partitions())
                .field("encrypted", view.encrypted())
                .beginArray("members");
        for (MemberInfo m : view.members()) {
            j.begin()
                    .field("nodeId", m.nodeId())
                    .field("address", m.address())
                    .field("state", m.state().name())
                    .field("generation", m.generation())
                    .field("self", membership.isSelf(m))
                    .field("ringShare", shares.getOrDefault(m.nodeId(), 0.0));
            Response.NodeStats s = await(asked.get(m.nodeId()), deadline);
            if (s != null) {
                j.beginObject("stats")
                        .field("chunks", s.chunkCount())
                        .field("chunkBytes", s.chunkBytes())
                        .field("metadataKeys", s.metadataKeys())
                        .field("diskTotalBytes", s.totalBytes())
                        .field("diskFreeBytes", s.freeBytes())
                        .beginObject("repair")
                        .field("running", s.repair().running())
                        .field("checked", s.repair().checked())
                        .field("total", s.repair().total())
                        .field("lacking", s.repair().lacking())
                        .field("copiedBytes", s.repair().copiedBytes())
                        .end()
                        .beginObject("scrub")
                        .field("scrubbed", s.scrub().scrubbed())
                        .field("damaged", s.scrub().damaged())
                        .field("healed", s.scrub().healed())
                        .end()
                        .end();
            }
            j.end();
        }
        return j.endArray().end().toString();
    }

    private CompletableFuture<Response.NodeStats> statsOf(MemberInfo m) {
        if (membership.isSelf(m)) {
            try {
                return CompletableFuture.completedFuture(self.stats());
            } catch (Exception e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        if (!m.state().isUp()) {
            return CompletableFuture.completedFuture(null);
        }
        return peers.call(Peers.address(m), new Request.GetStats(), null, ASK).thenApply(r -> {
            try (Reply reply = r) {
                return reply.response() instanceof Response.NodeStats s ? s : null;
            }
        });
    }

    private static Response.NodeStats await(CompletableFuture<Response.NodeStats> f, long deadline) {
        try {
            return f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            return null; // Not answered in time, or failed: shown without figures.
        }
    }

    /** Each member's share of the ring as first owner, estimated from evenly spaced points. */
    private Map<String, Double> shares() {
        Map<String, Double> out = new HashMap<>();
        long step = Long.divideUnsigned(-1L, SAMPLES);
        for (int i = 0; i < SAMPLES; i++) {
            List<MemberInfo> owners = membership.owners(Long.MIN_VALUE + i * step);
            if (!owners.isEmpty()) {
                out.merge(owners.get(0).nodeId(), 1.0 / SAMPLES, Double::sum);
            }
        }
        return out;
    }
}
