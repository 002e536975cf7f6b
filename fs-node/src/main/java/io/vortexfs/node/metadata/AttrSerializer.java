package io.vortexfs.node.metadata;

import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.FileType;
import java.io.IOException;
import org.mapdb.DataInput2;
import org.mapdb.DataOutput2;
import org.mapdb.serializer.GroupSerializerObjectArray;

/**
 * The on-disk form of an {@link Attr}: a format byte, then the fields in declaration order. A new
 * field means a new format number, and old ones stay readable.
 * <ul>
 *   <li>1: the first format;</li>
 *   <li>2: adds {@code storedBytes} at the end (format 1 records read it as the file size);</li>
 *   <li>3: adds {@code xattrCount} at the end (older records read it as 0, and the store counts
 *       them once from its attribute map when it opens).</li>
 * </ul>
 */
final class AttrSerializer extends GroupSerializerObjectArray<Attr> {
    private static final int FORMAT = 3;

    @Override
    public void serialize(DataOutput2 out, Attr a) throws IOException {
        out.writeByte(FORMAT);
        out.writeLong(a.ino());
        out.writeInt(a.mode());
        out.writeInt(a.nlink());
        out.writeInt(a.uid());
        out.writeInt(a.gid());
        out.writeLong(a.size());
        out.writeLong(a.atimeNs());
        out.writeLong(a.mtimeNs());
        out.writeLong(a.ctimeNs());
        out.writeInt(a.chunkSize());
        out.writeLong(a.parent());
        out.writeBoolean(a.linkTarget() != null);
        if (a.linkTarget() != null) {
            out.writeUTF(a.linkTarget());
        }
        out.writeLong(a.version());
        out.writeLong(a.storedBytes());
        out.writeInt(a.xattrCount());
    }

    @Override
    public Attr deserialize(DataInput2 in, int available) throws IOException {
        int format = in.readByte();
        if (format < 1 || format > FORMAT) {
            throw new IOException("unknown inode record format " + format);
        }
        long ino = in.readLong();
        int mode = in.readInt();
        int nlink = in.readInt();
        int uid = in.readInt();
        int gid = in.readInt();
        long size = in.readLong();
        long atime = in.readLong();
        long mtime = in.readLong();
        long ctime = in.readLong();
        int chunkSize = in.readInt();
        long parent = in.readLong();
        String target = in.readBoolean() ? in.readUTF() : null;
        long version = in.readLong();
        long stored = format >= 2 ? in.readLong() : (FileType.isRegular(mode) ? size : 0);
        int xattrs = format >= 3 ? in.readInt() : 0;
        return new Attr(ino, mode, nlink, uid, gid, size, atime, mtime, ctime, chunkSize, parent, target, version, stored,
                xattrs);
    }
}
