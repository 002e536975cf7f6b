package io.vortexfs.node.cluster;

import io.netty.util.concurrent.DefaultThreadFactory;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Heartbeat;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.MemberState;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.Topology;
import io.vortexfs.protocol.placement.HashRing;
import io.vortexfs.protocol.placement.Partitions;
import io.vortexfs.protocol.rpc.HostPort;
import io.vortexfs.protocol.rpc.Reply;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who is in the cluster and who is alive, as this node sees it.
 *
 * <p>Every node keeps a table of all members with a heartbeat counter each. On every tick a node
 * raises its own counter and sends its table (gossip) to its targets: in an all-to-all cluster every
 * other member, in a ring cluster its live successor and predecessor in node-id order, so news
 * travels around the ring both ways. Merging keeps, per member, the newest generation and within it
 * the highest counter; a counter seen to rise marks the member as heard from. A member not heard from
 * for {@code suspectAfter} is SUSPECT; it is DEAD when its silence is past {@code deadAfter} and
 * improbable given its own recent heartbeats (phi accrual, see {@link ArrivalWindow}), so a member
 * whose heartbeats come late and irregularly under load is given longer; dead for {@code repairAfter}
 * more it is OUT: it leaves the hash ring, so its keys get new owners, which the repair fills. Liveness
 * is each node's own judgement and is not gossiped: only counters are, so a restarted member's fresh
 * counter can never be overruled by an old "dead" rumour, and a member that comes back is put back on
 * the ring by every node that hears it.
 *
 * <p>The member list (not the liveness) is kept in {@code members} under the data directory, so a
 * restarted node finds its peers again without being told.
 */
public final class Membership implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);
    static final String MEMBERS_FILE = "members";
    /** Present once the node was asked to leave: it stays leaving across restarts. */
    static final String LEAVING_FILE = "leaving";

    /**
     * How often a node heartbeats, when silence makes a member suspect and then dead, and how long
     * a member must stay dead before its keys are given to new owners.
     */
    public record Timing(Duration interval, Duration suspectAfter, Duration deadAfter, Duration repairAfter) {
        /** Long enough for a reboot or an upgrade not to set off a copy of everything the node held. */
        public static final Duration DEFAULT_REPAIR_AFTER = Duration.ofMinutes(10);
        public static final Timing DEFAULT = new Timing(Duration.ofMillis(300), Duration.ofMillis(1500),
                Duration.ofSeconds(3), DEFAULT_REPAIR_AFTER);

        public Timing {
            if (interval.isNegative() || interval.isZero() || suspectAfter.compareTo(deadAfter) > 0
                    || repairAfter.isNegative()) {
                throw new IllegalArgumentException("heartbeat timing out of order: " + interval + ", " + suspectAfter
                        + ", " + deadAfter + ", " + repairAfter);
            }
        }

        public Timing(Duration interval, Duration suspectAfter, Duration deadAfter) {
            this(interval, suspectAfter, deadAfter, DEFAULT_REPAIR_AFTER);
        }

        public Timing withRepairAfter(Duration d) {
            return new Timing(interval, suspectAfter, deadAfter, d);
        }
    }

    /** The phi past which a silent member is DEAD (see {@link ArrivalWindow}); Cassandra's default. */
    static final double PHI_DEAD = 8;

    private static final class Peer {
        MemberInfo info;
        long beat;
        long heardNanos;
        final ArrivalWindow arrivals = new ArrivalWindow();

        Peer(MemberInfo info, long beat, long heardNanos) {
            this.info = info;
            this.beat = beat;
            this.heardNanos = heardNanos;
        }

        void heard(long now) {
            heardNanos = now;
            arrivals.arrived(now);
        }
    }

    /** This node; its state is ALIVE, or DRAINING and then LEFT once it was asked to leave. */
    private volatile MemberInfo self;
    private final ClusterSettings settings;
    private final Timing timing;
    private final Peers peers;
    private final Path dataDir;
    private final LongSupplier nanoTime;
    private final Map<String, Peer> table = new HashMap<>(); // guarded by this; never holds self
    private long selfBeat;
    /** Liveness as last announced to the listeners; null until the first look. */
    private Map<String, MemberState> lastStates;
    private volatile HashRing ring;
    /** The ids of the members on the ring: every member but those OUT. */
    private volatile java.util.Set<String> placed;
    private volatile List<Runnable> listeners = List.of();
    private ScheduledExecutorService timer;

    public Membership(MemberInfo self, ClusterSettings settings, Timing timing, Peers peers, Path dataDir,
            LongSupplier nanoTime) {
        this.self = self;
        this.settings = settings;
        this.timing = timing;
        this.peers = peers;
        this.dataDir = dataDir;
        this.nanoTime = nanoTime;
        this.ring = new HashRing(List.of(self), settings.vnodes());
        this.placed = java.util.Set.of(self.nodeId());
        if (Files.exists(dataDir.resolve(LEAVING_FILE))) {
            this.self = withState(self, MemberState.DRAINING);
        }
    }

    private static MemberInfo withState(MemberInfo m, MemberState s) {
        return new MemberInfo(m.nodeId(), m.host(), m.port(), s, m.generation());
    }

    /** True once this node was asked to leave the cluster (and after it restarts). */
    public boolean leaving() {
        return self.state() == MemberState.DRAINING || self.state() == MemberState.LEFT;
    }

    /**
     * Starts leaving the cluster: from now on this node owns no keys, in its own view and, once its
     * heartbeats carry the news, in everyone's. It keeps answering, so what it holds can be handed
     * over. Survives a restart. Refused when no other member would be left to own the keys.
     */
    public void leave() throws FsException {
        synchronized (this) {
            if (leaving()) {
                return;
            }
            long now = nanoTime.getAsLong();
            boolean othersOwn = table.values().stream().anyMatch(p -> stateOf(p, now).ownsKeys()
                    && stateOf(p, now).isUp());
            if (!othersOwn) {
                throw new FsException(ErrorCode.INVALID, "no other live member would be left to hold the data");
            }
            try {
                Files.writeString(dataDir.resolve(LEAVING_FILE), "asked to leave\n", StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new FsException(ErrorCode.IO, "cannot record that this node is leaving: " + e.getMessage(), e);
            }
            self = withState(self, MemberState.DRAINING);
            placeOnRing(now, true);
            LOG.info("leaving the cluster: handing over everything this node holds");
        }
        fireChanged();
    }

    /** Everything is handed over: the last heartbeats say LEFT, so nobody waits for this node. */
    public synchronized void left() {
        self = withState(self, MemberState.LEFT);
    }

    /**
     * Asks the seeds, in turn, to let a node in, and returns the settings of the cluster it joins.
     * The message of an IOException is fit for a user.
     */
    public static Response.ClusterView join(List<HostPort> seeds, Request.Join join, Peers peers, Duration timeout)
            throws IOException {
        String last = "no seed given";
        for (HostPort seed : seeds) {
            try (Reply r = peers.pool().get(seed).callSync(join, null, timeout)) {
                return (Response.ClusterView) r.response();
            } catch (FsException e) {
                if (e.code() == ErrorCode.INVALID) {
                    throw new IOException("cannot join the cluster at " + seed + ": " + e.getMessage());
                }
                last = seed + ": " + e.getMessage();
            } catch (ClassCastException e) {
                last = seed + " did not answer Join with a cluster view";
            }
        }
        throw new IOException("cannot join the cluster: no seed answered (" + last + ")");
    }

    /** Takes the members a node knows of (from a join or its members file), before it answers anyone. */
    public void know(List<MemberInfo> known) {
        long now = nanoTime.getAsLong();
        synchronized (this) {
            for (MemberInfo m : known) {
                if (!m.nodeId().equals(self.nodeId())) {
                    // Presumed alive until silence proves otherwise: a node that has just started must
                    // not believe it is alone, or it would coordinate what its peers hold newer.
                    table.putIfAbsent(m.nodeId(), new Peer(m, -1, now));
                }
            }
            membersChanged();
        }
    }

    /** Starts heartbeating: from now on the others hear of this node and send it requests. */
    public void start() {
        // What depends on the members (who coordinates what) learns them now, not at the first change.
        fireChanged();
        timer = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("vortex-membership", true));
        timer.scheduleWithFixedDelay(this::tick, 0, timing.interval().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Members this node has persisted from an earlier run. */
    public static List<MemberInfo> loadKnown(Path dataDir) throws IOException {
        Path file = dataDir.resolve(MEMBERS_FILE);
        List<MemberInfo> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String[] f = line.trim().split(" ");
            if (f.length == 4 || (f.length == 5 && f[4].equals("LEFT"))) {
                MemberState s = f.length == 5 ? MemberState.LEFT : MemberState.SUSPECT;
                try {
                    out.add(new MemberInfo(f[0], f[1], Integer.parseInt(f[2]), s, Long.parseLong(f[3])));
                } catch (IllegalArgumentException e) {
                    LOG.warn("ignoring a damaged line of {}: {}", file, line);
                }
            }
        }
        return out;
    }

    public MemberInfo self() {
        return self;
    }

    public ClusterSettings settings() {
        return settings;
    }

    /** Runs {@code r} whenever the set of members or their liveness changes. */
    public synchronized void onChange(Runnable r) {
        List<Runnable> l = new ArrayList<>(listeners);
        l.add(r);
        listeners = List.copyOf(l);
    }

    // ---- requests from peers ----

    /** Tells a node the cluster's settings and members, or refuses it (INVALID) when it was started for another cluster. */
    public Response.ClusterView onJoin(Request.Join j) throws FsException {
        if (!j.clusterId().isEmpty() && !j.clusterId().equals(settings.clusterId())) {
            throw new FsException(ErrorCode.INVALID, "node " + j.self().nodeId() + " belongs to cluster " + j.clusterId()
                    + ", not " + settings.clusterId());
        }
        if (!j.topology().isEmpty() && !j.topology().equals(settings.topology().label())) {
            throw new FsException(ErrorCode.INVALID, "this cluster uses --topology " + settings.topology().label()
                    + "; the node was started with --topology " + j.topology());
        }
        if (j.replicas() != 0 && j.replicas() != settings.replicas()) {
            throw new FsException(ErrorCode.INVALID, "this cluster keeps --replicas " + settings.replicas()
                    + "; the node was started with --replicas " + j.replicas());
        }
        if (j.vnodes() != 0 && j.vnodes() != settings.vnodes()) {
            throw new FsException(ErrorCode.INVALID, "this cluster uses --vnodes " + settings.vnodes()
                    + "; the node was started with --vnodes " + j.vnodes());
        }
        if (j.self().nodeId().equals(self.nodeId())) {
            throw new FsException(ErrorCode.INVALID, "a node cannot join itself");
        }
        // Not taken into the table yet: the others learn of the node from its own heartbeats, which
        // start only once it answers requests. Named now, peers would send it requests it refuses.
        LOG.info("node {} at {} is joining", j.self().nodeId(), j.self().address());
        return view();
    }

    public void onGossip(Request.Gossip g) throws FsException {
        if (!g.clusterId().equals(settings.clusterId())) {
            throw new FsException(ErrorCode.INVALID, "gossip from cluster " + g.clusterId() + ", this is " + settings.clusterId());
        }
        merge(g.members());
    }

    private void merge(List<Heartbeat> news) {
        long now = nanoTime.getAsLong();
        boolean changed = false;
        synchronized (this) {
            for (Heartbeat h : news) {
                MemberInfo m = h.member();
                if (m.nodeId().equals(self.nodeId())) {
                    continue;
                }
                Peer p = table.get(m.nodeId());
                if (p == null) {
                    table.put(m.nodeId(), new Peer(m, h.beat(), now)); // presumed alive, as at start
                    changed = true;
                } else if (m.generation() > p.info.generation()
                        || (m.generation() == p.info.generation() && h.beat() > p.beat)) {
                    if (!p.info.address().equals(m.address()) || p.info.generation() != m.generation()
                            || p.info.state() != m.state()) {
                        changed = true;
                    }
                    p.info = m;
                    p.beat = h.beat();
                    p.heard(now);
                }
            }
            if (changed) {
                membersChanged();
            }
            changed |= livenessChanged(now);
        }
        if (changed) {
            fireChanged();
        }
    }

    /**
     * True when some member has become dead or alive since this was last asked. Merges and ticks
     * both ask, so a change is announced once, by whichever sees it first. Called under the monitor.
     */
    private boolean livenessChanged(long now) {
        Map<String, MemberState> states = states(now);
        boolean changed = lastStates != null && !lastStates.equals(states);
        lastStates = states;
        if (changed) {
            placeOnRing(now, false);
        }
        return changed;
    }

    // ---- what the rest of the node asks ----

    /** Every member (this node included) with its state as this node judges it, in node-id order. */
    public Response.ClusterView view() {
        List<MemberInfo> members = members();
        return new Response.ClusterView(settings.clusterId(), settings.topology().label(), settings.replicas(),
                settings.vnodes(), settings.writeQuorum(), settings.partitions(), settings.encrypted(), members);
    }

    public synchronized List<MemberInfo> members() {
        long now = nanoTime.getAsLong();
        List<MemberInfo> out = new ArrayList<>();
        out.add(self);
        for (Peer p : table.values()) {
            MemberInfo i = p.info;
            out.add(new MemberInfo(i.nodeId(), i.host(), i.port(), stateOf(p, now), i.generation()));
        }
        out.sort(Comparator.comparing(MemberInfo::nodeId));
        return out;
    }

    public boolean isAlive(String nodeId) {
        if (nodeId.equals(self.nodeId())) {
            return true;
        }
        synchronized (this) {
            Peer p = table.get(nodeId);
            return p != null && stateOf(p, nanoTime.getAsLong()).isUp();
        }
    }

    /**
     * True when this node has heard, within half the death timeout, from a majority of {@code
     * owners} (itself counting as heard). A coordinator cut off from the other owners stops serving
     * on this: they call it dead only after the whole timeout and only then take over, so there is
     * no moment at which both serve, and a cut-off coordinator never answers a read with a state the
     * others have moved past.
     */
    public boolean inTouchWithMajority(List<MemberInfo> owners) {
        long now = nanoTime.getAsLong();
        long lease = deadAfterNanos() / 2;
        int heard = 0;
        synchronized (this) {
            for (MemberInfo m : owners) {
                Peer p = table.get(m.nodeId());
                if (isSelf(m) || (p != null && now - p.heardNanos < lease)) {
                    heard++;
                }
            }
        }
        return heard >= owners.size() / 2 + 1;
    }

    /** The ids of the members that own keys: all but those OUT. Changes when the ring does. */
    public java.util.Set<String> placed() {
        return placed;
    }

    /**
     * The owners of a ring position, first owner first, over every member on the ring, alive or not:
     * a dead member keeps its keys until it is OUT.
     */
    public List<MemberInfo> owners(long point) {
        return ring.owners(point, settings.replicas());
    }

    public List<MemberInfo> partitionOwners(int partition) {
        return owners(Partitions.point(partition));
    }

    /** The first owner of a partition that this node believes alive: the partition's coordinator. */
    public MemberInfo coordinator(int partition) {
        for (MemberInfo m : partitionOwners(partition)) {
            if (isAlive(m.nodeId())) {
                return m;
            }
        }
        return null;
    }

    public boolean isSelf(MemberInfo m) {
        return m.nodeId().equals(self.nodeId());
    }

    // ---- heartbeats ----

    private void tick() {
        try {
            List<Heartbeat> table;
            List<MemberInfo> targets;
            boolean livenessChanged;
            synchronized (this) {
                long now = nanoTime.getAsLong();
                livenessChanged = livenessChanged(now);
                selfBeat++;
                table = new ArrayList<>();
                table.add(new Heartbeat(self, selfBeat));
                for (Peer p : this.table.values()) {
                    table.add(new Heartbeat(p.info, p.beat));
                }
                targets = gossipTargets(now);
            }
            if (livenessChanged) {
                fireChanged();
            }
            Request.Gossip g = new Request.Gossip(settings.clusterId(), table);
            for (MemberInfo t : targets) {
                peers.send(t, g, timing.interval().multipliedBy(3));
            }
        } catch (RuntimeException e) {
            LOG.warn("heartbeat failed: {}", e.toString());
        }
    }

    /** All other members in all-to-all; in a ring, the nearest live member on either side. */
    private List<MemberInfo> gossipTargets(long now) {
        List<Peer> all = new ArrayList<>(table.values());
        if (settings.topology() == Topology.ALL_TO_ALL) {
            List<MemberInfo> out = new ArrayList<>();
            for (Peer p : all) {
                out.add(p.info);
            }
            return out;
        }
        List<String> ids = new ArrayList<>();
        ids.add(self.nodeId());
        for (Peer p : all) {
            ids.add(p.info.nodeId());
        }
        ids.sort(null);
        int me = ids.indexOf(self.nodeId());
        int n = ids.size();
        List<MemberInfo> out = new ArrayList<>(2);
        for (int dir : new int[] {1, -1}) {
            Peer fallback = null;
            for (int step = 1; step < n; step++) {
                Peer p = table.get(ids.get(Math.floorMod(me + dir * step, n)));
                if (fallback == null) {
                    fallback = p;
                }
                if (stateOf(p, now).isUp()) {
                    fallback = p;
                    break;
                }
            }
            // With every other member dead, keep knocking on the nearest one's door.
            if (fallback != null && !out.contains(fallback.info)) {
                out.add(fallback.info);
            }
        }
        return out;
    }

    /** How many peers this node heartbeats on each tick. */
    public synchronized int heartbeatFanOut() {
        return gossipTargets(nanoTime.getAsLong()).size();
    }

    private MemberState stateOf(Peer p, long now) {
        long silent = now - p.heardNanos;
        // Leaving is the member's own word about itself, carried by its heartbeats, not a verdict.
        boolean leaving = p.info.state() == MemberState.DRAINING || p.info.state() == MemberState.LEFT;
        if (leaving) {
            return silent >= deadAfterNanos() || p.info.state() == MemberState.LEFT ? MemberState.LEFT
                    : MemberState.DRAINING;
        }
        if (silentTooLong(p, silent)) {
            return silent - deadAfterNanos() >= timing.repairAfter().toNanos() ? MemberState.OUT : MemberState.DEAD;
        }
        return silent >= timing.suspectAfter().toNanos() ? MemberState.SUSPECT : MemberState.ALIVE;
    }

    /**
     * Whether a silence makes a member DEAD: by the phi of its own heartbeat history once there is
     * enough of it, with the fixed {@code deadAfter} (less one interval) as the acceptable pause and a
     * third of an interval as the least deviation, so a member is never called dead sooner than by
     * the fixed timeout; before that, by the fixed timeout alone.
     */
    private boolean silentTooLong(Peer p, long silent) {
        long dead = deadAfterNanos();
        if (!p.arrivals.trained()) {
            return silent >= dead;
        }
        long interval = timing.interval().toNanos();
        return silent >= dead && p.arrivals.phi(silent, dead - interval, interval / 3) >= PHI_DEAD;
    }

    /**
     * In a ring, a counter reaches a far member only after travelling half the ring, one tick per
     * hop: silence is judged with that delay added, or a ring of many nodes would call itself dead.
     */
    private long deadAfterNanos() {
        long base = timing.deadAfter().toNanos();
        if (settings.topology() == Topology.RING) {
            base += timing.interval().toNanos() * ((table.size() + 2) / 2);
        }
        return base;
    }

    private Map<String, MemberState> states(long now) {
        Map<String, MemberState> out = new HashMap<>();
        for (Peer p : table.values()) {
            MemberState s = stateOf(p, now);
            out.put(p.info.nodeId(), s == MemberState.SUSPECT ? MemberState.ALIVE : s);
        }
        return out;
    }

    /** Persists the member list and rebuilds the ring; called under the monitor. */
    private void membersChanged() {
        List<MemberInfo> all = new ArrayList<>();
        all.add(self);
        for (Peer p : table.values()) {
            all.add(p.info);
        }
        placeOnRing(nanoTime.getAsLong(), true);
        StringBuilder b = new StringBuilder();
        for (MemberInfo m : all) {
            b.append(m.nodeId()).append(' ').append(m.host()).append(' ').append(m.port()).append(' ')
                    .append(m.generation());
            if (m != self && (m.state() == MemberState.DRAINING || m.state() == MemberState.LEFT)) {
                b.append(" LEFT"); // Remembered across a restart: it never owns keys again.
            }
            b.append('\n');
        }
        try {
            Path tmp = dataDir.resolve(MEMBERS_FILE + ".tmp");
            Files.writeString(tmp, b.toString(), StandardCharsets.UTF_8);
            Files.move(tmp, dataDir.resolve(MEMBERS_FILE), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            LOG.warn("cannot save the member list: {}", e.toString());
        }
    }

    /**
     * Builds the ring over every member that is not OUT, when that set changed or {@code always} (an
     * address or generation changed); called under the monitor.
     */
    private void placeOnRing(long now, boolean always) {
        List<MemberInfo> onRing = new ArrayList<>();
        for (Peer p : table.values()) {
            if (stateOf(p, now).ownsKeys()) {
                onRing.add(p.info);
            }
        }
        if (self.state().ownsKeys() || onRing.isEmpty()) {
            onRing.add(self); // A leaving node alone still holds what it holds.
        }
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (MemberInfo m : onRing) {
            ids.add(m.nodeId());
        }
        if (always || !ids.equals(placed)) {
            if (!ids.equals(placed)) {
                LOG.info("the hash ring now holds {} of {} members", ids.size(), table.size() + 1);
            }
            ring = new HashRing(onRing, settings.vnodes());
            placed = java.util.Set.copyOf(ids);
        }
    }

    private void fireChanged() {
        for (Runnable r : listeners) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.warn("membership listener failed: {}", e.toString());
            }
        }
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
