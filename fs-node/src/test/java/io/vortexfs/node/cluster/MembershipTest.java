package io.vortexfs.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Heartbeat;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.MemberState;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Topology;
import io.vortexfs.protocol.placement.Partitions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Liveness and placement as one node judges them, on a clock the test moves: dead members keep
 * their keys until the repair grace, leaving members give theirs up at once and are never replaced.
 */
class MembershipTest {
    private static final long MS = 1_000_000;
    private static final Membership.Timing TIMING = new Membership.Timing(Duration.ofMillis(100), Duration.ofMillis(300),
            Duration.ofMillis(600), Duration.ofSeconds(2));

    @TempDir
    Path dir;

    private final AtomicLong now = new AtomicLong(1_000 * MS);
    private Peers peers;
    private Membership membership;
    private final MemberInfo a = member("a", 1);
    private final MemberInfo b = member("b", 2);
    private final MemberInfo c = member("c", 3);

    private static MemberInfo member(String id, int port) {
        return new MemberInfo(id, "127.0.0.1", port, MemberState.ALIVE, 1);
    }

    private static MemberInfo as(MemberInfo m, MemberState s) {
        return new MemberInfo(m.nodeId(), m.host(), m.port(), s, m.generation());
    }

    @BeforeEach
    void start() {
        peers = new Peers(Duration.ofSeconds(1), 16, null, false);
        membership = newMembership();
    }

    private Membership newMembership() {
        return new Membership(a, new ClusterSettings("cl", Topology.ALL_TO_ALL, 3, 64, 0, 8, false), TIMING, peers, dir, now::get);
    }

    @AfterEach
    void stop() {
        membership.close();
        peers.close();
    }

    private void heard(MemberInfo m, long beat) throws FsException {
        membership.onGossip(new Request.Gossip("cl", List.of(new Heartbeat(m, beat))));
    }

    private MemberState state(String id) {
        return membership.members().stream().filter(m -> m.nodeId().equals(id)).findFirst().orElseThrow().state();
    }

    private void advance(long ms) {
        now.addAndGet(ms * MS);
    }

    @Test
    void aDeadMemberKeepsItsKeysUntilTheGraceThenIsOutUntilItIsHeardAgain() throws Exception {
        heard(b, 1);
        heard(c, 1);
        assertEquals(Set.of("a", "b", "c"), membership.placed());
        for (int i = 2; i < 10; i++) {
            advance(100);
            heard(b, i); // c falls silent
        }
        assertEquals(MemberState.DEAD, state("c"));
        assertFalse(membership.isAlive("c"));
        assertEquals(Set.of("a", "b", "c"), membership.placed(), "a dead member still owns its keys");
        assertEquals(3, membership.partitionOwners(0).size());

        advance(2_000);
        heard(b, 20);
        assertEquals(MemberState.OUT, state("c"));
        assertEquals(Set.of("a", "b"), membership.placed(), "past the grace its keys have new owners");
        assertTrue(membership.owners(Partitions.point(3)).stream().noneMatch(m -> m.nodeId().equals("c")));

        heard(c, 2);
        assertEquals(MemberState.ALIVE, state("c"));
        assertEquals(Set.of("a", "b", "c"), membership.placed(), "heard again, it owns its keys again");
    }

    @Test
    void aLeavingMemberOwnsNothingAtOnceAndIsRememberedAsLeftNotDead() throws Exception {
        heard(b, 1);
        heard(c, 1);
        heard(as(c, MemberState.DRAINING), 2);
        assertEquals(MemberState.DRAINING, state("c"));
        assertTrue(membership.isAlive("c"), "it still answers while it hands over");
        assertEquals(Set.of("a", "b"), membership.placed());

        for (int i = 2; i < 40; i++) {
            advance(100);
            heard(b, i);
        }
        assertEquals(MemberState.LEFT, state("c"), "its silence after leaving is not a death to repair");
        assertEquals(Set.of("a", "b"), membership.placed());

        // A restarted node remembers that it left.
        List<MemberInfo> known = Membership.loadKnown(dir);
        assertEquals(MemberState.LEFT, known.stream().filter(m -> m.nodeId().equals("c")).findFirst().orElseThrow().state());
    }

    @Test
    void thisNodeLeavesOnlyWhenAnotherCanHoldTheDataAndStaysLeavingAfterARestart() throws Exception {
        FsException alone = assertThrows(FsException.class, membership::leave);
        assertEquals(ErrorCode.INVALID, alone.code());
        assertFalse(membership.leaving());

        heard(b, 1);
        membership.leave();
        assertTrue(membership.leaving());
        assertEquals(MemberState.DRAINING, membership.self().state());
        assertEquals(Set.of("b"), membership.placed());
        assertTrue(membership.owners(Partitions.point(0)).stream().noneMatch(membership::isSelf));

        membership.close();
        membership = newMembership();
        assertTrue(membership.leaving(), "the decision survives a restart");
        assertEquals(MemberState.DRAINING, membership.self().state());
    }

    @Test
    void aMemberWhoseHeartbeatsComeIrregularlyIsGivenLongerThanASteadyOne() throws Exception {
        // b beats steadily every 100 ms; c as a loaded machine would, with gaps up to 900 ms.
        heard(b, 1);
        heard(c, 1);
        long[] gaps = {100, 900, 50, 700, 100, 850, 60, 800, 100, 900, 70, 750};
        long bBeat = 1;
        long cBeat = 1;
        for (long gap : gaps) {
            for (long t = 0; t < gap; t += 100) {
                advance(Math.min(100, gap - t));
                heard(b, ++bBeat);
            }
            heard(c, ++cBeat);
        }
        // Both fall silent for the same 1.1 s: past deadAfter (600 ms) for both.
        advance(1_100);
        assertEquals(MemberState.DEAD, state("b"), "a steady member silent for 11 of its intervals is dead");
        assertEquals(MemberState.SUSPECT, state("c"), "the irregular one is only suspect");
        advance(3_000);
        assertFalse(membership.isAlive("c"), "a long enough silence is death for it too");
    }
}
