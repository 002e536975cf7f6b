package io.vortexfs.node.web;

/** Just enough JSON writing for the status API: objects, arrays, strings, numbers, booleans, null. */
final class Json {
    private final StringBuilder out = new StringBuilder();
    /** Whether the next value in the current object or array needs a comma before it. */
    private boolean comma;

    Json begin() {
        separate();
        out.append('{');
        comma = false;
        return this;
    }

    Json end() {
        out.append('}');
        comma = true;
        return this;
    }

    Json beginArray(String name) {
        key(name);
        out.append('[');
        comma = false;
        return this;
    }

    Json endArray() {
        out.append(']');
        comma = true;
        return this;
    }

    Json beginObject(String name) {
        key(name);
        out.append('{');
        comma = false;
        return this;
    }

    Json field(String name, String value) {
        key(name);
        if (value == null) {
            out.append("null");
        } else {
            string(value);
        }
        comma = true;
        return this;
    }

    Json field(String name, long value) {
        key(name);
        out.append(value);
        comma = true;
        return this;
    }

    Json field(String name, double value) {
        key(name);
        out.append(Double.isFinite(value) ? Double.toString(value) : "null");
        comma = true;
        return this;
    }

    Json field(String name, boolean value) {
        key(name);
        out.append(value);
        comma = true;
        return this;
    }

    private void key(String name) {
        separate();
        string(name);
        out.append(':');
        comma = false;
    }

    private void separate() {
        if (comma) {
            out.append(',');
        }
    }

    private void string(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == '<' || c == '>' || c == '&') {
                        // Also < > &: the text may end up inside HTML.
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
