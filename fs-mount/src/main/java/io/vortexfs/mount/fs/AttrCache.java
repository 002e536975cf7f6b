package io.vortexfs.mount.fs;

import io.vortexfs.protocol.Attr;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Short-lived memory of attributes by inode and of names by (parent, name). Entries are trusted for
 * the attribute timeout; this mount's own changes replace or drop them at once, so it never sees its
 * own changes stale. Bounded: past {@code maxEntries} the whole cache starts over.
 */
final class AttrCache {
    private record Timed<T>(T value, long expiresAt) {
    }

    private record Name(long parent, String name) {
    }

    private final long ttlNanos;
    private final int maxEntries;
    private final Map<Long, Timed<Attr>> attrs = new ConcurrentHashMap<>();
    private final Map<Name, Timed<Long>> names = new ConcurrentHashMap<>();
    /** Names the cluster said do not exist, until when (nanoTime). */
    private final Map<Name, Long> absent = new ConcurrentHashMap<>();
    /** Directories listed lately: when (nanoTime) and how many entries. */
    private final Map<Long, long[]> listings = new ConcurrentHashMap<>();

    AttrCache(Duration ttl, int maxEntries) {
        this.ttlNanos = ttl.toNanos();
        this.maxEntries = maxEntries;
    }

    Attr attr(long ino) {
        Timed<Attr> t = attrs.get(ino);
        return t != null && t.expiresAt - System.nanoTime() > 0 ? t.value : null;
    }

    Long child(long parent, String name) {
        Timed<Long> t = names.get(new Name(parent, name));
        return t != null && t.expiresAt - System.nanoTime() > 0 ? t.value : null;
    }

    void put(Attr a) {
        if (ttlNanos == 0) {
            return;
        }
        if (attrs.size() >= maxEntries) {
            attrs.clear();
        }
        attrs.put(a.ino(), new Timed<>(a, System.nanoTime() + ttlNanos));
    }

    void putChild(long parent, String name, Attr child) {
        if (ttlNanos == 0) {
            return;
        }
        if (names.size() >= maxEntries) {
            names.clear();
        }
        Name n = new Name(parent, name);
        absent.remove(n);
        names.put(n, new Timed<>(child.ino(), System.nanoTime() + ttlNanos));
        put(child);
    }

    /** Remembers that {@code name} does not exist in {@code parent} (a create looks before it makes). */
    void putAbsent(long parent, String name) {
        if (ttlNanos == 0) {
            return;
        }
        if (absent.size() >= maxEntries) {
            absent.clear();
        }
        absent.put(new Name(parent, name), System.nanoTime() + ttlNanos);
    }

    boolean isAbsent(long parent, String name) {
        Long until = absent.get(new Name(parent, name));
        return until != null && until - System.nanoTime() > 0;
    }

    /** Records that a directory was just listed whole (its entries are in the cache). */
    void listed(long dir, int entries) {
        if (listings.size() >= 1024) {
            listings.clear();
        }
        listings.put(dir, new long[] {System.nanoTime(), entries});
    }

    /**
     * True when {@code name} was in a directory of at least {@code minEntries} listed within three
     * timeouts, and has only expired since: a program (ls -l, find) is walking the listing, and
     * listing again costs one request instead of one per remaining entry. A name never seen (a
     * create looking first) does not qualify, so filling a directory never re-lists it.
     */
    boolean expiredFromRecentListing(long dir, String name, int minEntries) {
        long[] l = listings.get(dir);
        return l != null && l[1] >= minEntries && System.nanoTime() - l[0] < 3 * ttlNanos
                && names.containsKey(new Name(dir, name));
    }

    void forget(long ino) {
        attrs.remove(ino);
    }

    void forgetChild(long parent, String name) {
        Name n = new Name(parent, name);
        names.remove(n);
        absent.remove(n);
    }
}
