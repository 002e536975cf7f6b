package io.vortexfs.protocol;

/**
 * A file that {@code vortex fsck} found with fewer good copies of some of its chunks than the
 * cluster keeps.
 *
 * @param ino    the file
 * @param chunks how many of its distinct chunks are short of copies
 * @param fewest the fewest good copies any of them has (0: that part of the file is lost, or on a
 *               node that is down)
 * @param wanted the copies each chunk should have
 */
public record ThinFile(long ino, int chunks, int fewest, int wanted) {
    public ThinFile {
        if (chunks < 1 || fewest < 0 || fewest >= wanted) {
            throw new IllegalArgumentException("not a file short of copies: " + chunks + " chunks, " + fewest + " of "
                    + wanted);
        }
    }
}
