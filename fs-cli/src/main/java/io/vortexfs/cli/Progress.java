package io.vortexfs.cli;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongFunction;

/**
 * A one-line progress bar on stderr, redrawn in place at most ten times a second; silent unless
 * asked for or on a terminal. Amounts are shown by {@code unit} (bytes, chunks, ...).
 */
final class Progress {
    private final PrintStream out;
    private final long total;
    private final LongFunction<String> unit;
    private long lastDraw;

    private Progress(PrintStream out, long total, LongFunction<String> unit) {
        this.out = out;
        this.total = total;
        this.unit = unit;
    }

    /** @param wanted true or false as the user asked, null for "only on a terminal"; total -1 when unknown */
    static Progress of(Boolean wanted, long total, LongFunction<String> unit, PrintStream out) {
        boolean on = wanted != null ? wanted : System.console() != null;
        return new Progress(on ? out : null, total, unit);
    }

    boolean shown() {
        return out != null;
    }

    void update(long done) {
        if (out == null || System.nanoTime() - lastDraw < 100_000_000L) {
            return;
        }
        lastDraw = System.nanoTime();
        draw(done);
    }

    void done(long done) {
        if (out != null) {
            draw(done);
            out.println();
        }
    }

    private void draw(long done) {
        if (total > 0) {
            int width = 30;
            long shownDone = Math.min(done, total);
            int filled = (int) (width * shownDone / total);
            out.printf(Locale.ROOT, "\r[%s%s] %3d%% %s / %s", "#".repeat(filled), " ".repeat(width - filled),
                    100 * shownDone / total, unit.apply(shownDone), unit.apply(total));
        } else {
            out.printf(Locale.ROOT, "\r%s", unit.apply(done));
        }
        out.flush();
    }
}
