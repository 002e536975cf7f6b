package io.vortexfs.cli;

import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.DirEntry;
import io.vortexfs.protocol.FileType;
import io.vortexfs.protocol.FsException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** File commands that work on a cluster without mounting it. */
final class FileCommands {
    private static final int BLOCK = 1 << 20;

    private FileCommands() {
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List a directory of the cluster (or show one file).")
    static final class Ls implements Runnable {
        @Parameters(index = "0", arity = "0..1", paramLabel = "PATH", description = "Path in the cluster (default /).")
        String path = "/";

        @Mixin
        ClusterFiles files;

        @Override
        public void run() {
            String p = ClusterFiles.remote(path);
            try (ClusterFiles.Session s = files.open("ls")) {
                Attr a = s.fs().getattr(p);
                List<DirEntry> entries = a.isDirectory()
                        ? s.fs().readdir(p)
                        : List.of(new DirEntry(p.substring(p.lastIndexOf('/') + 1), a));
                entries.stream().sorted(Comparator.comparing(DirEntry::name)).forEach(e -> System.out.println(line(e)));
            } catch (FsException e) {
                throw ClusterFiles.failure("list", p, e);
            }
        }

        private static String line(DirEntry e) {
            Attr a = e.attr();
            String when = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm", Locale.ROOT)
                    .format(Instant.ofEpochSecond(a.mtimeNs() / 1_000_000_000L).atZone(ZoneId.systemDefault()));
            String name = a.isSymlink() ? e.name() + " -> " + a.linkTarget() : e.name();
            return String.format(Locale.ROOT, "%s %3d %5d %5d %10s %s %s", modeString(a.mode()), a.nlink(), a.uid(),
                    a.gid(), a.isDirectory() ? "-" : Units.humanBytes(a.size()), when, name);
        }

        static String modeString(int mode) {
            char type = FileType.isDirectory(mode) ? 'd' : FileType.isSymlink(mode) ? 'l'
                    : (mode & FileType.S_IFMT) == FileType.S_IFIFO ? 'p' : '-';
            StringBuilder b = new StringBuilder().append(type);
            String rwx = "rwxrwxrwx";
            for (int i = 0; i < 9; i++) {
                b.append((mode & (1 << (8 - i))) != 0 ? rwx.charAt(i) : '-');
            }
            return b.toString();
        }
    }

    @Command(name = "put", mixinStandardHelpOptions = true, description = "Copy a local file into the cluster.")
    static final class Put implements Runnable {
        @Parameters(index = "0", paramLabel = "LOCAL", description = "Local file, or - for standard input.")
        String local;

        @Parameters(index = "1", paramLabel = "REMOTE", description = "Path in the cluster; an existing directory receives the file.")
        String remotePath;

        @Mixin
        Transfer transfer;

        @Override
        public void run() {
            String p = ClusterFiles.remote(remotePath);
            Path src = Path.of(local);
            boolean stdin = local.equals("-");
            if (!stdin && !Files.isRegularFile(src)) {
                throw new UserError("cannot read " + local + ": not a regular file");
            }
            try (ClusterFiles.Session s = transfer.open("put");
                    InputStream in = stdin ? System.in : Files.newInputStream(src)) {
                boolean intoDirectory = p.endsWith("/");
                try {
                    if (s.fs().getattr(p).isDirectory()) {
                        if (stdin) {
                            throw new UserError("cannot write " + p + ": is a directory (name the file)");
                        }
                        p = (intoDirectory ? p : p + "/") + src.getFileName();
                    } else if (intoDirectory) {
                        throw new UserError("cannot write into " + p + ": not a directory");
                    }
                } catch (FsException e) {
                    if (intoDirectory) {
                        throw ClusterFiles.failure("write into", p, e);
                    }
                    // No such name yet: it becomes the file.
                }
                long total = stdin ? -1 : Files.size(src);
                Progress bar = transfer.progress(total);
                long fh;
                try {
                    fh = s.fs().create(p, 0644, ClusterFiles.uid(), ClusterFiles.gid(), false);
                    s.fs().ftruncate(fh, 0);
                } catch (FsException e) {
                    throw ClusterFiles.failure("create", p, e);
                }
                byte[] buf = new byte[BLOCK];
                long at = 0;
                try {
                    for (int n; (n = in.readNBytes(buf, 0, buf.length)) > 0; ) {
                        s.fs().write(fh, at, buf, n);
                        at += n;
                        bar.update(at);
                    }
                    s.fs().flush(fh);
                } finally {
                    s.fs().release(fh);
                }
                bar.done(at);
            } catch (FsException e) {
                throw ClusterFiles.failure("write", p, e);
            } catch (IOException e) {
                throw new UserError("cannot read " + local + ": " + e.getMessage());
            }
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Copy a file from the cluster to a local file.")
    static final class Get implements Runnable {
        @Parameters(index = "0", paramLabel = "REMOTE", description = "Path in the cluster.")
        String remotePath;

        @Parameters(index = "1", paramLabel = "LOCAL", description = "Local file or directory, or - for standard output.")
        String local;

        @Mixin
        Transfer transfer;

        @Override
        public void run() {
            String p = ClusterFiles.remote(remotePath);
            boolean stdout = local.equals("-");
            Path dst = stdout ? null : Files.isDirectory(Path.of(local))
                    ? Path.of(local).resolve(p.substring(p.lastIndexOf('/') + 1)) : Path.of(local);
            try (ClusterFiles.Session s = transfer.open("get")) {
                long fh;
                long total;
                try {
                    fh = s.fs().open(p);
                    total = s.fs().fgetattr(fh).size();
                } catch (FsException e) {
                    throw ClusterFiles.failure("read", p, e);
                }
                Progress bar = transfer.progress(total);
                try (OutputStream out = stdout ? System.out : Files.newOutputStream(dst, StandardOpenOption.CREATE,
                        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                    byte[] buf = new byte[BLOCK];
                    long at = 0;
                    for (int n; (n = s.fs().read(fh, at, buf, buf.length)) > 0; ) {
                        out.write(buf, 0, n);
                        at += n;
                        bar.update(at);
                    }
                    bar.done(at);
                } finally {
                    s.fs().release(fh);
                }
            } catch (FsException e) {
                throw ClusterFiles.failure("read", p, e);
            } catch (IOException e) {
                throw new UserError("cannot write " + local + ": " + e.getMessage());
            }
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = "Remove files (and, with -r, directories) from the cluster.")
    static final class Rm implements Runnable {
        @Parameters(arity = "1..*", paramLabel = "PATH", description = "Paths in the cluster.")
        List<String> paths;

        @Option(names = {"-r", "--recursive"}, description = "Remove directories and their contents.")
        boolean recursive;

        @Mixin
        ClusterFiles files;

        @Override
        public void run() {
            List<String> remote = new java.util.ArrayList<>();
            for (String raw : paths) {
                String p = ClusterFiles.remote(raw);
                if (p.equals("/")) {
                    throw new UserError("refusing to remove the root");
                }
                remote.add(p);
            }
            try (ClusterFiles.Session s = files.open("rm")) {
                for (String p : remote) {
                    try {
                        remove(s, p);
                    } catch (FsException e) {
                        throw ClusterFiles.failure("remove", p, e);
                    }
                }
            }
        }

        private void remove(ClusterFiles.Session s, String p) throws FsException {
            Attr a = s.fs().getattr(p);
            if (!a.isDirectory()) {
                s.fs().unlink(p);
                return;
            }
            if (!recursive) {
                throw new UserError("cannot remove " + p + ": is a directory (use -r)");
            }
            for (DirEntry e : s.fs().readdir(p)) {
                remove(s, p + "/" + e.name());
            }
            s.fs().rmdir(p);
        }
    }

    /** What put and get share: the cluster, and whether to draw a progress bar. */
    static final class Transfer extends ClusterFiles {
        @Option(names = "--progress", negatable = true,
                description = "Show a progress bar (default: only on a terminal).")
        Boolean progress;

        Progress progress(long total) {
            return Progress.of(progress, total, Units::humanBytes, System.err);
        }
    }
}
