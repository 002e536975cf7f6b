package io.vortexfs.node.metadata;

import io.vortexfs.node.crypto.Sealer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import javax.crypto.AEADBadTagException;
import org.mapdb.DataInput2;
import org.mapdb.DataOutput2;
import org.mapdb.serializer.GroupSerializer;

/**
 * Keeps the values of one MapDB map sealed on disk: each value of a hash map, each node's group of
 * values of a tree map (one seal per group, not per value), as a length and the sealed bytes of what
 * {@code plain} would have written. The map's name is the associated data, so sealed bytes copied
 * into another map fail to open. In memory everything is {@code plain}'s.
 */
final class SealedSerializer<T> implements GroupSerializer<T> {
    private final GroupSerializer<T> plain;
    private final Sealer sealer;
    private final byte[] aad;
    private final String map;

    SealedSerializer(String map, GroupSerializer<T> plain, Sealer sealer) {
        this.plain = plain;
        this.sealer = sealer;
        this.map = map;
        this.aad = ("metadata map " + map).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void serialize(DataOutput2 out, T value) throws IOException {
        DataOutput2 buf = new DataOutput2();
        plain.serialize(buf, value);
        write(out, buf);
    }

    @Override
    public T deserialize(DataInput2 in, int available) throws IOException {
        byte[] p = read(in);
        return plain.deserialize(new DataInput2.ByteArray(p), p.length);
    }

    @Override
    public void valueArraySerialize(DataOutput2 out, Object vals) throws IOException {
        DataOutput2 buf = new DataOutput2();
        plain.valueArraySerialize(buf, vals);
        write(out, buf);
    }

    @Override
    public Object valueArrayDeserialize(DataInput2 in, int size) throws IOException {
        return plain.valueArrayDeserialize(new DataInput2.ByteArray(read(in)), size);
    }

    private void write(DataOutput2 out, DataOutput2 buf) throws IOException {
        byte[] sealed = sealer.seal(buf.copyBytes(), aad);
        out.packInt(sealed.length);
        out.write(sealed);
    }

    private byte[] read(DataInput2 in) throws IOException {
        int length = in.unpackInt();
        if (length < Sealer.OVERHEAD) {
            throw new IOException("a sealed value of metadata map " + map + " is damaged (" + length + " bytes)");
        }
        byte[] sealed = new byte[length];
        in.readFully(sealed);
        try {
            return sealer.open(sealed, aad);
        } catch (AEADBadTagException e) {
            throw new IOException("a sealed value of metadata map " + map + " fails its authentication: it was "
                    + "changed on disk, or sealed under another key", e);
        }
    }

    // ---- in memory, values are plain's ----

    @Override
    public boolean isTrusted() {
        return plain.isTrusted();
    }

    @Override
    public boolean equals(T a, T b) {
        return plain.equals(a, b);
    }

    @Override
    public int hashCode(T o, int seed) {
        return plain.hashCode(o, seed);
    }

    @Override
    public int compare(T a, T b) {
        return plain.compare(a, b);
    }

    @Override
    public int valueArraySearch(Object keys, T key) {
        return plain.valueArraySearch(keys, key);
    }

    @Override
    public int valueArraySearch(Object keys, T key, Comparator comparator) {
        return plain.valueArraySearch(keys, key, comparator);
    }

    @Override
    public T valueArrayGet(Object vals, int pos) {
        return plain.valueArrayGet(vals, pos);
    }

    @Override
    public int valueArraySize(Object vals) {
        return plain.valueArraySize(vals);
    }

    @Override
    public Object valueArrayEmpty() {
        return plain.valueArrayEmpty();
    }

    @Override
    public Object valueArrayPut(Object vals, int pos, T newValue) {
        return plain.valueArrayPut(vals, pos, newValue);
    }

    @Override
    public Object valueArrayUpdateVal(Object vals, int pos, T newValue) {
        return plain.valueArrayUpdateVal(vals, pos, newValue);
    }

    @Override
    public Object valueArrayFromArray(Object[] objects) {
        return plain.valueArrayFromArray(objects);
    }

    @Override
    public Object valueArrayCopyOfRange(Object vals, int from, int to) {
        return plain.valueArrayCopyOfRange(vals, from, to);
    }

    @Override
    public Object valueArrayDeleteValue(Object vals, int pos) {
        return plain.valueArrayDeleteValue(vals, pos);
    }

    @Override
    public Object[] valueArrayToArray(Object vals) {
        return plain.valueArrayToArray(vals);
    }
}
