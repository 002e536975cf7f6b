package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Programs people run on a filesystem, run on the mount: tar, rsync, git and sqlite3. Each leans on
 * a different part of POSIX — tar on modes, times and hard links, rsync on times and rename-into-place,
 * git on hard links, renames and lock files, sqlite on small overwrites, fsync and its journal.
 */
class RealProgramsTest extends MountedNodeTest {
    String m;

    @BeforeAll
    static void requireTools() {
        for (String tool : List.of("tar", "rsync", "git", "sqlite3", "diff", "find", "strace", "getfattr")) {
            assertEquals(0, Shell.run("command -v " + tool).exit(), tool + " is not installed (bin/test installs it)");
        }
    }

    @BeforeEach
    void quoteMountpoint() {
        m = "'" + mp + "'";
    }

    @Test
    void tarRoundTripKeepsBytesModesAndMtimes() {
        Path src = sourceTree();
        // Archive written onto the mount, extracted on the mount, archived again and extracted locally.
        Shell.run("tar -cpf " + m + "/src.tar -C '" + src.getParent() + "' src"
                + " && mkdir " + m + "/x && tar -xpf " + m + "/src.tar -C " + m + "/x"
                + " && mkdir back && tar -cpf - -C " + m + "/x src | tar -xpf - -C back", tmp).ok();

        Path onMount = mp.resolve("x/src");
        Path back = tmp.resolve("back/src");
        assertAll(
                () -> Shell.run("diff -r --no-dereference '" + src + "' '" + onMount + "'").ok(),
                () -> Shell.run("diff -r --no-dereference '" + src + "' '" + back + "'").ok(),
                () -> assertEquals(listing(src, true), listing(onMount, true), "names, types, modes, links and mtimes on the mount"),
                () -> assertEquals(listing(src, true), listing(back, true), "names, types, modes, links and mtimes after the round trip"));
    }

    /**
     * ls -l asks every file for its POSIX ACL and SELinux label unless the filesystem says it keeps
     * neither. The mount says so (EOPNOTSUPP), which coreutils remembers for the whole filesystem:
     * a listing asks once, where "no such attribute" costs two round trips per file. Copies that
     * keep permissions still work, since a plain mode needs no ACL.
     */
    @Test
    void lsLongAsksForAclsAndLabelsOnce() {
        Shell.run("mkdir " + m + "/many && cd " + m + "/many && seq -f f%g 300 | xargs touch").ok();
        Shell.run("strace -f -e trace=getxattr,lgetxattr -o xattrs.trace ls -l " + m + "/many > /dev/null", tmp).ok();
        String trace = Shell.run("cat xattrs.trace", tmp).ok().out();
        long asked = trace.lines().filter(l -> l.contains("getxattr(")).count();
        assertTrue(asked >= 1 && asked <= 2, "ls -l of 300 files asked " + asked + " times:\n" + trace);
        assertTrue(trace.contains("EOPNOTSUPP"), trace);

        Shell.Result acl = Shell.run("getfattr -n system.posix_acl_access " + m + "/many/f1");
        assertTrue(acl.exit() != 0 && acl.err().contains("Operation not supported"), acl.toString());
        Shell.run("printf x > plain && chmod 640 plain && cp -a plain " + m + "/copied", tmp).ok();
        assertEquals("640", Shell.run("stat -c %a " + m + "/copied").ok().out().trim());
    }

    @Test
    void rsyncSecondRunTransfersNothing() throws Exception {
        Path src = sourceTree();
        String from = "'" + src + "/'";
        String to = m + "/dst/";
        Shell.run("rsync -a " + from + " " + to).ok();
        Shell.run("diff -r --no-dereference '" + src + "' " + m + "/dst").ok();

        Shell.Result second = Shell.run("rsync -a -i --stats " + from + " " + to).ok();
        List<String> itemized = itemizedChanges(second.out());
        assertAll(
                () -> assertTrue(second.out().contains("Number of regular files transferred: 0"),
                        "the second rsync copied files again:\n" + second.out()),
                () -> assertEquals(List.of(), itemized, "the second rsync changed something:\n" + second.out()));

        // One changed file is the only one sent, and arrives whole.
        Files.writeString(src.resolve("changed.txt"), "a change\n");
        Shell.Result third = Shell.run("rsync -a -i --stats " + from + " " + to).ok();
        assertTrue(third.out().contains("Number of regular files transferred: 1"), third.out());
        Shell.run("diff -r --no-dereference '" + src + "' " + m + "/dst").ok();
        // rsync -a does not keep hard links (that is -H), so link counts are not compared.
        assertEquals(listing(src, false), listing(mp.resolve("dst"), false), "names, types, modes and mtimes after rsync -a");
    }

    @Test
    void gitInitAddCommitCloneStatus() {
        Path src = sourceTree();
        Map<String, String> env = Map.of("HOME", tmp.toString(), "GIT_CONFIG_NOSYSTEM", "1",
                "GIT_CONFIG_GLOBAL", "/dev/null");
        String git = "git -c user.name=Vortex -c user.email=it@vortexfs.invalid -c init.defaultBranch=main";
        String repo = m + "/repo";
        run(git + " init -q " + repo
                + " && cp -a '" + src + "/.' " + repo
                // git keeps no empty directories; without them the clones can be compared with diff -r.
                + " && find " + repo + " -mindepth 1 -type d -empty -not -path '*/.git/*' -not -name .git -delete"
                + " && cd " + repo + " && " + git + " add -A && " + git + " commit -q -m first"
                + " && echo more >> changed.txt && " + git + " mv run.sh renamed.sh && " + git + " rm -q -r empty-dir-file.txt"
                + " && " + git + " commit -q -a -m second", env);

        run(git + " clone -q " + repo + " " + m + "/clone && cd '" + tmp + "' && " + git + " clone -q " + repo + " local-clone", env);

        for (String dir : List.of(repo, m + "/clone", "'" + tmp.resolve("local-clone") + "'")) {
            assertAll(dir,
                    () -> assertEquals("", run("cd " + dir + " && git status --porcelain", env), "git status in " + dir),
                    () -> run("cd " + dir + " && git fsck --full --strict --no-progress", env),
                    () -> assertEquals("2", run("cd " + dir + " && git rev-list --count HEAD", env).trim(),
                            "commits in " + dir));
        }
        run("diff -r --no-dereference --exclude=.git " + repo + " " + m + "/clone && cd '" + tmp
                + "' && diff -r --no-dereference --exclude=.git " + repo + " local-clone", env);

        // gc packs loose objects, rewrites refs and removes files: the repository must stay whole.
        run("cd " + repo + " && " + git + " gc -q && git fsck --full --strict --no-progress && test -z \"$(git status --porcelain)\"",
                env);
    }

    @Test
    void sqliteTransactionsPersist() {
        sqliteInsertsSurviveReopen("DELETE");
    }

    @Test
    void sqliteWalModeTransactionsPersist() {
        sqliteInsertsSurviveReopen("WAL");
    }

    /**
     * 400 rows in four committed transactions, 50 rolled back, 40 in autocommit mode, an update and a
     * delete; then a fresh process counts them and checks the file, on the mount and as a local copy.
     */
    private void sqliteInsertsSurviveReopen(String journalMode) {
        StringBuilder sql = new StringBuilder("PRAGMA journal_mode=" + journalMode + ";\n"
                + "CREATE TABLE t(id INTEGER PRIMARY KEY, tx INTEGER, payload TEXT);\n"
                + "CREATE INDEX t_tx ON t(tx);\n");
        int row = 0;
        for (int tx = 1; tx <= 5; tx++) {
            sql.append("BEGIN;\n");
            for (int i = 0; i < (tx == 5 ? 50 : 100); i++) {
                sql.append("INSERT INTO t(tx, payload) VALUES (").append(tx).append(", '")
                        .append("row-").append(++row).append('-').append("x".repeat(row % 300)).append("');\n");
            }
            sql.append(tx == 5 ? "ROLLBACK;\n" : "COMMIT;\n");
        }
        for (int i = 0; i < 40; i++) {
            sql.append("INSERT INTO t(tx, payload) VALUES (6, 'auto-").append(i).append("');\n");
        }
        sql.append("UPDATE t SET payload = upper(payload) WHERE id % 7 = 0;\nDELETE FROM t WHERE tx = 2 AND id % 2 = 0;\n");
        Shell.run("cat > load.sql <<'EOF'\n" + sql + "EOF\n"
                + "sqlite3 -bail " + m + "/db.sqlite < load.sql > /dev/null && sqlite3 -bail local.sqlite < load.sql > /dev/null", tmp).ok();

        // A fresh process opens each database; the local one is the reference.
        String query = "SELECT count(*), sum(tx), count(DISTINCT tx), sum(length(payload)) FROM t; PRAGMA integrity_check;";
        String local = Shell.run("sqlite3 local.sqlite '" + query + "'", tmp).ok().out().trim();
        assertTrue(local.startsWith("390|1140|5|"), "the reference database: " + local);
        assertEquals(local, Shell.run("sqlite3 " + m + "/db.sqlite '" + query + "'").ok().out().trim(),
                "rows after reopening the database on the mount");
        Shell.run("cp " + m + "/db.sqlite copy.sqlite", tmp).ok();
        assertEquals(local, Shell.run("sqlite3 copy.sqlite '" + query + "'", tmp).ok().out().trim(),
                "rows in a local copy of the database");
    }

    // ---- helpers ----

    private static String run(String script, Map<String, String> env) {
        return Shell.run(script, null, env, 120).ok().out();
    }

    /**
     * A copy of a real source tree (this repository's fs-protocol/src) with what such trees also hold:
     * an executable, a private file, a symlink, a hard link, an empty directory, an old mtime.
     */
    private Path sourceTree() {
        Path root = tmp.resolve("local");
        Path src = root.resolve("src");
        Shell.run("mkdir -p '" + root + "' && cp -a '" + Vortex.HOME.resolve("fs-protocol/src") + "' '" + src + "'"
                + " && cd '" + src + "'"
                + " && printf '#!/bin/sh\\necho hi\\n' > run.sh && chmod 755 run.sh"
                + " && echo secret > private.txt && chmod 600 private.txt"
                + " && ln private.txt private-hardlink.txt"
                + " && ln -s run.sh link-to-run && ln -s missing dangling-link"
                + " && mkdir -p empty/dir && touch empty-dir-file.txt && echo v1 > changed.txt"
                + " && head -c 3000000 /dev/urandom > binary.bin"
                + " && echo old > old.txt && touch -d '2001-02-03 04:05:06' old.txt"
                + " && chmod 2755 empty && touch -d '2002-03-04 05:06:07' empty/dir empty").ok();
        return src;
    }

    /**
     * One line per entry: path, type, permission bits, symlink target, mtime in whole seconds (tar
     * keeps no more) and, with {@code links}, the link count of non-directories. Directory sizes and
     * link counts are left out: they legitimately differ between filesystems.
     */
    private static String listing(Path dir, boolean links) {
        String out = Shell.run("cd '" + dir + "' && find . -printf '%p\\t%y\\t%m\\t%n\\t%l\\t%T@\\n' | LC_ALL=C sort").ok().out();
        return out.lines().map(line -> {
            String[] f = line.split("\t", -1);
            String nlink = links && !f[1].equals("d") ? " nlink=" + f[3] : "";
            String target = f[4].isEmpty() ? "" : " -> " + f[4];
            return f[0] + " " + f[1] + " " + f[2] + nlink + target + " mtime=" + f[5].replaceAll("\\.\\d*$", "");
        }).collect(Collectors.joining("\n"));
    }

    /** The lines of rsync -i output that name a change, without the --stats block. */
    private static List<String> itemizedChanges(String out) {
        return out.lines().takeWhile(l -> !l.startsWith("Number of files:")).filter(l -> !l.isBlank()).toList();
    }
}
