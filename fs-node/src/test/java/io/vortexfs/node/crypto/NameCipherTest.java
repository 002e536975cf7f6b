package io.vortexfs.node.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vortexfs.protocol.rpc.ClusterKey;
import java.util.Base64;
import javax.crypto.AEADBadTagException;
import org.junit.jupiter.api.Test;

class NameCipherTest {
    private static final ClusterKey KEY = ClusterKey.generate();
    private final NameCipher names = NameCipher.of(KEY, "tests");

    @Test
    void namesRoundTripAndSealTheSameEveryTime() throws Exception {
        for (String name : new String[] {"", "a", "report.txt", "ünïcødé ☃", "x".repeat(255)}) {
            String sealed = names.seal(name);
            assertEquals(sealed, names.seal(name), "deterministic: a lookup finds the sealed name");
            assertEquals(name, names.open(sealed));
            assertTrue(sealed.matches("[A-Za-z0-9_-]+"), sealed);
            if (name.length() > 3) {
                assertFalse(sealed.contains(name), "the name does not show");
            }
        }
        assertNotEquals(names.seal("a"), names.seal("b"));
        assertNotEquals(names.seal("a"), NameCipher.of(KEY, "other").seal("a"));
    }

    @Test
    void aChangedOrForeignSealedNameIsRefused() {
        String sealed = names.seal("secret-plans.odt");
        byte[] bytes = Base64.getUrlDecoder().decode(sealed);
        for (int bit = 0; bit < bytes.length * 8; bit++) {
            byte[] bad = bytes.clone();
            bad[bit / 8] ^= (byte) (1 << (bit % 8));
            String s = Base64.getUrlEncoder().withoutPadding().encodeToString(bad);
            assertThrows(AEADBadTagException.class, () -> names.open(s), "bit " + bit);
        }
        assertThrows(AEADBadTagException.class, () -> NameCipher.of(ClusterKey.generate(), "tests").open(sealed));
        assertThrows(AEADBadTagException.class, () -> names.open("not base64!"));
        assertThrows(AEADBadTagException.class, () -> names.open("c2hvcnQ"));
    }
}
