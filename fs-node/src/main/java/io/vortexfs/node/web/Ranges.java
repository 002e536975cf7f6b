package io.vortexfs.node.web;

/** The one form of HTTP {@code Range} the file API honours: a single range of bytes (RFC 9110, 14.1.2). */
final class Ranges {
    private static final long[] UNSATISFIABLE = new long[0];

    private Ranges() {
    }

    /**
     * {first, last} (inclusive) of the range {@code header} asks for in a body of {@code size} bytes;
     * an empty array when it lies wholly past the end; null when the header is not one range of
     * bytes, which a server may ignore by sending the whole body.
     */
    static long[] parse(String header, long size) {
        String h = header.trim();
        if (!h.startsWith("bytes=") || h.indexOf(',') >= 0) {
            return null;
        }
        String spec = h.substring("bytes=".length()).trim();
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        try {
            String a = spec.substring(0, dash).trim();
            String b = spec.substring(dash + 1).trim();
            if (a.isEmpty()) { // the last N bytes
                long n = Long.parseLong(b);
                if (n <= 0) {
                    return n == 0 ? UNSATISFIABLE : null;
                }
                return size == 0 ? UNSATISFIABLE : new long[] {Math.max(0, size - n), size - 1};
            }
            long first = Long.parseLong(a);
            long last = b.isEmpty() ? Long.MAX_VALUE : Long.parseLong(b);
            if (first < 0 || last < first) {
                return null;
            }
            if (first >= size) {
                return UNSATISFIABLE;
            }
            return new long[] {first, Math.min(last, size - 1)};
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
