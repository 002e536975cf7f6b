package io.vortexfs.bench;

import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.DirEntry;
import io.vortexfs.protocol.FileType;
import io.vortexfs.protocol.Message;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.wire.FrameFormat;
import io.vortexfs.protocol.wire.MessageCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The Kryo codec on the two shapes that dominate the wire: a small request (every FUSE call that
 * misses the mount's cache sends one) and a directory listing with attributes (`ls -l`).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CodecBench {
    private Message getAttr;
    private Message listing;
    private int listingKind;
    private byte[] getAttrBody;
    private byte[] listingBody;
    private int getAttrKind;

    @Setup
    public void setUp() {
        getAttr = new Request.GetAttr(123_456);
        List<DirEntry> entries = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            entries.add(new DirEntry("file-" + i + ".txt", new Attr(1000 + i, FileType.S_IFREG | 0644, 1, 1000, 1000,
                    4096L * i, 1L, 2L, 3L, 4 << 20, 1, null, 7, 4096L * i, 0)));
        }
        listing = new Response.DirListing(entries);
        getAttrKind = MessageCodec.kindOf(getAttr);
        listingKind = MessageCodec.kindOf(listing);
        getAttrBody = MessageCodec.encode(getAttr, FrameFormat.DEFAULT_MAX_BODY);
        listingBody = MessageCodec.encode(listing, FrameFormat.DEFAULT_MAX_BODY);
    }

    @Benchmark
    public byte[] encodeGetAttr() {
        return MessageCodec.encode(getAttr, FrameFormat.DEFAULT_MAX_BODY);
    }

    @Benchmark
    public Message decodeGetAttr() {
        return MessageCodec.decode(getAttrKind, getAttrBody);
    }

    @Benchmark
    public byte[] encodeListingOf100() {
        return MessageCodec.encode(listing, FrameFormat.DEFAULT_MAX_BODY);
    }

    @Benchmark
    public Message decodeListingOf100() {
        return MessageCodec.decode(listingKind, listingBody);
    }
}
