package io.vortexfs.node.web;

import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.DirEntry;
import io.vortexfs.protocol.FsException;
import java.util.List;

/**
 * The cluster's files as the REST API serves them: what a client of the cluster sees, given to the
 * node's web server by whoever runs the node (the node itself holds only its share of the
 * namespace). Paths are absolute and already checked: no "." or ".." and no empty name. Every
 * call may block; the web server makes them off its event loop, one transfer per thread.
 */
public interface FileService {
    Attr stat(String path) throws FsException;

    List<DirEntry> list(String path) throws FsException;

    /** Opens an existing file for reading; the handle goes to {@link #close}. */
    long open(String path) throws FsException;

    /** Up to {@code length} bytes from {@code offset}; fewer only at the end of the file. */
    int read(long handle, long offset, byte[] dst, int length) throws FsException;

    /** Creates the file, or empties an existing one, for writing; the handle goes to {@link #close}. */
    long create(String path) throws FsException;

    void write(long handle, long offset, byte[] src, int length) throws FsException;

    /** Ends a read or a write; a written file is stored and visible to every client once this returns. */
    void close(long handle) throws FsException;

    /** Removes a file, or an empty directory. */
    void delete(String path) throws FsException;
}
