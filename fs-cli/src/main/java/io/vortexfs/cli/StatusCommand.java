package io.vortexfs.cli;

import io.vortexfs.mount.client.ClientConfig;
import io.vortexfs.mount.client.ClusterClient;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.GcProgress;
import io.vortexfs.protocol.MemberState;
import io.vortexfs.protocol.RepairProgress;
import io.vortexfs.protocol.ScrubProgress;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.rpc.HostPort;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "status", mixinStandardHelpOptions = true, description = "Show the cluster's members and what each stores.")
final class StatusCommand implements Runnable {
    @Option(names = "--cluster", required = true, paramLabel = "HOST:PORT[,HOST:PORT...]",
            converter = Units.HostPortsConverter.class, description = "Any node(s) of the cluster.")
    List<HostPort> cluster;

    @picocli.CommandLine.Mixin
    KeyOption key;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(names = "--wait", description = {"First wait until the chunk repair is done on every running node (after a "
            + "node joined, left, died or came back: the copies have moved to their owners), then print the status.",
        "Done means no pass queued or running anywhere for " + QUIET_SECONDS + " s in a row."})
    boolean await;

    @Option(names = "--wait-timeout", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "Give up waiting after this long (default 1h), with exit code 1.")
    java.time.Duration waitTimeout = java.time.Duration.ofHours(1);

    @Option(names = "--progress", negatable = true,
            description = "With --wait, show a progress bar of the chunks checked (default: only on a terminal).")
    Boolean progress;

    /** How long every node must have had no repair queued or running before --wait believes it done. */
    static final int QUIET_SECONDS = 3;

    /**
     * "checking 40% of 4096, 12 copied (48.0 MiB), 0 dropped", or between passes "idle, ..."; damaged
     * copies found by scrubbing or reads are added when there were any. Counts are since the node started.
     */
    static String repair(RepairProgress p, ScrubProgress scrub) {
        String counts = p.copied() + " copied (" + Units.humanBytes(p.copiedBytes()) + "), " + p.dropped() + " dropped";
        if (scrub.damaged() > 0) {
            counts += ", " + scrub.damaged() + " damaged, " + scrub.healed() + " healed";
        }
        if (p.running()) {
            long pct = p.total() == 0 ? 100 : Math.min(100, p.checked() * 100 / p.total());
            return "checking " + pct + "% of " + p.total() + ", " + counts;
        }
        return p.passes() == 0 ? "not yet run" : "idle, " + counts;
    }

    @Override
    public void run() {
        ClientConfig cfg = key.apply(Main.ADMIN_CLIENT);
        try (ClusterClient client = ClusterClient.connect(cluster, cfg, "status")) {
            if (await) {
                awaitRepair(client);
            }
            Response.ClusterView view = client.freshView();
            StringBuilder out = new StringBuilder();
            if (json) {
                out.append("{\"clusterId\":\"").append(view.clusterId()).append("\",\"topology\":\"")
                        .append(view.topology()).append("\",\"replicas\":").append(view.replicas())
                        .append(",\"vnodes\":").append(view.vnodes()).append(",\"writeQuorum\":").append(view.writeQuorum())
                        .append(",\"partitions\":").append(view.partitions()).append(",\"encrypted\":")
                        .append(view.encrypted()).append(",\"members\":[");
            } else {
                long alive = view.members().stream().filter(m -> m.state() == MemberState.ALIVE).count();
                out.append(String.format(Locale.ROOT,
                        "cluster %s  topology %s  replicas %d  vnodes %d  partitions %d  %s  members %d (%d alive)%n",
                        view.clusterId(), view.topology(), view.replicas(), view.vnodes(), view.partitions(),
                        view.encrypted() ? "encrypted at rest" : "not encrypted at rest", view.members().size(), alive));
                out.append(String.format(Locale.ROOT, "%-38s %-22s %-8s %10s %12s %10s  %s%n", "NODE", "ADDRESS", "STATE",
                        "CHUNKS", "BYTES", "META KEYS", "REPAIR"));
            }
            boolean first = true;
            for (MemberInfo m : view.members()) {
                Response.NodeStats s = null;
                try {
                    if (m.state().isUp()) {
                        s = client.nodeStats(m);
                    }
                } catch (FsException e) {
                    // Shown as unknown below.
                }
                if (json) {
                    out.append(first ? "" : ",").append("{\"nodeId\":\"").append(m.nodeId()).append("\",\"address\":\"")
                            .append(m.address()).append("\",\"state\":\"").append(m.state()).append("\",\"generation\":")
                            .append(m.generation());
                    if (s != null) {
                        out.append(",\"chunks\":").append(s.chunkCount()).append(",\"bytes\":").append(s.chunkBytes())
                                .append(",\"metadataKeys\":").append(s.metadataKeys())
                                .append(",\"walFsyncs\":").append(s.walFsyncs())
                                .append(",\"chunkFsyncs\":").append(s.chunkFsyncs());
                        RepairProgress p = s.repair();
                        out.append(",\"repair\":{\"running\":").append(p.running()).append(",\"queued\":")
                                .append(p.queued()).append(",\"checked\":")
                                .append(p.checked()).append(",\"total\":").append(p.total()).append(",\"lacking\":")
                                .append(p.lacking()).append(",\"copied\":").append(p.copied())
                                .append(",\"copiedBytes\":").append(p.copiedBytes()).append(",\"dropped\":")
                                .append(p.dropped()).append(",\"passes\":").append(p.passes()).append('}');
                        ScrubProgress sc = s.scrub();
                        out.append(",\"scrub\":{\"scrubbed\":").append(sc.scrubbed()).append(",\"damaged\":")
                                .append(sc.damaged()).append(",\"healed\":").append(sc.healed()).append('}');
                        GcProgress gc = s.gc();
                        out.append(",\"gc\":{\"passes\":").append(gc.passes()).append(",\"reclaimed\":")
                                .append(gc.reclaimed()).append(",\"reclaimedBytes\":").append(gc.reclaimedBytes()).append('}');
                    }
                    out.append('}');
                } else {
                    out.append(String.format(Locale.ROOT, "%-38s %-22s %-8s %10s %12s %10s  %s%n", m.nodeId(), m.address(),
                            m.state(), s == null ? "?" : Long.toString(s.chunkCount()),
                            s == null ? "?" : Units.humanBytes(s.chunkBytes()),
                            s == null ? "?" : Long.toString(s.metadataKeys()), s == null ? "?" : repair(s.repair(), s.scrub())));
                }
                first = false;
            }
            if (json) {
                out.append("]}");
            }
            if (!json && view.members().stream().anyMatch(m -> m.state() == MemberState.OUT)) {
                out.append("OUT: dead for longer than --repair-after; its chunks and metadata have new owners.\n");
            }
            System.out.println(out.toString().stripTrailing());
        } catch (FsException e) {
            throw new UserError(e.getMessage());
        }
    }

    /**
     * Polls every running node's repair each second until none has a pass queued or running for
     * {@link #QUIET_SECONDS} seconds in a row (a node that has just heard of a change queues its pass
     * within a second or two). The bar counts the chunks the passes have checked.
     */
    private void awaitRepair(ClusterClient client) throws FsException {
        long deadline = System.nanoTime() + waitTimeout.toNanos();
        Progress bar = null;
        long quietSince = -1;
        long done = 0;
        long total = 0;
        while (true) {
            boolean busy = false;
            done = 0;
            total = 0;
            for (MemberInfo m : client.freshView().members()) {
                if (!m.state().isUp()) {
                    continue;
                }
                RepairProgress p;
                try {
                    p = client.nodeStats(m).repair();
                } catch (FsException e) {
                    busy = true; // Not answering now: not known to be done.
                    continue;
                }
                long chunks = Math.max(p.total(), 1);
                total += chunks;
                if (p.running()) {
                    done += Math.min(p.checked(), chunks);
                    busy = true;
                } else if (p.queued()) {
                    busy = true;
                } else {
                    done += chunks;
                }
            }
            if (bar == null && busy) {
                bar = Progress.of(progress, total, n -> n + " chunks", System.err);
                if (bar.shown()) {
                    System.err.println("waiting for the chunk repair to finish on every node:");
                }
            }
            if (bar != null) {
                bar.update(done);
            }
            long now = System.nanoTime();
            if (busy) {
                quietSince = -1;
            } else if (quietSince < 0) {
                quietSince = now;
            } else if (now - quietSince >= java.util.concurrent.TimeUnit.SECONDS.toNanos(QUIET_SECONDS)) {
                break;
            }
            if (now > deadline) {
                throw new UserError("the chunk repair is still under way after " + waitTimeout.toSeconds() + " s"
                        + " (see `vortex status`)");
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UserError("interrupted while waiting for the repair");
            }
        }
        if (bar != null) {
            bar.done(total);
        }
    }
}
