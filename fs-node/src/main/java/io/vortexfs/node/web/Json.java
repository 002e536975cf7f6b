package io.vortexfs.node.web;

/** Just enough JSON writing for the status API: objects, arrays, strings, numbers, booleans, null. */
final class Json {
    private final StringBuilder out = new StringBuilder();
    /** Whether the next value in the current object or array needs a comma before it. */
    private boolean comma;

    Json begin() {
        separate();
        return open('{');
    }

    Json end() {
        return close('}');
    }

    Json beginArray(String name) {
        key(name);
        return open('[');
    }

    Json endArray() {
        return close(']');
    }

    Json beginObject(String name) {
        key(name);
        return open('{');
    }

    private Json open(char bracket) {
        out.append(bracket);
        comma = false;
        return this;
    }

    private Json close(char bracket) {
        out.append(bracket);
        comma = true;
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
        return literal(name, Long.toString(value));
    }

    Json field(String name, double value) {
        return literal(name, Double.isFinite(value) ? Double.toString(value) : "null");
    }

    Json field(String name, boolean value) {
        return literal(name, Boolean.toString(value));
    }

    private Json literal(String name, String text) {
        key(name);
        out.append(text);
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
