package io.vortexfs.node.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void nestsObjectsAndArraysWithCommasOnlyBetweenValues() {
        String json = new Json().begin()
                .field("a", 1)
                .beginArray("list")
                .begin().field("x", true).end()
                .begin().field("y", 2.5).beginObject("inner").field("z", (String) null).end().end()
                .endArray()
                .field("b", Double.NaN)
                .end().toString();
        assertEquals("{\"a\":1,\"list\":[{\"x\":true},{\"y\":2.5,\"inner\":{\"z\":null}}],\"b\":null}", json);
    }

    @Test
    void escapesWhatWouldEndAStringOrOpenATag() {
        String json = new Json().begin().field("name", "a\"b\\c\n\t\u0001<script>&").end().toString();
        assertEquals("{\"name\":\"a\\\"b\\\\c\\n\\t\\u0001\\u003cscript\\u003e\\u0026\"}", json);
    }
}
