#!/usr/bin/env python3
"""Random file operations applied in lockstep to a reference directory and to a mount.

Usage:
    python3 randomops.py run --seed N --ops N REFERENCE MOUNT
    python3 randomops.py manifest DIR

`run` draws operations from a generator seeded with --seed: create, write at a random offset,
append, truncate, rename (files over files, and directories), unlink, mkdir, rmdir, chmod, and
read-backs of random ranges. Every operation is done on REFERENCE and then on MOUNT, by the same
relative path; its outcome ("ok", an errno name, or a digest of the bytes read) must be the same
on both. Which paths the next operations pick depends only on the reference's outcomes, so one
divergence does not change the sequence. One line per divergence, then a summary:

    DIVERGED <index> <operation> reference=<outcome> mount=<outcome>
    ops=<n> diverged=<k>

`manifest` prints one sorted line per entry below DIR: type, permission bits, size, SHA-256 of the
contents (files), link target (symlinks), and the relative path. Two trees are equal when their
manifests are.
"""

import errno
import hashlib
import os
import random
import stat
import sys

MAX_FILE = 300_000
MAX_WRITE = 70_000
MAX_DIRS = 40
MAX_FILES = 250


def outcome(fn):
    try:
        res = fn()
        return "ok" if res is None else res
    except OSError as e:
        return errno.errorcode.get(e.errno, "errno%d" % e.errno)


def do_create(root, path, data, mode):
    def go():
        fd = os.open(os.path.join(root, path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    return outcome(go)


def do_write(root, path, offset, data, append=False):
    def go():
        flags = os.O_WRONLY | (os.O_APPEND if append else 0)
        fd = os.open(os.path.join(root, path), flags)
        try:
            if append:
                os.write(fd, data)
            else:
                os.pwrite(fd, data, offset)
        finally:
            os.close(fd)
    return outcome(go)


def do_read(root, path, offset, length):
    def go():
        fd = os.open(os.path.join(root, path), os.O_RDONLY)
        try:
            data = os.pread(fd, length, offset)
        finally:
            os.close(fd)
        return "read:%d:%s" % (len(data), hashlib.sha256(data).hexdigest()[:16])
    return outcome(go)


def do_size(root, path):
    return outcome(lambda: "size:%d" % os.stat(os.path.join(root, path)).st_size)


class Model:
    """The reference tree as the generator knows it: which files and directories exist."""

    def __init__(self):
        self.files = []
        self.dirs = [""]
        self.counter = 0

    def new_name(self, rng, prefix):
        self.counter += 1
        parent = rng.choice(self.dirs)
        return os.path.join(parent, "%s%d" % (prefix, self.counter))

    def under(self, d):
        pre = d + "/"
        return [p for p in self.files + self.dirs if p.startswith(pre)]


def run(seed, ops, ref, mnt):
    rng = random.Random(seed)
    model = Model()
    diverged = 0
    for i in range(ops):
        roll = rng.random()
        have_files = bool(model.files)
        if roll < 0.14 or not have_files:
            if len(model.files) >= MAX_FILES:
                victim = rng.choice(model.files)
                desc = "unlink %s" % victim
                results = [outcome(lambda r=r: os.unlink(os.path.join(r, victim))) for r in (ref, mnt)]
                if results[0] == "ok":
                    model.files.remove(victim)
            else:
                path = model.new_name(rng, "f")
                data = rng.randbytes(rng.randrange(0, 20_000))
                mode = rng.choice([0o644, 0o600, 0o755, 0o640])
                desc = "create %s len=%d mode=%o" % (path, len(data), mode)
                results = [do_create(r, path, data, mode) for r in (ref, mnt)]
                if results[0] == "ok":
                    model.files.append(path)
        elif roll < 0.44:
            path = rng.choice(model.files)
            offset = rng.randrange(0, MAX_FILE)
            data = rng.randbytes(rng.randrange(1, MAX_WRITE))
            if rng.random() < 0.2:
                data = bytes(len(data))  # zero runs: holes on a mount that stores zero chunks as holes
            desc = "write %s off=%d len=%d" % (path, offset, len(data))
            results = [do_write(r, path, offset, data) for r in (ref, mnt)]
        elif roll < 0.49:
            path = rng.choice(model.files)
            data = rng.randbytes(rng.randrange(1, 5000))
            desc = "append %s len=%d" % (path, len(data))
            results = [do_write(r, path, 0, data, append=True) for r in (ref, mnt)]
        elif roll < 0.59:
            path = rng.choice(model.files)
            size = rng.choice([0, rng.randrange(0, MAX_FILE), rng.randrange(0, MAX_FILE + MAX_WRITE)])
            desc = "truncate %s size=%d" % (path, size)
            results = [outcome(lambda r=r: os.truncate(os.path.join(r, path), size)) for r in (ref, mnt)]
        elif roll < 0.69:
            if rng.random() < 0.15 and len(model.dirs) > 1:
                src = rng.choice(model.dirs[1:])
                dst = model.new_name(rng, "d")
                desc = "rename-dir %s %s" % (src, dst)
                results = [outcome(lambda r=r: os.rename(os.path.join(r, src), os.path.join(r, dst))) for r in (ref, mnt)]
                if results[0] == "ok":
                    pre = src + "/"
                    model.files = [dst + p[len(src):] if p.startswith(pre) else p for p in model.files]
                    model.dirs = [dst + p[len(src):] if p == src or p.startswith(pre) else p for p in model.dirs]
            else:
                src = rng.choice(model.files)
                over = rng.random() < 0.4 and len(model.files) > 1
                dst = rng.choice([f for f in model.files if f != src]) if over else model.new_name(rng, "f")
                desc = "rename %s %s" % (src, dst)
                results = [outcome(lambda r=r: os.rename(os.path.join(r, src), os.path.join(r, dst))) for r in (ref, mnt)]
                if results[0] == "ok":
                    model.files.remove(src)
                    if dst not in model.files:
                        model.files.append(dst)
        elif roll < 0.76:
            victim = rng.choice(model.files)
            desc = "unlink %s" % victim
            results = [outcome(lambda r=r: os.unlink(os.path.join(r, victim))) for r in (ref, mnt)]
            if results[0] == "ok":
                model.files.remove(victim)
        elif roll < 0.80:
            if len(model.dirs) < MAX_DIRS:
                path = model.new_name(rng, "d")
                desc = "mkdir %s" % path
                results = [outcome(lambda r=r: os.mkdir(os.path.join(r, path), 0o755)) for r in (ref, mnt)]
                if results[0] == "ok":
                    model.dirs.append(path)
            else:
                path = rng.choice(model.dirs[1:])
                desc = "rmdir %s" % path
                results = [outcome(lambda r=r: os.rmdir(os.path.join(r, path))) for r in (ref, mnt)]
                if results[0] == "ok":
                    model.dirs.remove(path)
        elif roll < 0.82 and len(model.dirs) > 1:
            path = rng.choice(model.dirs[1:])
            desc = "rmdir %s" % path
            results = [outcome(lambda r=r: os.rmdir(os.path.join(r, path))) for r in (ref, mnt)]
            if results[0] == "ok":
                model.dirs.remove(path)
        elif roll < 0.85:
            path = rng.choice(model.files)
            mode = rng.choice([0o600, 0o640, 0o644, 0o664, 0o700, 0o755, 0o444])
            desc = "chmod %s %o" % (path, mode)
            results = [outcome(lambda r=r: os.chmod(os.path.join(r, path), mode)) for r in (ref, mnt)]
        elif roll < 0.90:
            path = rng.choice(model.files)
            desc = "stat-size %s" % path
            results = [do_size(r, path) for r in (ref, mnt)]
        else:
            path = rng.choice(model.files)
            offset = rng.randrange(0, MAX_FILE + MAX_WRITE)
            length = rng.randrange(1, 200_000)
            desc = "read %s off=%d len=%d" % (path, offset, length)
            results = [do_read(r, path, offset, length) for r in (ref, mnt)]
        if results[0] != results[1]:
            diverged += 1
            print("DIVERGED %d %s reference=%s mount=%s" % (i, desc, results[0], results[1]), flush=True)
    print("ops=%d diverged=%d files=%d dirs=%d" % (ops, diverged, len(model.files), len(model.dirs)), flush=True)
    return 0


def manifest(root):
    lines = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            perm = "%04o" % stat.S_IMODE(st.st_mode)
            if stat.S_ISDIR(st.st_mode):
                lines.append("d %s - - %s" % (perm, rel))
            elif stat.S_ISLNK(st.st_mode):
                lines.append("l %s - %s %s" % (perm, os.readlink(full), rel))
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                lines.append("f %s %d %s %s" % (perm, st.st_size, digest, rel))
            else:
                lines.append("? %s - - %s" % (perm, rel))
    for line in sorted(lines):
        print(line)
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "manifest":
        return manifest(argv[2])
    if len(argv) == 8 and argv[1] == "run" and argv[2] == "--seed" and argv[4] == "--ops":
        return run(int(argv[3]), int(argv[5]), argv[6], argv[7])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
