package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The generated completion script loads in bash and knows every command. */
class CompletionTest {
    @Test
    void completionScriptLoadsInBashAndCompletesCommands() {
        String script = Shell.exec(Vortex.java("128m", "completion"), null, Map.of(), 60).ok().out();
        for (String command : List.of("up", "node", "mount", "umount", "status", "fsck", "ls", "put", "get", "rm")) {
            assertTrue(script.contains(command), "the script does not mention " + command);
        }
        Shell.Result r = Shell.run("source /dev/stdin <<'EOF'\n" + script + "\nEOF\n"
                + "COMP_WORDS=(vortex fs); COMP_CWORD=1; COMP_LINE='vortex fs'; COMP_POINT=9; _complete_vortex;"
                + " printf '%s\\n' \"${COMPREPLY[@]}\"");
        assertEquals(0, r.exit(), r.err());
        assertEquals("fsck", r.out().trim());
    }
}
