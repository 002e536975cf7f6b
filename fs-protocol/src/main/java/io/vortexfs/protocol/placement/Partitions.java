package io.vortexfs.protocol.placement;

/**
 * Metadata is kept in partitions, each a unit of replication with its own coordinator and change
 * sequence. An inode belongs to partition {@code ino mod count}; a partition sits on the hash ring
 * at a point derived from its number, so its owners are found like any other key's.
 */
public final class Partitions {
    private Partitions() {
    }

    public static int of(long ino, int count) {
        if (count <= 0) {
            throw new IllegalArgumentException("partition count must be positive: " + count);
        }
        return (int) Long.remainderUnsigned(ino, count);
    }

    /** The ring position of a partition. */
    public static long point(int partition) {
        return HashRing.pointOfInode(0x5EED_0000_0000_0000L | partition);
    }
}
