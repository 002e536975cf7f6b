package io.vortexfs.protocol.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.MemberState;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class HashRingTest {
    private static final int KEYS = 100_000;

    /** Members with ids like the real ones (random UUIDs), from a fixed seed. */
    private static List<MemberInfo> members(int n, long seed) {
        Random r = new Random(seed);
        List<MemberInfo> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new MemberInfo(new UUID(r.nextLong(), r.nextLong()).toString(), "10.0.0." + (i + 1), 7400,
                    MemberState.ALIVE, 1));
        }
        return out;
    }

    private static long chunkPoint(Random r) {
        byte[] data = new byte[16];
        r.nextBytes(data);
        return HashRing.pointOf(ChunkId.of(data));
    }

    static Stream<Arguments> keySets() {
        return Stream.of(
                Arguments.of("sequential inodes", (KeySource) seed -> {
                    long[] next = {1};
                    return () -> HashRing.pointOfInode(next[0]++);
                }),
                Arguments.of("random inodes", (KeySource) seed -> {
                    Random r = new Random(seed);
                    return () -> HashRing.pointOfInode(r.nextLong() & Long.MAX_VALUE);
                }),
                Arguments.of("chunk ids", (KeySource) seed -> {
                    Random r = new Random(seed);
                    return () -> chunkPoint(r);
                }));
    }

    /** A repeatable stream of ring points. */
    interface KeySource {
        LongSupplier open(long seed);
    }

    private static Map<String, Integer> shares(HashRing ring, LongSupplier keys) {
        Map<String, Integer> count = new HashMap<>();
        for (int i = 0; i < KEYS; i++) {
            count.merge(ring.owners(keys.getAsLong(), 1).get(0).nodeId(), 1, Integer::sum);
        }
        return count;
    }

    @Test
    void ownersDoNotDependOnMemberOrder() {
        List<MemberInfo> ms = members(7, 1);
        List<MemberInfo> shuffled = new ArrayList<>(ms);
        Collections.shuffle(shuffled, new Random(2));
        HashRing a = new HashRing(ms, HashRing.DEFAULT_VNODES);
        HashRing b = new HashRing(shuffled, HashRing.DEFAULT_VNODES);
        Random r = new Random(3);
        for (int i = 0; i < 10_000; i++) {
            long p = r.nextLong();
            assertEquals(a.owners(p, 3), b.owners(p, 3));
        }
    }

    @Test
    void replicasAreDistinctAndCappedByMemberCount() {
        Random r = new Random(4);
        for (int n = 0; n <= 5; n++) {
            HashRing ring = new HashRing(members(n, n), 16);
            assertEquals(n, ring.memberCount());
            for (int i = 0; i < 2_000; i++) {
                int want = r.nextInt(8);
                List<MemberInfo> owners = ring.owners(r.nextLong(), want);
                assertEquals(Math.min(want, n), owners.size());
                assertEquals(owners.size(), new HashSet<>(owners).size(), "owners repeat: " + owners);
            }
        }
    }

    @Test
    void firstOwnerIsTheFirstReplica() {
        HashRing ring = new HashRing(members(5, 9), HashRing.DEFAULT_VNODES);
        Random r = new Random(5);
        for (int i = 0; i < 1_000; i++) {
            long p = r.nextLong();
            assertEquals(ring.owners(p, 1).get(0), ring.owners(p, 3).get(0));
            assertEquals(ring.owners(p, 2), ring.owners(p, 3).subList(0, 2));
        }
    }

    @Test
    void pointsPastTheLastVirtualNodeWrapAround() {
        HashRing ring = new HashRing(members(3, 6), 4);
        assertEquals(ring.owners(0, 3), ring.owners(-1L, 3), "the ring wraps from 2^64-1 to 0");
    }

    @Test
    void rejectsNonPositiveVirtualNodeCount() {
        assertThrows(IllegalArgumentException.class, () -> new HashRing(members(2, 1), 0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("keySets")
    void tenMembersEachOwnTheirShareWithinFifteenPercent(String what, KeySource keys) {
        HashRing ring = new HashRing(members(10, 10), HashRing.DEFAULT_VNODES);
        Map<String, Integer> shares = shares(ring, keys.open(11));
        assertEquals(10, shares.size());
        double mean = KEYS / 10.0;
        for (Map.Entry<String, Integer> e : shares.entrySet()) {
            double off = Math.abs(e.getValue() - mean) / mean;
            assertTrue(off <= 0.15, e.getKey() + " owns " + e.getValue() + " keys, " + Math.round(off * 100)
                    + "% off the mean of " + mean + ": " + shares);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("keySets")
    void addingAnEleventhMemberMovesAboutOneEleventhOfTheKeysAllToIt(String what, KeySource keys) {
        List<MemberInfo> ten = members(11, 12);
        MemberInfo newcomer = ten.remove(10);
        List<MemberInfo> eleven = new ArrayList<>(ten);
        eleven.add(newcomer);
        HashRing before = new HashRing(ten, HashRing.DEFAULT_VNODES);
        HashRing after = new HashRing(eleven, HashRing.DEFAULT_VNODES);
        LongSupplier points = keys.open(13);
        int moved = 0;
        for (int i = 0; i < KEYS; i++) {
            long p = points.getAsLong();
            MemberInfo was = before.owners(p, 1).get(0);
            MemberInfo is = after.owners(p, 1).get(0);
            if (!was.equals(is)) {
                moved++;
                assertEquals(newcomer, is, "a key moved between two old members");
            }
        }
        double fraction = moved / (double) KEYS;
        assertTrue(fraction >= 0.06 && fraction <= 0.13, "moved " + fraction);
    }

    @Test
    void replicaSetsChangeOnlyByTheNewcomer() {
        List<MemberInfo> six = members(6, 14);
        MemberInfo newcomer = six.remove(5);
        HashRing before = new HashRing(six, HashRing.DEFAULT_VNODES);
        List<MemberInfo> all = new ArrayList<>(six);
        all.add(newcomer);
        HashRing after = new HashRing(all, HashRing.DEFAULT_VNODES);
        Random r = new Random(15);
        for (int i = 0; i < 10_000; i++) {
            long p = r.nextLong();
            List<MemberInfo> was = before.owners(p, 3);
            List<MemberInfo> is = new ArrayList<>(after.owners(p, 3));
            is.remove(newcomer);
            assertTrue(was.containsAll(is), was + " -> " + is);
        }
    }

    @Test
    void inodePointsOfNeighboursAreSpread() {
        // pointOfInode must not map sequential inode numbers to neighbouring points.
        long a = HashRing.pointOfInode(1);
        long b = HashRing.pointOfInode(2);
        assertTrue(Long.bitCount(a ^ b) > 16, Long.toHexString(a) + " vs " + Long.toHexString(b));
    }
}
