package io.vortexfs.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/**
 * Who a node is, kept under its data directory so it survives restarts: a stable node id and a
 * generation that grows by one on every start. The cluster it belongs to is in
 * {@link io.vortexfs.node.cluster.ClusterSettings}.
 */
public record NodeIdentity(String nodeId, long generation) {

    public static NodeIdentity loadOrCreate(Path dataDir) throws IOException {
        Files.createDirectories(dataDir);
        String nodeId = readOrCreate(dataDir.resolve("node.id"), () -> UUID.randomUUID().toString());
        Path genFile = dataDir.resolve("generation");
        long generation = Files.exists(genFile)
                ? Long.parseLong(Files.readString(genFile, StandardCharsets.UTF_8).trim()) + 1
                : 1;
        writeAtomically(genFile, Long.toString(generation));
        return new NodeIdentity(nodeId, generation);
    }

    private interface Maker {
        String make();
    }

    /** The cluster id a node kept before cluster settings existed, or null. */
    public static String legacyClusterId(Path dataDir) throws IOException {
        Path file = dataDir.resolve("cluster.id");
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8).trim() : null;
    }

    private static String readOrCreate(Path file, Maker maker) throws IOException {
        if (Files.exists(file)) {
            String v = Files.readString(file, StandardCharsets.UTF_8).trim();
            if (!v.isEmpty()) {
                return v;
            }
        }
        String v = maker.make();
        writeAtomically(file, v);
        return v;
    }

    private static void writeAtomically(Path file, String value) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, value + "\n", StandardCharsets.UTF_8);
        try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
