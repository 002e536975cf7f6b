package io.vortexfs.protocol;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The id Linux draws at every boot ({@code /proc/sys/kernel/random/boot_id}). Two processes that read
 * the same one run on the same machine, under the same kernel, so a file one names the other can
 * open (unless a mount namespace hides it, which its reader finds out by trying).
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
