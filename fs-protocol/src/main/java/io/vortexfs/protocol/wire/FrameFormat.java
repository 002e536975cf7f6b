package io.vortexfs.protocol.wire;

/**
 * The layout of a VortexFS frame. All integers are big-endian.
 *
 * <pre>
 *  offset  size  field
 *  0       4     magic          0x56545846 ("VTXF")
 *  4       1     version        {@link #VERSION}
 *  5       1     flags          reserved, 0
 *  6       2     kind           message type id (the Kryo registration id of the message record)
 *  8       8     request id     pairs a response with its request
 *  16      4     body length    bytes of the Kryo-encoded message that follow the header
 *  20      4     payload length raw bytes (a chunk's content) that follow the body
 *  24      ...   body, then payload
 * </pre>
 *
 * History: version 1 is the first format. Version 2 (2026-11-24) adds {@code summed} to
 * {@code PutChunk}: the writer's block sums may precede the chunk's bytes in its payload. Version 3
 * (2026-11-25) adds {@code AdoptChunk}, which a mount sends to the nodes whose chunk directories
 * it can write; a node of version 2 would take the unknown request for a corrupt frame and drop
 * the connection, so the versions refuse each other at the first frame instead.
 */
public final class FrameFormat {
    public static final int MAGIC = 0x56545846;
    public static final byte VERSION = 3;
    public static final int HEADER_BYTES = 24;

    public static final int DEFAULT_MAX_BODY = 4 << 20;
    /**
     * Large enough for the biggest chunk a mount may cut (64 MiB) preceded by the CRC-32C of each of
     * its 64 KiB blocks (4 KiB).
     */
    public static final int DEFAULT_MAX_PAYLOAD = (64 << 20) + (64 << 20) / (64 << 10) * Integer.BYTES;

    private FrameFormat() {
    }
}
