package io.vortexfs.protocol;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The id Linux draws at every boot ({@code /proc/sys/kernel/random/boot_id}). Two processes that read
 * the same one run on the same machine, under the same kernel. A path one names is then most likely
 * the same file for the other; containers share the boot id but not always their files, so a path
 * may be missing there, or be another file: whoever opens it checks what it read.
 */
public final class BootId {
    private static final Path SOURCE = Path.of("/proc/sys/kernel/random/boot_id");
    private static final String VALUE = read(SOURCE);

    private BootId() {
    }

    /** This machine's boot id, or "" where there is none to read. */
    public static String current() {
        return VALUE;
    }

    static String read(Path source) {
        try {
            String id = Files.readString(source, StandardCharsets.US_ASCII).trim();
            return id.matches("[0-9a-f-]{36}") ? id : "";
        } catch (IOException | SecurityException e) {
            return "";
        }
    }
}
