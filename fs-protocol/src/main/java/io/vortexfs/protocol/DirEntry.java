package io.vortexfs.protocol;

/** A name in a directory with the attributes of the inode it names. */
public record DirEntry(String name, Attr attr) {
    public DirEntry {
        Names.check(name);
        if (attr == null) {
            throw new IllegalArgumentException("attr == null");
        }
    }
}
