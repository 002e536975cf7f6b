package io.vortexfs.protocol;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class NamesTest {

    @ParameterizedTest
    @ValueSource(strings = {"a", "...", ".hidden", "..x", "with space", "naïve", "日本語", "a\\b", "-"})
    void acceptsOrdinaryNames(String name) throws FsException {
        Names.check(name);
        Names.validate(name);
    }

    @Test
    void limitIsTwoHundredFiftyFiveUtf8Bytes() throws FsException {
        String ascii = "a".repeat(255);
        Names.validate(ascii);
        String euro = "€".repeat(85); // 3 bytes each: 255
        assertEquals(255, euro.getBytes(StandardCharsets.UTF_8).length);
        Names.validate(euro);

        assertEquals(ErrorCode.NAME_TOO_LONG, assertThrows(FsException.class, () -> Names.validate(ascii + "a")).code());
        assertEquals(ErrorCode.NAME_TOO_LONG, assertThrows(FsException.class, () -> Names.validate(euro + "a")).code());
        // 128 characters, but 256 bytes.
        String accented = "é".repeat(128);
        assertEquals(ErrorCode.NAME_TOO_LONG, assertThrows(FsException.class, () -> Names.validate(accented)).code());
        assertThrows(IllegalArgumentException.class, () -> Names.check(accented));
        // Four-byte characters: 63 fit, 64 do not.
        assertDoesNotThrow(() -> Names.validate("😀".repeat(63)));
        assertEquals(ErrorCode.NAME_TOO_LONG, assertThrows(FsException.class, () -> Names.validate("😀".repeat(64))).code());
    }

    @ParameterizedTest
    @ValueSource(strings = {"a/b", "/", "a\0b", "\0", ".", ".."})
    void rejectsSlashNulDotAndDotDot(String name) {
        assertThrows(IllegalArgumentException.class, () -> Names.check(name));
        assertEquals(ErrorCode.INVALID, assertThrows(FsException.class, () -> Names.validate(name)).code());
    }

    @ParameterizedTest
    @NullAndEmptySource
    void rejectsNullAndEmpty(String name) {
        assertThrows(IllegalArgumentException.class, () -> Names.check(name));
        assertEquals(ErrorCode.INVALID, assertThrows(FsException.class, () -> Names.validate(name)).code());
    }
}
