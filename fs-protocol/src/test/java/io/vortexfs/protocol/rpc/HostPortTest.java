package io.vortexfs.protocol.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class HostPortTest {

    @Test
    void parsesHostAndPort() {
        assertEquals(new HostPort("node1.example", 7400), HostPort.parse("node1.example:7400"));
        assertEquals(new HostPort("10.0.0.1", 1), HostPort.parse(" 10.0.0.1:1 "));
        assertEquals(new HostPort("h", 65535), HostPort.parse("h:65535"));
    }

    @Test
    void parsesIpv6InBrackets() {
        assertEquals(new HostPort("::1", 7400), HostPort.parse("[::1]:7400"));
        assertEquals(new HostPort("fe80::1:2", 80), HostPort.parse("[fe80::1:2]:80"));
    }

    @Test
    void printsIpv6InBracketsSoItParsesBack() {
        HostPort v6 = new HostPort("fe80::1", 7400);
        assertEquals("[fe80::1]:7400", v6.toString());
        assertEquals(v6, HostPort.parse(v6.toString()));
        assertEquals("h:1", new HostPort("h", 1).toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"host:0", "host:65536", "host:-1", "host:99999999999", "host:http", "host:7 400", "host:0x10"})
    void rejectsBadPort(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostPort.parse(text));
        assertTrue(e.getMessage().contains("port"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"host", "host:", ":7400", "", "   ", "[::1]", "[::1]:", "fe80::1", "::1:7400", "[::1:7400",
            "::1]:7400", "[]:7400"})
    void rejectsAddressWithoutHostOrPort(String text) {
        assertThrows(IllegalArgumentException.class, () -> HostPort.parse(text));
    }

    @ParameterizedTest
    @NullSource
    void rejectsNull(String text) {
        assertThrows(IllegalArgumentException.class, () -> HostPort.parse(text));
    }

    @Test
    void parsesCommaSeparatedLists() {
        assertEquals(List.of(new HostPort("a", 1), new HostPort("::1", 2), new HostPort("c", 3)),
                HostPort.parseList("a:1, [::1]:2,,c:3"));
        assertThrows(IllegalArgumentException.class, () -> HostPort.parseList(" , "));
        assertThrows(IllegalArgumentException.class, () -> HostPort.parseList("a:1,b"));
    }
}
