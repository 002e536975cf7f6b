package io.vortexfs.node.cluster;

import io.vortexfs.protocol.Topology;
import java.io.IOException;
import java.io.StringReader;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Properties;

/**
 * What every member of a cluster must agree on, fixed when the cluster is founded and kept in
 * {@code cluster.properties} under each node's data directory: a node restarted with other settings
 * is refused rather than quietly placing data differently from its peers.
 *
 * @param writeQuorum copies a write needs before it is acknowledged; 0 means every live owner and
 *                    never fewer than a majority of the owners
 * @param partitions  metadata partitions; fixed for the life of the cluster
 * @param encrypted   whether chunks and metadata are encrypted at rest, under keys derived from the
 *                    cluster key, and chunk ids keyed; fixed for the life of the cluster
 */
public record ClusterSettings(String clusterId, Topology topology, int replicas, int vnodes, int writeQuorum,
        int partitions, boolean encrypted) {
    /** The value of {@code encryption} in the settings file of a cluster that encrypts at rest. */
    private static final String AES_GCM = "aes-256-gcm";
    public static final int DEFAULT_REPLICAS = 3;
    /**
     * Metadata partitions of a new cluster: enough that a cluster of a few dozen members has several
     * per member to coordinate, few enough that taking them all over after a membership change is quick.
     */
    public static final int DEFAULT_PARTITIONS = 32;
    public static final int MAX_PARTITIONS = 4096;
    static final String FILE = "cluster.properties";

    public ClusterSettings {
        if (clusterId == null || clusterId.isEmpty() || topology == null) {
            throw new IllegalArgumentException("cluster id and topology are required");
        }
        if (replicas < 1 || vnodes < 1 || writeQuorum < 0 || partitions < 1 || partitions > MAX_PARTITIONS) {
            throw new IllegalArgumentException("bad cluster settings: replicas " + replicas + ", vnodes " + vnodes
                    + ", write quorum " + writeQuorum + ", partitions " + partitions);
        }
    }

    /** The stored settings, or null for a node that has never been part of a cluster. */
    public static ClusterSettings load(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE);
        if (!Files.exists(file)) {
            return null;
        }
        Properties p = new Properties();
        p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
        try {
            return new ClusterSettings(p.getProperty("clusterId"), Topology.parse(p.getProperty("topology")),
                    Integer.parseInt(p.getProperty("replicas")), Integer.parseInt(p.getProperty("vnodes")),
                    Integer.parseInt(p.getProperty("writeQuorum")), Integer.parseInt(p.getProperty("partitions")),
                    encryption(p.getProperty("encryption", "none")));
        } catch (RuntimeException e) {
            throw new IOException(file + " is damaged (" + e.getMessage() + "); restore it from another member's copy");
        }
    }

    private static boolean encryption(String name) {
        return switch (name) {
            case "none" -> false;
            case AES_GCM -> true;
            default -> throw new IllegalArgumentException("unknown encryption " + name);
        };
    }

    public void save(Path dataDir) throws IOException {
        String text = "# Fixed when the cluster was founded; every member must agree.\n"
                + "clusterId=" + clusterId + "\ntopology=" + topology.label() + "\nreplicas=" + replicas
                + "\nvnodes=" + vnodes + "\nwriteQuorum=" + writeQuorum + "\npartitions=" + partitions
                + "\nencryption=" + (encrypted ? AES_GCM : "none") + "\n";
        Path file = dataDir.resolve(FILE);
        Path tmp = dataDir.resolve(FILE + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
