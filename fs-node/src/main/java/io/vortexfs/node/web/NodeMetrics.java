package io.vortexfs.node.web;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.MemberState;
import io.vortexfs.protocol.Response;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * What a node counts about itself, in Prometheus' registry and exposition format: the requests it
 * serves (by kind, with their latency), the bytes through its port, and, read at each scrape, what
 * it stores, its disk, its write-ahead log's fsyncs, its view of the members and the copies its
 * repair found missing. Counting costs an atomic add or two per request.
 */
public final class NodeMetrics {
    /** Latency buckets from 100 µs to about 13 s. */
    private static final double[] LATENCY_BUCKETS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
        0.1, 0.25, 0.5, 1, 2.5, 5, 13};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests;
    private final Histogram latency;
    private final Counter received;
    private final Counter sent;

    public NodeMetrics() {
        requests = Counter.builder().name("vortex_requests_total")
                .help("Requests served, by kind and outcome (ok, or the error's code).")
                .labelNames("kind", "outcome").register(registry);
        latency = Histogram.builder().name("vortex_request_seconds")
                .help("Time from a request's arrival to its reply being handed to the network, by kind.")
                .labelNames("kind").classicUpperBounds(LATENCY_BUCKETS).classicOnly().withoutExemplars().register(registry);
        received = Counter.builder().name("vortex_network_received_bytes_total")
                .help("Bytes read from the node's protocol connections.").register(registry);
        sent = Counter.builder().name("vortex_network_sent_bytes_total")
                .help("Bytes written to the node's protocol connections.").register(registry);
    }

    /** A request of {@code kind} was answered after {@code nanos}; {@code outcome} is "ok" or an error code. */
    public void served(String kind, String outcome, long nanos) {
        requests.labelValues(kind, outcome).inc();
        latency.labelValues(kind).observe(nanos / (double) TimeUnit.SECONDS.toNanos(1));
    }

    /** Requests of {@code kind} answered so far, whatever the outcome. */
    public long served(String kind) {
        long n = 0;
        for (var point : requests.collect().getDataPoints()) {
            if (kind.equals(point.getLabels().get("kind"))) {
                n += (long) point.getValue();
            }
        }
        return n;
    }

    public void received(long bytes) {
        received.inc(bytes);
    }

    public void sent(long bytes) {
        sent.inc(bytes);
    }

    /** What the node reads of itself at each scrape. */
    public interface Source {
        Response.NodeStats stats() throws Exception;

        /** Total time spent in fsyncs of the write-ahead log. */
        long walFsyncNanos();

        List<MemberInfo> members();
    }

    /** Registers the values read at each scrape; one read of {@code source} serves all of them. */
    public void watch(Source source) {
        Supplier<Response.NodeStats> stats = new Supplier<>() {
            private Response.NodeStats last;
            private long readAt;

            @Override
            public synchronized Response.NodeStats get() {
                if (last == null || System.nanoTime() - readAt > TimeUnit.MILLISECONDS.toNanos(500)) {
                    try {
                        last = source.stats();
                        readAt = System.nanoTime();
                    } catch (Exception e) {
                        // The previous reading, if any, stands: a scrape does not fail on one value.
                    }
                }
                return last;
            }
        };
        gauge("vortex_chunks", "Chunk copies stored on this node.", stats, s -> s.chunkCount());
        gauge("vortex_chunk_bytes", "Bytes of the chunk copies stored on this node.", stats, s -> s.chunkBytes());
        gauge("vortex_metadata_keys", "Metadata entries stored on this node.", stats, s -> s.metadataKeys());
        gauge("vortex_disk_total_bytes", "Size of the filesystem holding the data directory.", stats, s -> s.totalBytes());
        gauge("vortex_disk_free_bytes", "Space left to this node on that filesystem.", stats, s -> s.freeBytes());
        gauge("vortex_repair_lacking_copies", "Copies the current (or last) repair pass found missing on a live owner.",
                stats, s -> s.repair().lacking());
        counter("vortex_wal_fsyncs_total", "Fsyncs of the write-ahead log (one per group of records).", stats,
                s -> s.walFsyncs());
        counter("vortex_chunk_fsyncs_total", "Fsyncs of chunk files.", stats, s -> s.chunkFsyncs());
        counter("vortex_repair_copied_bytes_total", "Bytes the repair copied to owners that lacked them.", stats,
                s -> s.repair().copiedBytes());
        CounterWithCallback.builder().name("vortex_wal_fsync_seconds_total")
                .help("Time spent in fsyncs of the write-ahead log; over vortex_wal_fsyncs_total, the mean fsync.")
                .callback(cb -> cb.call(source.walFsyncNanos() / (double) TimeUnit.SECONDS.toNanos(1)))
                .register(registry);
        GaugeWithCallback.builder().name("vortex_members").help("Members this node knows, by the state it judges them in.")
                .labelNames("state").callback(cb -> {
                    List<MemberInfo> members = source.members();
                    for (MemberState state : MemberState.values()) {
                        cb.call(members.stream().filter(m -> m.state() == state).count(), state.name().toLowerCase(java.util.Locale.ROOT));
                    }
                }).register(registry);
    }

    private void gauge(String name, String help, Supplier<Response.NodeStats> stats,
            java.util.function.ToLongFunction<Response.NodeStats> value) {
        GaugeWithCallback.builder().name(name).help(help).callback(cb -> read(stats, value).ifPresent(cb::call))
                .register(registry);
    }

    private void counter(String name, String help, Supplier<Response.NodeStats> stats,
            java.util.function.ToLongFunction<Response.NodeStats> value) {
        CounterWithCallback.builder().name(name).help(help).callback(cb -> read(stats, value).ifPresent(cb::call))
                .register(registry);
    }

    /** One value of the latest reading; none when the node could not be read yet. */
    private static java.util.OptionalLong read(Supplier<Response.NodeStats> stats,
            java.util.function.ToLongFunction<Response.NodeStats> value) {
        Response.NodeStats s = stats.get();
        return s == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(value.applyAsLong(s));
    }

    public static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }

    /** Writes every metric in Prometheus' text format. */
    public void write(OutputStream out) throws IOException {
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
    }
}
