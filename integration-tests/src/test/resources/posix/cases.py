#!/usr/bin/env python3
"""POSIX conformance cases, run the same way on a reference directory and on a VortexFS mount.

Usage: python3 cases.py DIR [CASE...]

DIR must be an empty directory. Every case runs as root in its own fresh subdirectory of DIR
(named after the case, and the current directory while it runs), does its syscalls by relative
path, and yields one deterministic value. The script prints exactly one line per case:

    name: result

The result is "ok", an errno name such as "ENOENT", or a normalised value such as "nlink=2" or
"mode=0o100640". Nothing that legitimately differs between two correct filesystems is printed:
no absolute paths, inode numbers, times, block counts or directory sizes, only relations between
them ("ctime_advanced=True", "ino_matches_readdir=True"). Two runs, one on the reference and one
on the mount, must therefore print identical lines.

Cases that need an unprivileged user run in a forked child that drops to uid/gid 65534; it reaches
the case directory through its inherited working directory, so DIR's ancestors need not be
searchable by that user.
"""

import ctypes
import errno
import fcntl
import hashlib
import mmap
import os
import select
import shutil
import signal
import stat
import struct
import subprocess
import sys
import time

NOBODY = 65534
CASE_TIMEOUT_S = 30
GiB = 1 << 30
MiB = 1 << 20

libc = ctypes.CDLL(None, use_errno=True)
libc.getxattr.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
libc.getxattr.restype = ctypes.c_ssize_t
libc.listxattr.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
libc.listxattr.restype = ctypes.c_ssize_t
libc.utimensat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
libc.utimensat.restype = ctypes.c_int

AT_FDCWD = -100
UTIME_OMIT = (1 << 30) - 2

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


# ---------------------------------------------------------------------------------------------
# helpers


def ename(e):
    return errno.errorcode.get(e.errno, "errno%d" % e.errno)


def r(fn, *args, **kwargs):
    """Runs one call: "ok" when it returns, else the name of its errno."""
    try:
        fn(*args, **kwargs)
        return "ok"
    except OSError as e:
        return ename(e)


def put(path, data=b"", mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    finally:
        os.close(fd)


def get(path):
    with open(path, "rb") as f:
        return f.read()


def pread_all(path, offset, length):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, length, offset)
    finally:
        os.close(fd)


def pwrite_at(path, offset, data, flags=0):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | flags, 0o644)
    try:
        os.pwrite(fd, data, offset)
    finally:
        os.close(fd)


def tick():
    """Long enough for every clock a filesystem may use (jiffies, ms) to move on."""
    time.sleep(0.03)


def sha(data):
    return hashlib.sha256(data).hexdigest()[:16]


def pattern(n, seed=0):
    """n reproducible, non-zero-heavy bytes."""
    block = hashlib.sha256(b"vortex-%d" % seed).digest() * 2048  # 64 KiB
    out = bytearray()
    while len(out) < n:
        out += block
    return bytes(out[:n])


def oct_mode(path, follow=True):
    st = os.stat(path) if follow else os.lstat(path)
    return oct(st.st_mode)


def in_child(fn, uid=None, gid=None):
    """Runs fn in a forked child (as uid/gid when given) and returns its result string."""
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(rd)
            if gid is not None:
                os.setgroups([])
                os.setgid(gid)
            if uid is not None:
                os.setuid(uid)
            try:
                res = fn()
            except OSError as e:
                res = ename(e)
            except BaseException as e:  # noqa: BLE001 - the child must always answer
                res = "error:" + type(e).__name__
            os.write(wr, str(res).encode())
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(wr)
    chunks = []
    while True:
        b = os.read(rd, 4096)
        if not b:
            break
        chunks.append(b)
    os.close(rd)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


def as_nobody(fn):
    return in_child(fn, uid=NOBODY, gid=NOBODY)


class Background:
    """A forked child running fn(stop_fd, ready_fd): it writes a byte to ready_fd once set up, and
    runs until stop_fd becomes readable, which result() causes; result() returns what fn returned."""

    def __init__(self, fn):
        self.stop_rd, self.stop_wr = os.pipe()
        self.res_rd, res_wr = os.pipe()
        self.ready_rd, ready_wr = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                os.close(self.stop_wr)
                os.close(self.res_rd)
                os.close(self.ready_rd)
                try:
                    res = fn(self.stop_rd, ready_wr)
                except OSError as e:
                    res = ename(e)
                except BaseException as e:  # noqa: BLE001
                    res = "error:" + type(e).__name__
                os.write(res_wr, str(res).encode())
            finally:
                os._exit(0)
        os.close(self.stop_rd)
        os.close(res_wr)
        os.close(ready_wr)

    def wait_ready(self):
        os.read(self.ready_rd, 1)
        os.close(self.ready_rd)

    def result(self):
        os.close(self.stop_wr)
        out = b""
        while True:
            b = os.read(self.res_rd, 4096)
            if not b:
                break
            out += b
        os.close(self.res_rd)
        os.waitpid(self.pid, 0)
        return out.decode()


def stopped(stop_fd):
    return bool(select.select([stop_fd], [], [], 0)[0])


def wait_stop(stop_fd):
    select.select([stop_fd], [], [])


def c_getxattr(path, name, size):
    buf = ctypes.create_string_buffer(max(size, 1))
    n = libc.getxattr(path.encode(), name.encode(), buf if size else None, size)
    if n < 0:
        e = ctypes.get_errno()
        return errno.errorcode.get(e, "errno%d" % e)
    return "len=%d" % n


def c_listxattr(path, size):
    buf = ctypes.create_string_buffer(max(size, 1))
    n = libc.listxattr(path.encode(), buf if size else None, size)
    if n < 0:
        e = ctypes.get_errno()
        return errno.errorcode.get(e, "errno%d" % e)
    return "ok"


def user_xattrs(path, follow=True):
    return sorted(n for n in os.listxattr(path, follow_symlinks=follow) if n.startswith("user."))


def times(path):
    st = os.stat(path)
    return st.st_mtime_ns, st.st_ctime_ns


def advanced(before, after):
    return after > before


# ---------------------------------------------------------------------------------------------
# regular files: create, open flags, read and write


@case
def create_regular_mode_and_size():
    put("f", b"", 0o644)
    st = os.stat("f")
    return "mode=%s size=%d nlink=%d" % (oct(st.st_mode), st.st_size, st.st_nlink)


@case
def create_owner_is_caller():
    put("f")
    st = os.stat("f")
    return "uid=%d gid=%d" % (st.st_uid, st.st_gid)


@case
def write_then_read_back():
    put("f", b"hello, world\n")
    return "data=%r" % get("f")


@case
def size_after_write():
    put("f", b"x" * 12345)
    return "size=%d" % os.stat("f").st_size


@case
def o_excl_on_existing_is_eexist():
    put("f")
    return r(os.open, "f", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)


@case
def o_excl_on_new_creates():
    fd = os.open("f", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    return "mode=%s" % oct_mode("f")


@case
def o_excl_on_dangling_symlink_is_eexist():
    os.symlink("nowhere", "l")
    res = r(os.open, "l", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    return "%s target_exists=%s" % (res, os.path.lexists("nowhere"))


@case
def o_creat_on_existing_keeps_content():
    put("f", b"keep")
    fd = os.open("f", os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    return "data=%r mode=%s" % (get("f"), oct_mode("f"))


@case
def o_creat_through_dangling_symlink_creates_target():
    os.symlink("target", "l")
    put("l", b"via link")
    return "target=%r islink=%s" % (get("target"), os.path.islink("l"))


@case
def o_trunc_truncates():
    put("f", b"0123456789")
    fd = os.open("f", os.O_WRONLY | os.O_TRUNC)
    os.close(fd)
    return "size=%d" % os.stat("f").st_size


@case
def o_trunc_then_write_shorter():
    put("f", b"0123456789")
    fd = os.open("f", os.O_WRONLY | os.O_TRUNC)
    os.write(fd, b"ab")
    os.close(fd)
    return "data=%r" % get("f")


@case
def o_append_appends():
    put("f", b"ab")
    fd = os.open("f", os.O_WRONLY | os.O_APPEND)
    os.write(fd, b"cd")
    os.close(fd)
    return "data=%r" % get("f")


@case
def o_append_ignores_seek():
    put("f", b"abc")
    fd = os.open("f", os.O_WRONLY | os.O_APPEND)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, b"XY")
    pos = os.lseek(fd, 0, os.SEEK_CUR)
    os.close(fd)
    return "data=%r pos=%d" % (get("f"), pos)


@case
def o_append_two_fds_interleave():
    put("f", b"")
    a = os.open("f", os.O_WRONLY | os.O_APPEND)
    b = os.open("f", os.O_WRONLY | os.O_APPEND)
    for i in range(5):
        os.write(a, b"a%d" % i)
        os.write(b, b"b%d" % i)
    os.close(a)
    os.close(b)
    return "data=%r" % get("f")


@case
def o_append_from_two_processes():
    put("f", b"")

    def writer(tag):
        def go():
            fd = os.open("f", os.O_WRONLY | os.O_APPEND)
            for i in range(50):
                os.write(fd, tag * 10)
            os.close(fd)
            return "ok"
        return go

    res = [in_child(writer(b"a")), in_child(writer(b"b"))]
    data = get("f")
    return "%s size=%d a=%d b=%d" % (res, len(data), data.count(b"a"), data.count(b"b"))


@case
def pwrite_in_middle():
    put("f", b"aaaaaaaaaa")
    fd = os.open("f", os.O_WRONLY)
    os.pwrite(fd, b"XYZ", 4)
    os.close(fd)
    return "data=%r" % get("f")


@case
def seek_past_eof_write_leaves_zero_gap():
    put("f", b"ab")
    fd = os.open("f", os.O_WRONLY)
    os.lseek(fd, 10, os.SEEK_SET)
    os.write(fd, b"cd")
    os.close(fd)
    return "data=%r" % get("f")


@case
def pwrite_past_eof_in_new_file():
    pwrite_at("f", 100000, b"end")
    data = get("f")
    return "size=%d zeros=%s tail=%r" % (len(data), data[:100000] == bytes(100000), data[100000:])


@case
def read_at_eof_returns_nothing():
    put("f", b"12345")
    fd = os.open("f", os.O_RDONLY)
    first = os.read(fd, 100)
    again = os.read(fd, 100)
    os.close(fd)
    return "first=%r again=%r" % (first, again)


@case
def pread_past_eof_returns_nothing():
    put("f", b"12345")
    return "data=%r" % pread_all("f", 1000, 10)


@case
def pread_straddling_eof_is_short():
    put("f", b"12345")
    return "data=%r" % pread_all("f", 3, 10)


@case
def read_empty_file():
    put("f")
    return "data=%r" % get("f")


@case
def write_zero_bytes():
    put("f", b"abc")
    fd = os.open("f", os.O_WRONLY)
    n = os.write(fd, b"")
    os.close(fd)
    return "n=%d size=%d" % (n, os.stat("f").st_size)


@case
def open_missing_is_enoent():
    return r(os.open, "missing", os.O_RDONLY)


@case
def open_in_missing_dir_is_enoent():
    return r(os.open, "nodir/f", os.O_WRONLY | os.O_CREAT, 0o644)


@case
def open_directory_write_only_is_eisdir():
    os.mkdir("d")
    return r(os.open, "d", os.O_WRONLY)


@case
def open_directory_read_write_is_eisdir():
    os.mkdir("d")
    return r(os.open, "d", os.O_RDWR)


@case
def open_directory_read_only_works():
    os.mkdir("d")
    fd = os.open("d", os.O_RDONLY)
    isdir = stat.S_ISDIR(os.fstat(fd).st_mode)
    os.close(fd)
    return "isdir=%s" % isdir


@case
def open_directory_creat_is_eisdir():
    os.mkdir("d")
    return r(os.open, "d", os.O_WRONLY | os.O_CREAT, 0o644)


@case
def o_directory_on_file_is_enotdir():
    put("f")
    return r(os.open, "f", os.O_RDONLY | os.O_DIRECTORY)


@case
def path_through_file_is_enotdir():
    put("f")
    return r(os.open, "f/x", os.O_RDONLY)


@case
def create_through_file_is_enotdir():
    put("f")
    return r(os.open, "f/x", os.O_WRONLY | os.O_CREAT, 0o644)


@case
def stat_through_file_is_enotdir():
    put("f")
    return r(os.stat, "f/x")


@case
def mkdir_through_file_is_enotdir():
    put("f")
    return r(os.mkdir, "f/d")


@case
def trailing_slash_on_file_is_enotdir():
    put("f")
    return r(os.stat, "f/")


@case
def stat_missing_is_enoent():
    return r(os.stat, "missing")


@case
def stat_in_missing_dir_is_enoent():
    return r(os.stat, "nodir/missing")


@case
def stat_empty_path_is_enoent():
    return r(os.stat, "")


@case
def read_on_write_only_fd_is_ebadf():
    put("f", b"abc")
    fd = os.open("f", os.O_WRONLY)
    try:
        return r(os.read, fd, 1)
    finally:
        os.close(fd)


@case
def write_on_read_only_fd_is_ebadf():
    put("f", b"abc")
    fd = os.open("f", os.O_RDONLY)
    try:
        return r(os.write, fd, b"x")
    finally:
        os.close(fd)


@case
def lseek_end_and_negative():
    put("f", b"x" * 77)
    fd = os.open("f", os.O_RDONLY)
    end = os.lseek(fd, 0, os.SEEK_END)
    neg = r(os.lseek, fd, -1, os.SEEK_SET)
    os.close(fd)
    return "end=%d negative=%s" % (end, neg)


@case
def read_write_same_fd():
    fd = os.open("f", os.O_RDWR | os.O_CREAT, 0o644)
    os.write(fd, b"abcdef")
    os.lseek(fd, 2, os.SEEK_SET)
    got = os.read(fd, 3)
    os.close(fd)
    return "data=%r" % got


@case
def two_fds_see_each_others_writes():
    put("f", b"")
    w = os.open("f", os.O_WRONLY)
    rd = os.open("f", os.O_RDONLY)
    os.write(w, b"shared")
    got = os.read(rd, 100)
    size = os.fstat(rd).st_size
    os.close(w)
    os.close(rd)
    return "data=%r size=%d" % (got, size)


@case
def write_visible_to_other_process_after_close():
    put("f", b"old")
    put("f", b"new content")
    return in_child(lambda: "data=%r" % get("f"))


@case
def stat_size_while_open_for_write():
    fd = os.open("f", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"x" * 5000)
    size_path = os.stat("f").st_size
    size_fd = os.fstat(fd).st_size
    os.close(fd)
    return "stat=%d fstat=%d" % (size_path, size_fd)


@case
def dup_shares_offset():
    put("f", b"")
    fd = os.open("f", os.O_WRONLY)
    fd2 = os.dup(fd)
    os.write(fd, b"ab")
    os.write(fd2, b"cd")
    os.close(fd)
    os.close(fd2)
    return "data=%r" % get("f")


@case
def one_mib_round_trip():
    data = pattern(MiB + 17, 1)
    put("f", data)
    return "sha=%s size=%d" % (sha(get("f")), os.stat("f").st_size)


@case
def write_across_four_mib_boundary():
    data = pattern(5 * MiB + 3, 2)
    put("f", data)
    got = get("f")
    return "equal=%s size=%d" % (got == data, len(got))


@case
def overwrite_straddling_four_mib_boundary():
    data = bytearray(pattern(9 * MiB, 3))
    put("f", bytes(data))
    fd = os.open("f", os.O_WRONLY)
    os.pwrite(fd, b"Z" * 10, 4 * MiB - 5)
    os.close(fd)
    data[4 * MiB - 5:4 * MiB + 5] = b"Z" * 10
    got = get("f")
    return "equal=%s size=%d" % (got == bytes(data), len(got))


@case
def small_writes_many_times():
    fd = os.open("f", os.O_WRONLY | os.O_CREAT, 0o644)
    for i in range(2000):
        os.write(fd, b"%04d" % i)
    os.close(fd)
    data = get("f")
    return "size=%d sha=%s" % (len(data), sha(data))


@case
def random_reads_of_written_file():
    data = pattern(3 * MiB, 4)
    put("f", data)
    fd = os.open("f", os.O_RDONLY)
    ok = True
    for off in (0, 1, 4095, 4096, 65535, 131071, 131072, MiB - 1, 2 * MiB + 12345, 3 * MiB - 10):
        ok = ok and os.pread(fd, 1000, off) == data[off:off + 1000]
    os.close(fd)
    return "all_equal=%s" % ok


@case
def unlink_open_file_still_readable():
    put("f", b"still here")
    fd = os.open("f", os.O_RDONLY)
    os.unlink("f")
    got = os.read(fd, 100)
    nlink = os.fstat(fd).st_nlink
    os.close(fd)
    return "data=%r nlink=%d exists=%s" % (got, nlink, os.path.lexists("f"))


@case
def unlink_open_file_leaves_directory_empty():
    os.mkdir("d")
    put("d/f", b"x")
    fd = os.open("d/f", os.O_RDWR)
    os.unlink("d/f")
    names = sorted(os.listdir("d"))
    rmdir = r(os.rmdir, "d")
    os.close(fd)
    return "names=%s rmdir=%s" % (names, rmdir)


@case
def write_to_unlinked_open_file():
    fd = os.open("f", os.O_RDWR | os.O_CREAT, 0o644)
    os.unlink("f")
    os.write(fd, b"ghost")
    got = os.pread(fd, 10, 0)
    size = os.fstat(fd).st_size
    os.close(fd)
    return "data=%r size=%d" % (got, size)


@case
def create_with_mode_0444_fd_is_writable():
    fd = os.open("f", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    os.write(fd, b"written")
    os.close(fd)
    return "data=%r mode=%s" % (get("f"), oct_mode("f"))


@case
def mknod_regular_file():
    os.mknod("f", stat.S_IFREG | 0o640)
    st = os.stat("f")
    return "mode=%s size=%d" % (oct(st.st_mode), st.st_size)


@case
def openat_relative_to_directory_fd():
    os.mkdir("d")
    dfd = os.open("d", os.O_RDONLY | os.O_DIRECTORY)
    fd = os.open("f", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=dfd)
    os.write(fd, b"at")
    os.close(fd)
    st = os.stat("f", dir_fd=dfd)
    os.close(dfd)
    return "data=%r size=%d" % (get("d/f"), st.st_size)


@case
def mmap_read():
    data = pattern(200000, 5)
    put("f", data)
    with open("f", "rb") as f:
        m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
        got = m[:]
        m.close()
    return "equal=%s" % (got == data)


@case
def mmap_shared_write_reaches_file():
    put("f", bytes(8192))
    with open("f", "r+b") as f:
        m = mmap.mmap(f.fileno(), 8192)
        m[100:105] = b"mmap!"
        m.flush()
        m.close()
    data = get("f")
    return "data=%r size=%d" % (data[98:107], len(data))


@case
def posix_fallocate_extends():
    put("f", b"abc")
    fd = os.open("f", os.O_RDWR)
    res = r(os.posix_fallocate, fd, 0, 10000)
    os.close(fd)
    data = get("f")
    return "%s size=%d head=%r zeros=%s" % (res, len(data), data[:3], data[3:] == bytes(len(data) - 3))


@case
def copyfile_uses_kernel_copy():
    data = pattern(300000, 6)
    put("a", data)
    shutil.copyfile("a", "b")
    return "equal=%s" % (get("b") == data)


@case
def non_utf8_file_name():
    name = b"caf\xe9-\xff"
    put(name, b"bytes")
    names = sorted(os.listdir(b"."))
    return "names=%r data=%r" % (names, get(name))


@case
def unicode_and_odd_names():
    names = ["sp ace", "new\nline", "ta\tb", "ünïcødé", "日本語", "-dash", ".hidden", "a'quote\"", "x" * 200]
    for n in names:
        put(n, n.encode())
    listed = sorted(os.listdir("."))
    ok = all(get(n) == n.encode() for n in names)
    return "listed_equal=%s contents_ok=%s" % (listed == sorted(names), ok)


@case
def name_of_255_bytes_works():
    n = "n" * 255
    put(n, b"long")
    os.mkdir("d" * 255)
    return "data=%r listed=%s" % (get(n), sorted(os.listdir(".")) == sorted([n, "d" * 255]))


@case
def name_of_255_multibyte_bytes_works():
    n = "é" * 127 + "a"  # 255 bytes of UTF-8
    put(n, b"mb")
    return "data=%r" % get(n)


@case
def create_name_of_256_bytes_is_enametoolong():
    return r(os.open, "n" * 256, os.O_WRONLY | os.O_CREAT, 0o644)


@case
def mkdir_name_of_256_bytes_is_enametoolong():
    return r(os.mkdir, "d" * 256)


@case
def stat_name_of_256_bytes_is_enametoolong():
    return r(os.stat, "s" * 256)


@case
def rename_to_name_of_256_bytes_is_enametoolong():
    put("f")
    return r(os.rename, "f", "r" * 256)


@case
def symlink_name_of_256_bytes_is_enametoolong():
    return r(os.symlink, "x", "l" * 256)


@case
def run_executable_script():
    put("s.sh", b"#!/bin/sh\necho ran \"$1\"\n", 0o755)
    out = subprocess.run(["./s.sh", "arg"], capture_output=True, timeout=20)
    return "exit=%d out=%r" % (out.returncode, out.stdout)


@case
def exec_without_x_bit_is_eacces():
    put("s.sh", b"#!/bin/sh\necho ran\n", 0o644)
    try:
        subprocess.run(["./s.sh"], capture_output=True, timeout=20)
        return "ok"
    except OSError as e:
        return ename(e)


@case
def o_rdonly_o_trunc_truncates():
    put("f", b"0123456789")
    os.close(os.open("f", os.O_RDONLY | os.O_TRUNC))
    return "size=%d" % os.stat("f").st_size


@case
def close_one_of_two_handles_keeps_the_other():
    put("f", b"")
    a = os.open("f", os.O_RDWR)
    b = os.open("f", os.O_RDWR)
    os.write(a, b"first-")
    os.close(a)
    os.pwrite(b, b"second", 6)
    got = os.pread(b, 100, 0)
    os.close(b)
    return "via_b=%r after=%r" % (got, get("f"))


@case
def write_after_parent_directory_renamed():
    os.mkdir("d")
    fd = os.open("d/f", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"before ")
    os.rename("d", "e")
    os.write(fd, b"after")
    os.close(fd)
    return "data=%r old=%s" % (get("e/f"), os.path.exists("d/f"))


@case
def remove_tree_of_many_files():
    for i in range(20):
        os.makedirs("t/d%02d" % i)
        for j in range(25):
            put("t/d%02d/f%02d" % (i, j), b"x" * j)
    shutil.rmtree("t")
    return "names=%s" % os.listdir(".")


# ---------------------------------------------------------------------------------------------
# truncate


@case
def truncate_down():
    put("f", b"0123456789")
    os.truncate("f", 4)
    return "data=%r" % get("f")


@case
def truncate_up_reads_zeros():
    put("f", b"abc")
    os.truncate("f", 8)
    return "data=%r" % get("f")


@case
def truncate_to_zero():
    put("f", b"abc")
    os.truncate("f", 0)
    return "size=%d data=%r" % (os.stat("f").st_size, get("f"))


@case
def ftruncate_down_and_up():
    put("f", b"0123456789")
    fd = os.open("f", os.O_RDWR)
    os.ftruncate(fd, 3)
    os.ftruncate(fd, 6)
    os.close(fd)
    return "data=%r" % get("f")


@case
def truncate_down_then_up_does_not_resurrect_bytes():
    put("f", b"A" * 100)
    os.truncate("f", 10)
    os.truncate("f", 100)
    data = get("f")
    return "head=%r tail_zero=%s size=%d" % (data[:10], data[10:] == bytes(90), len(data))


@case
def truncate_across_four_mib_then_extend():
    put("f", pattern(6 * MiB, 7))
    os.truncate("f", MiB)
    os.truncate("f", 6 * MiB)
    data = get("f")
    return "head_ok=%s tail_zero=%s size=%d" % (data[:MiB] == pattern(MiB, 7), data[MiB:] == bytes(5 * MiB), len(data))


@case
def truncate_then_write_past_end():
    put("f", b"abcdef")
    os.truncate("f", 2)
    pwrite_at("f", 4, b"Z")
    return "data=%r" % get("f")


@case
def ftruncate_while_writing():
    fd = os.open("f", os.O_RDWR | os.O_CREAT, 0o644)
    os.write(fd, b"0123456789")
    os.ftruncate(fd, 5)
    os.write(fd, b"xy")  # offset is still 10
    os.close(fd)
    return "data=%r" % get("f")


@case
def truncate_directory_is_eisdir():
    os.mkdir("d")
    return r(os.truncate, "d", 0)


@case
def truncate_missing_is_enoent():
    return r(os.truncate, "missing", 0)


@case
def truncate_negative_is_einval():
    put("f", b"abc")
    return r(os.truncate, "f", -1)


@case
def ftruncate_read_only_fd_is_einval():
    put("f", b"abc")
    fd = os.open("f", os.O_RDONLY)
    try:
        return r(os.ftruncate, fd, 1)
    finally:
        os.close(fd)


@case
def truncate_updates_mtime_and_ctime():
    put("f", b"abcdef")
    m0, c0 = times("f")
    tick()
    os.truncate("f", 2)
    m1, c1 = times("f")
    return "mtime_advanced=%s ctime_advanced=%s" % (advanced(m0, m1), advanced(c0, c1))


@case
def ftruncate_updates_mtime_and_ctime():
    put("f", b"abcdef")
    m0, c0 = times("f")
    tick()
    fd = os.open("f", os.O_RDWR)
    os.ftruncate(fd, 9)
    os.close(fd)
    m1, c1 = times("f")
    return "mtime_advanced=%s ctime_advanced=%s" % (advanced(m0, m1), advanced(c0, c1))


@case
def o_trunc_updates_mtime():
    put("f", b"abcdef")
    m0, c0 = times("f")
    tick()
    os.close(os.open("f", os.O_WRONLY | os.O_TRUNC))
    m1, c1 = times("f")
    return "mtime_advanced=%s ctime_advanced=%s" % (advanced(m0, m1), advanced(c0, c1))


# ---------------------------------------------------------------------------------------------
# sparse and large files


@case
def sparse_write_at_1gib_size():
    pwrite_at("f", GiB, b"tail")
    return "size=%d" % os.stat("f").st_size


@case
def sparse_hole_reads_zeros():
    pwrite_at("f", GiB, b"tail")
    fd = os.open("f", os.O_RDONLY)
    parts = [os.pread(fd, 4096, off) for off in (0, 12345, 256 * MiB, GiB - 4096)]
    tail = os.pread(fd, 10, GiB)
    os.close(fd)
    return "holes_zero=%s tail=%r" % (all(p == bytes(4096) for p in parts), tail)


@case
def sparse_file_uses_few_blocks():
    pwrite_at("f", GiB, b"tail")
    st = os.stat("f")
    return "blocks_small=%s" % (st.st_blocks * 512 < st.st_size // 100)


@case
def dense_file_blocks_cover_size():
    put("f", pattern(100000, 8))
    st = os.stat("f")
    return "blocks_cover_size=%s" % (st.st_blocks * 512 >= st.st_size)


@case
def file_over_4gib():
    pwrite_at("f", 5 * GiB, b"beyond4g")
    st = os.stat("f")
    back = pread_all("f", 5 * GiB, 100)
    hole = pread_all("f", 4 * GiB, 16)
    return "size=%d data=%r hole=%r" % (st.st_size, back, hole)


@case
def truncate_up_to_2gib_is_sparse():
    put("f", b"x")
    os.truncate("f", 2 * GiB)
    st = os.stat("f")
    return "size=%d blocks_small=%s last=%r" % (st.st_size, st.st_blocks * 512 < st.st_size // 100,
                                                 pread_all("f", 2 * GiB - 3, 10))


@case
def seek_data_and_hole():
    put("f", b"d" * 4096)
    fd = os.open("f", os.O_RDONLY)
    data = os.lseek(fd, 0, os.SEEK_DATA)
    hole = os.lseek(fd, 0, os.SEEK_HOLE)
    past = r(os.lseek, fd, 5000, os.SEEK_DATA)
    os.close(fd)
    return "data=%d hole=%d past_eof=%s" % (data, hole, past)


# ---------------------------------------------------------------------------------------------
# directories


@case
def mkdir_mode_and_type():
    os.mkdir("d", 0o755)
    return "mode=%s" % oct_mode("d")


@case
def mkdir_existing_is_eexist():
    os.mkdir("d")
    return r(os.mkdir, "d")


@case
def mkdir_over_file_is_eexist():
    put("f")
    return r(os.mkdir, "f")


@case
def mkdir_over_symlink_is_eexist():
    os.symlink("nowhere", "l")
    return r(os.mkdir, "l")


@case
def mkdir_in_missing_parent_is_enoent():
    return r(os.mkdir, "a/b")


@case
def mkdir_trailing_slash_works():
    os.mkdir("d/")
    return "isdir=%s" % os.path.isdir("d")


@case
def mkdir_deep_tree():
    path = "/".join("l%d" % i for i in range(30))
    os.makedirs(path)
    put(path + "/leaf", b"deep")
    return "data=%r" % get(path + "/leaf")


@case
def directory_nlink_counts_subdirectories():
    os.mkdir("d")
    n0 = os.stat("d").st_nlink
    os.mkdir("d/a")
    os.mkdir("d/b")
    put("d/f")
    n2 = os.stat("d").st_nlink
    os.rmdir("d/a")
    n1 = os.stat("d").st_nlink
    return "empty=%d two_subdirs=%d one_subdir=%d" % (n0, n2, n1)


@case
def rmdir_empty_works():
    os.mkdir("d")
    os.rmdir("d")
    return "exists=%s" % os.path.exists("d")


@case
def rmdir_non_empty_is_enotempty():
    os.mkdir("d")
    put("d/f")
    return r(os.rmdir, "d")


@case
def rmdir_with_subdir_is_enotempty():
    os.makedirs("d/e")
    return r(os.rmdir, "d")


@case
def rmdir_file_is_enotdir():
    put("f")
    return r(os.rmdir, "f")


@case
def rmdir_missing_is_enoent():
    return r(os.rmdir, "missing")


@case
def rmdir_dot_is_einval():
    os.mkdir("d")
    return r(os.rmdir, "d/.")


@case
def rmdir_symlink_to_dir_is_enotdir():
    os.mkdir("d")
    os.symlink("d", "l")
    return r(os.rmdir, "l")


@case
def unlink_directory_is_eisdir():
    os.mkdir("d")
    return r(os.unlink, "d")


@case
def unlink_missing_is_enoent():
    return r(os.unlink, "missing")


@case
def unlink_trailing_slash_on_file_is_enotdir():
    put("f")
    return r(os.unlink, "f/")


@case
def readdir_lists_exactly_created_names():
    names = ["f%03d" % i for i in range(50)] + ["d%02d" % i for i in range(10)]
    for n in names:
        if n.startswith("f"):
            put(n)
        else:
            os.mkdir(n)
    return "equal=%s count=%d" % (sorted(os.listdir(".")) == sorted(names), len(os.listdir(".")))


@case
def readdir_of_empty_directory():
    os.mkdir("d")
    return "names=%s" % os.listdir("d")


@case
def readdir_after_unlink_and_rename():
    for n in ("a", "b", "c"):
        put(n)
    os.unlink("b")
    os.rename("c", "z")
    return "names=%s" % sorted(os.listdir("."))


@case
def readdir_two_thousand_entries():
    names = set("entry-%05d" % i for i in range(2000))
    for n in names:
        os.close(os.open(n, os.O_WRONLY | os.O_CREAT, 0o644))
    listed = os.listdir(".")
    return "count=%d equal=%s no_dups=%s" % (len(listed), set(listed) == names, len(set(listed)) == len(listed))


@case
def readdir_entry_types():
    put("f")
    os.mkdir("d")
    os.symlink("f", "l")
    os.mkfifo("p")
    kinds = {}
    for e in os.scandir("."):
        kinds[e.name] = ("dir" if e.is_dir(follow_symlinks=False) else
                         "link" if e.is_symlink() else
                         "file" if e.is_file(follow_symlinks=False) else "other")
    return " ".join("%s=%s" % kv for kv in sorted(kinds.items()))


@case
def readdir_dot_and_dotdot_inodes():
    os.mkdir("d")
    os.mkdir("d/e")
    return "dot=%s dotdot=%s" % (os.stat("d/e/.").st_ino == os.stat("d/e").st_ino,
                                 os.stat("d/e/..").st_ino == os.stat("d").st_ino)


@case
def readdir_while_creating_sees_no_duplicates():
    for i in range(300):
        put("a%03d" % i)
    seen = []
    with os.scandir(".") as it:
        for i, e in enumerate(it):
            seen.append(e.name)
            if i == 10:
                put("late")
    return "no_dups=%s all_old_seen=%s" % (len(seen) == len(set(seen)),
                                            set("a%03d" % i for i in range(300)) <= set(seen))


@case
def fsync_directory_works():
    os.mkdir("d")
    fd = os.open("d", os.O_RDONLY | os.O_DIRECTORY)
    res = r(os.fsync, fd)
    os.close(fd)
    return res


@case
def create_updates_parent_mtime_and_ctime():
    os.mkdir("d")
    m0, c0 = times("d")
    tick()
    put("d/f")
    m1, c1 = times("d")
    return "mtime_advanced=%s ctime_advanced=%s" % (advanced(m0, m1), advanced(c0, c1))


@case
def unlink_updates_parent_mtime():
    os.mkdir("d")
    put("d/f")
    m0, c0 = times("d")
    tick()
    os.unlink("d/f")
    m1, c1 = times("d")
    return "mtime_advanced=%s ctime_advanced=%s" % (advanced(m0, m1), advanced(c0, c1))


@case
def mkdir_updates_parent_mtime():
    os.mkdir("d")
    m0, _ = times("d")
    tick()
    os.mkdir("d/e")
    m1, _ = times("d")
    return "mtime_advanced=%s" % advanced(m0, m1)


@case
def rmdir_updates_parent_mtime():
    os.makedirs("d/e")
    m0, _ = times("d")
    tick()
    os.rmdir("d/e")
    m1, _ = times("d")
    return "mtime_advanced=%s" % advanced(m0, m1)


@case
def rename_updates_both_parents_mtime():
    os.mkdir("a")
    os.mkdir("b")
    put("a/f")
    a0, _ = times("a")
    b0, _ = times("b")
    tick()
    os.rename("a/f", "b/f")
    a1, _ = times("a")
    b1, _ = times("b")
    return "src_advanced=%s dst_advanced=%s" % (advanced(a0, a1), advanced(b0, b1))


@case
def symlink_updates_parent_mtime():
    os.mkdir("d")
    m0, _ = times("d")
    tick()
    os.symlink("x", "d/l")
    m1, _ = times("d")
    return "mtime_advanced=%s" % advanced(m0, m1)


@case
def writing_a_file_does_not_touch_parent_mtime():
    os.mkdir("d")
    put("d/f", b"a")
    m0, _ = times("d")
    tick()
    put("d/f", b"bbbb")
    m1, _ = times("d")
    return "parent_unchanged=%s" % (m0 == m1)


# ---------------------------------------------------------------------------------------------
# rename


@case
def rename_file():
    put("a", b"content")
    os.rename("a", "b")
    return "a_exists=%s b=%r" % (os.path.exists("a"), get("b"))


@case
def rename_replaces_existing_file():
    put("a", b"new")
    put("b", b"old old")
    ino = os.stat("a").st_ino
    os.rename("a", "b")
    st = os.stat("b")
    return "names=%s b=%r size=%d same_inode=%s" % (sorted(os.listdir(".")), get("b"), st.st_size, st.st_ino == ino)


@case
def rename_replace_is_atomic_for_readers():
    put("dst", b"v00000")

    def reader(stop_fd, ready_fd):
        missing = torn = reads = 0
        os.write(ready_fd, b"r")
        while not stopped(stop_fd) or reads < 50:
            try:
                data = get("dst")
                reads += 1
                if len(data) != 6:
                    torn += 1
            except FileNotFoundError:
                missing += 1
        return "missing=%d torn=%d" % (missing, torn)

    bg = Background(reader)
    bg.wait_ready()
    for i in range(1, 150):
        put("tmp", b"v%05d" % i)
        os.rename("tmp", "dst")
    res = bg.result()
    return "%s final=%r" % (res, get("dst"))


@case
def rename_directory_onto_empty_directory():
    os.mkdir("a")
    put("a/f", b"inside")
    os.mkdir("b")
    os.rename("a", "b")
    return "names=%s inside=%r" % (sorted(os.listdir(".")), get("b/f"))


@case
def rename_directory_onto_non_empty_is_enotempty():
    os.mkdir("a")
    os.mkdir("b")
    put("b/f")
    res = r(os.rename, "a", "b")
    return "%s names=%s" % (res, sorted(os.listdir(".")))


@case
def rename_directory_into_own_subtree_is_einval():
    os.makedirs("a/b/c")
    return r(os.rename, "a", "a/b/c/d")


@case
def rename_directory_onto_own_child_is_einval():
    os.makedirs("a/b")
    return r(os.rename, "a", "a/b")


@case
def rename_file_onto_directory_is_eisdir():
    put("f")
    os.mkdir("d")
    return r(os.rename, "f", "d")


@case
def rename_directory_onto_file_is_enotdir():
    os.mkdir("d")
    put("f")
    return r(os.rename, "d", "f")


@case
def rename_to_itself_is_a_no_op():
    put("f", b"same")
    res = r(os.rename, "f", "f")
    return "%s data=%r names=%s" % (res, get("f"), os.listdir("."))


@case
def rename_directory_to_itself_is_a_no_op():
    os.mkdir("d")
    put("d/f")
    res = r(os.rename, "d", "d")
    return "%s inside=%s" % (res, os.listdir("d"))


@case
def rename_between_hard_links_of_one_file_is_a_no_op():
    put("a", b"x")
    os.link("a", "b")
    res = r(os.rename, "a", "b")
    return "%s names=%s nlink=%d" % (res, sorted(os.listdir(".")), os.stat("b").st_nlink)


@case
def rename_missing_source_is_enoent():
    return r(os.rename, "missing", "b")


@case
def rename_into_missing_directory_is_enoent():
    put("f")
    return r(os.rename, "f", "nodir/f")


@case
def rename_through_file_is_enotdir():
    put("f")
    put("g")
    return r(os.rename, "g", "f/g")


@case
def rename_across_directories():
    os.mkdir("a")
    os.mkdir("b")
    put("a/f", b"moved")
    os.rename("a/f", "b/g")
    return "a=%s b=%s data=%r" % (os.listdir("a"), os.listdir("b"), get("b/g"))


@case
def rename_directory_across_parents_moves_dotdot():
    os.makedirs("p1/x/y")
    os.mkdir("p2")
    os.rename("p1/x", "p2/x")
    return "dotdot_is_p2=%s nlink_p1=%d nlink_p2=%d deep=%s" % (
        os.stat("p2/x/..").st_ino == os.stat("p2").st_ino, os.stat("p1").st_nlink, os.stat("p2").st_nlink,
        os.path.isdir("p2/x/y"))


@case
def rename_directory_keeps_contents():
    os.makedirs("a/b/c")
    put("a/b/c/f", b"deep")
    os.rename("a", "z")
    return "old=%s data=%r" % (os.path.exists("a/b/c/f"), get("z/b/c/f"))


@case
def old_name_is_gone_right_after_rename():
    put("a", b"1")
    os.stat("a")  # warm any name cache
    os.rename("a", "b")
    return "stat_old=%s stat_new=%s" % (r(os.stat, "a"), r(os.stat, "b"))


@case
def children_of_renamed_directory_gone_from_old_path():
    os.mkdir("a")
    put("a/f")
    os.stat("a/f")
    os.rename("a", "b")
    return "old=%s new=%s" % (r(os.stat, "a/f"), r(os.stat, "b/f"))


@case
def replaced_destination_shows_new_size():
    put("a", b"12345678")
    put("b", b"1")
    os.stat("b")
    os.rename("a", "b")
    return "size=%d" % os.stat("b").st_size


@case
def rename_open_file_still_readable():
    put("a", b"open across rename")
    fd = os.open("a", os.O_RDONLY)
    os.rename("a", "b")
    got = os.read(fd, 100)
    os.close(fd)
    return "data=%r" % got


@case
def rename_over_open_file_keeps_old_content_readable():
    put("a", b"new")
    put("b", b"old contents")
    fd = os.open("b", os.O_RDONLY)
    os.rename("a", "b")
    got = os.read(fd, 100)
    os.close(fd)
    return "old_fd=%r now=%r names=%s" % (got, get("b"), sorted(os.listdir(".")))


@case
def rename_symlink_keeps_target():
    os.symlink("some/where", "l")
    os.rename("l", "m")
    return "target=%r" % os.readlink("m")


@case
def rename_file_over_dangling_symlink():
    put("f", b"file")
    os.symlink("nowhere", "l")
    os.rename("f", "l")
    return "islink=%s data=%r names=%s" % (os.path.islink("l"), get("l"), os.listdir("."))


@case
def rename_symlink_over_file():
    put("t", b"target")
    put("f", b"replaced")
    os.symlink("t", "l")
    os.rename("l", "f")
    return "islink=%s data=%r names=%s" % (os.path.islink("f"), get("f"), sorted(os.listdir(".")))


@case
def rename_dot_is_einval_or_ebusy():
    os.mkdir("d")
    return r(os.rename, "d/.", "e")


# ---------------------------------------------------------------------------------------------
# hard links


@case
def link_shares_inode_and_counts():
    put("a", b"x")
    os.link("a", "b")
    sa, sb = os.stat("a"), os.stat("b")
    return "nlink_a=%d nlink_b=%d same_inode=%s" % (sa.st_nlink, sb.st_nlink, sa.st_ino == sb.st_ino)


@case
def link_shares_content():
    put("a", b"first")
    os.link("a", "b")
    fd = os.open("b", os.O_WRONLY | os.O_APPEND)
    os.write(fd, b"+second")
    os.close(fd)
    return "a=%r size_a=%d" % (get("a"), os.stat("a").st_size)


@case
def unlink_one_of_two_names():
    put("a", b"survivor")
    os.link("a", "b")
    os.unlink("a")
    return "b=%r nlink=%d names=%s" % (get("b"), os.stat("b").st_nlink, os.listdir("."))


@case
def unlink_two_of_three_names():
    put("a", b"three")
    os.link("a", "b")
    os.link("a", "c")
    n3 = os.stat("a").st_nlink
    os.unlink("a")
    os.unlink("c")
    return "nlink_before=%d nlink_after=%d b=%r" % (n3, os.stat("b").st_nlink, get("b"))


@case
def link_to_directory_is_eperm():
    os.mkdir("d")
    return r(os.link, "d", "e")


@case
def link_onto_existing_is_eexist():
    put("a")
    put("b")
    return r(os.link, "a", "b")


@case
def link_missing_source_is_enoent():
    return r(os.link, "missing", "b")


@case
def link_across_directories():
    os.mkdir("x")
    os.mkdir("y")
    put("x/f", b"across")
    os.link("x/f", "y/g")
    return "data=%r nlink=%d" % (get("y/g"), os.stat("x/f").st_nlink)


@case
def chmod_visible_through_other_link():
    put("a")
    os.link("a", "b")
    os.stat("b")
    os.chmod("a", 0o600)
    return "mode_b=%s" % oct_mode("b")


@case
def write_size_visible_through_other_link():
    put("a", b"1")
    os.link("a", "b")
    os.stat("b")
    put("a", b"123456789")
    return "size_b=%d" % os.stat("b").st_size


@case
def fstat_of_other_link_sees_change_after_a_moment():
    # The kernel may keep a file's attributes for one tick of its clock (at most 20 ms at 100 Hz),
    # and a descriptor of one name does not look the file up again when it changes through another.
    put("a", b"1")
    os.link("a", "b")
    fd = os.open("b", os.O_RDONLY)
    try:
        before = os.fstat(fd).st_size
        put("a", b"123456789")
        time.sleep(0.05)
        return "before=%d after=%d" % (before, os.fstat(fd).st_size)
    finally:
        os.close(fd)


@case
def rename_over_one_link_drops_nlink():
    put("a", b"x")
    os.link("a", "b")
    put("c", b"other")
    os.rename("c", "b")
    return "nlink_a=%d b=%r" % (os.stat("a").st_nlink, get("b"))


@case
def link_of_symlink_links_the_symlink():
    put("t", b"target")
    os.symlink("t", "l")
    os.link("l", "h", follow_symlinks=False)
    return "h_is_link=%s nlink=%d" % (os.path.islink("h"), os.lstat("l").st_nlink)


@case
def link_updates_ctime():
    put("a")
    _, c0 = times("a")
    tick()
    os.link("a", "b")
    _, c1 = times("a")
    return "ctime_advanced=%s" % advanced(c0, c1)


@case
def unlink_of_other_name_updates_ctime():
    put("a")
    os.link("a", "b")
    _, c0 = times("a")
    tick()
    os.unlink("b")
    _, c1 = times("a")
    return "ctime_advanced=%s" % advanced(c0, c1)


@case
def hard_link_after_rename_of_directory():
    os.mkdir("d")
    put("d/f", b"x")
    os.link("d/f", "g")
    os.rename("d", "e")
    return "nlink=%d data=%r" % (os.stat("e/f").st_nlink, get("g"))


# ---------------------------------------------------------------------------------------------
# symbolic links


@case
def symlink_and_readlink():
    os.symlink("some/target", "l")
    return "target=%r" % os.readlink("l")


@case
def symlink_lstat_versus_stat():
    put("t", b"12345")
    os.symlink("t", "l")
    ls, st = os.lstat("l"), os.stat("l")
    return "lstat_link=%s lstat_size=%d stat_reg=%s stat_size=%d" % (
        stat.S_ISLNK(ls.st_mode), ls.st_size, stat.S_ISREG(st.st_mode), st.st_size)


@case
def symlink_permission_bits_are_0777():
    os.symlink("t", "l")
    return "perm=%s" % oct(stat.S_IMODE(os.lstat("l").st_mode))


@case
def symlink_read_through():
    put("t", b"via symlink")
    os.symlink("t", "l")
    return "data=%r" % get("l")


@case
def dangling_symlink_open_is_enoent():
    os.symlink("nowhere", "l")
    return "open=%s lstat=%s" % (r(os.open, "l", os.O_RDONLY), r(os.lstat, "l"))


@case
def symlink_loop_is_eloop():
    os.symlink("b", "a")
    os.symlink("a", "b")
    return r(os.open, "a", os.O_RDONLY)


@case
def symlink_to_itself_is_eloop():
    os.symlink("self", "self")
    return r(os.stat, "self")


@case
def symlink_onto_existing_is_eexist():
    put("f")
    return r(os.symlink, "x", "f")


@case
def readlink_of_file_is_einval():
    put("f")
    return r(os.readlink, "f")


@case
def readlink_missing_is_enoent():
    return r(os.readlink, "missing")


@case
def symlink_relative_to_its_directory():
    os.mkdir("d")
    put("t", b"parent")
    os.symlink("../t", "d/l")
    return "data=%r" % get("d/l")


@case
def symlink_to_directory_traversal():
    os.makedirs("d/e")
    put("d/e/f", b"in dir")
    os.symlink("d", "l")
    return "data=%r isdir=%s names=%s" % (get("l/e/f"), os.path.isdir("l"), os.listdir("l"))


@case
def symlink_chain():
    put("t", b"end")
    os.symlink("t", "l1")
    os.symlink("l1", "l2")
    os.symlink("l2", "l3")
    return "data=%r" % get("l3")


@case
def symlink_long_target():
    target = "/".join(["segment%03d" % i for i in range(400)])[:4000]
    os.symlink(target, "l")
    back = os.readlink("l")
    return "equal=%s size=%d" % (back == target, os.lstat("l").st_size)


@case
def symlink_non_utf8_target():
    target = b"caf\xe9/\xff"
    os.symlink(target, b"l")
    return "target=%r" % os.readlink(b"l")


@case
def symlink_absolute_target():
    put("t", b"absolute")
    os.symlink(os.path.abspath("t"), "l")
    return "data=%r" % get("l")


@case
def unlink_symlink_keeps_target():
    put("t", b"kept")
    os.symlink("t", "l")
    os.unlink("l")
    return "link=%s target=%r" % (os.path.lexists("l"), get("t"))


@case
def o_nofollow_on_symlink_is_eloop():
    put("t")
    os.symlink("t", "l")
    return r(os.open, "l", os.O_RDONLY | os.O_NOFOLLOW)


@case
def chmod_through_symlink_changes_target():
    put("t", mode=0o644)
    os.symlink("t", "l")
    os.chmod("l", 0o600)
    return "target=%s link_perm=%s" % (oct_mode("t"), oct(stat.S_IMODE(os.lstat("l").st_mode)))


@case
def lchown_changes_link_not_target():
    put("t")
    os.symlink("t", "l")
    os.chown("l", 1234, 5678, follow_symlinks=False)
    ls, st = os.lstat("l"), os.stat("t")
    return "link=%d:%d target=%d:%d" % (ls.st_uid, ls.st_gid, st.st_uid, st.st_gid)


@case
def lutimes_changes_link_not_target():
    put("t")
    os.symlink("t", "l")
    os.utime("l", ns=(1_000_000_000_000_000_001, 1_000_000_000_000_000_002), follow_symlinks=False)
    return "link_mtime=%d target_changed=%s" % (os.lstat("l").st_mtime_ns,
                                                  os.stat("t").st_mtime_ns == 1_000_000_000_000_000_002)


# ---------------------------------------------------------------------------------------------
# FIFOs


@case
def mkfifo_makes_a_fifo():
    os.mkfifo("p", 0o640)
    st = os.stat("p")
    return "fifo=%s mode=%s" % (stat.S_ISFIFO(st.st_mode), oct(st.st_mode))


@case
def mkfifo_existing_is_eexist():
    os.mkfifo("p")
    return r(os.mkfifo, "p")


@case
def fifo_carries_data_between_processes():
    os.mkfifo("p")

    def writer():
        fd = os.open("p", os.O_WRONLY)
        os.write(fd, b"through the pipe")
        os.close(fd)
        return "ok"

    rd_fd = os.open("p", os.O_RDONLY | os.O_NONBLOCK)
    res = in_child(writer)
    got = os.read(rd_fd, 100)
    os.close(rd_fd)
    return "writer=%s data=%r size=%d" % (res, got, os.stat("p").st_size)


@case
def mknod_fifo():
    os.mknod("p", stat.S_IFIFO | 0o600)
    return "mode=%s" % oct_mode("p")


# ---------------------------------------------------------------------------------------------
# modes, ownership, permissions


@case
def chmod_sets_mode_bits():
    put("f")
    os.chmod("f", 0o640)
    return "mode=%s" % oct_mode("f")


@case
def chmod_keeps_file_type_of_directory():
    os.mkdir("d")
    os.chmod("d", 0o700)
    return "mode=%s" % oct_mode("d")


@case
def chmod_special_bits():
    put("f")
    os.chmod("f", 0o6755)
    os.mkdir("d")
    os.chmod("d", 0o1777)
    return "file=%s dir=%s" % (oct_mode("f"), oct_mode("d"))


@case
def chmod_zero_root_can_still_read():
    put("f", b"root reads")
    os.chmod("f", 0)
    return "mode=%s data=%r" % (oct_mode("f"), get("f"))


@case
def fchmod_on_open_fd():
    fd = os.open("f", os.O_WRONLY | os.O_CREAT, 0o644)
    os.fchmod(fd, 0o604)
    mode = oct(os.fstat(fd).st_mode)
    os.close(fd)
    return "fstat=%s stat=%s" % (mode, oct_mode("f"))


@case
def chmod_missing_is_enoent():
    return r(os.chmod, "missing", 0o644)


@case
def umask_applied_on_create():
    old = os.umask(0o027)
    try:
        put("f", b"", 0o666)
        os.mkdir("d", 0o777)
        os.mkfifo("p", 0o666)
    finally:
        os.umask(old)
    return "file=%s dir=%s fifo=%s" % (oct_mode("f"), oct_mode("d"), oct_mode("p"))


@case
def umask_zero_keeps_all_bits():
    old = os.umask(0)
    try:
        put("f", b"", 0o777)
        os.mkdir("d", 0o777)
    finally:
        os.umask(old)
    return "file=%s dir=%s" % (oct_mode("f"), oct_mode("d"))


@case
def chown_sets_owner_and_group():
    put("f")
    os.chown("f", 1234, 5678)
    st = os.stat("f")
    return "uid=%d gid=%d" % (st.st_uid, st.st_gid)


@case
def chown_minus_one_keeps_field():
    put("f")
    os.chown("f", 1234, 5678)
    os.chown("f", -1, 42)
    a = os.stat("f")
    os.chown("f", 7, -1)
    b = os.stat("f")
    return "after_gid_only=%d:%d after_uid_only=%d:%d" % (a.st_uid, a.st_gid, b.st_uid, b.st_gid)


@case
def chown_clears_setuid_bit():
    put("f")
    os.chmod("f", 0o4755)
    os.chown("f", 1234, -1)
    return "mode=%s" % oct_mode("f")


@case
def chown_directory():
    os.mkdir("d")
    os.chown("d", 99, 98)
    st = os.stat("d")
    return "uid=%d gid=%d mode=%s" % (st.st_uid, st.st_gid, oct(st.st_mode))


@case
def access_as_root():
    put("f", mode=0o644)
    put("x", mode=0o744)
    return "F=%s R=%s W=%s X=%s X_exec=%s" % (os.access("f", os.F_OK), os.access("f", os.R_OK),
                                              os.access("f", os.W_OK), os.access("f", os.X_OK),
                                              os.access("x", os.X_OK))


@case
def access_missing_is_false():
    return "F=%s" % os.access("missing", os.F_OK)


@case
def access_as_nobody():
    put("r", mode=0o644)
    put("x", mode=0o755)
    put("p", mode=0o600)

    def check():
        return "r_R=%s r_W=%s x_X=%s p_R=%s r_X=%s" % (os.access("r", os.R_OK), os.access("r", os.W_OK),
                                                     os.access("x", os.X_OK), os.access("p", os.R_OK),
                                                     os.access("r", os.X_OK))
    return as_nobody(check)


@case
def nobody_open_for_write_of_0444_is_eacces():
    put("f", b"ro", 0o444)
    return as_nobody(lambda: r(os.open, "f", os.O_WRONLY))


@case
def nobody_open_own_0444_file_for_write_is_eacces():
    os.chmod(".", 0o777)
    put("f", b"ro", 0o444)
    os.chown("f", NOBODY, NOBODY)
    return as_nobody(lambda: r(os.open, "f", os.O_WRONLY))


@case
def root_opens_0444_for_write():
    put("f", b"ro", 0o444)
    return r(lambda: os.close(os.open("f", os.O_WRONLY)))


@case
def nobody_read_of_0600_root_file_is_eacces():
    put("f", b"secret", 0o600)
    return as_nobody(lambda: r(os.open, "f", os.O_RDONLY))


@case
def nobody_reads_0644_file():
    put("f", b"public", 0o644)
    return as_nobody(lambda: "data=%r" % get("f"))


@case
def nobody_create_in_root_0755_dir_is_eacces():
    return as_nobody(lambda: r(os.open, "f", os.O_WRONLY | os.O_CREAT, 0o644))


@case
def nobody_create_in_0777_dir_owns_file():
    os.mkdir("d")
    os.chmod("d", 0o777)

    def go():
        put("d/f", b"mine")
        st = os.stat("d/f")
        return "uid=%d gid=%d mode=%s" % (st.st_uid, st.st_gid, oct(st.st_mode))
    return as_nobody(go)


@case
def nobody_mkdir_symlink_owner():
    os.chmod(".", 0o777)

    def go():
        os.mkdir("d")
        os.symlink("t", "l")
        os.mkfifo("p")
        return " ".join("%s=%d:%d" % (n, os.lstat(n).st_uid, os.lstat(n).st_gid) for n in ("d", "l", "p"))
    return as_nobody(go)


@case
def nobody_create_0444_then_write_same_fd():
    os.chmod(".", 0o777)

    def go():
        fd = os.open("f", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        os.write(fd, b"ok")
        os.close(fd)
        return "data=%r" % get("f")
    return as_nobody(go)


@case
def nobody_unlink_in_root_0755_dir_is_eacces():
    put("f")
    return as_nobody(lambda: r(os.unlink, "f"))


@case
def nobody_unlink_root_file_in_0777_dir_works():
    os.chmod(".", 0o777)
    put("f")
    return as_nobody(lambda: r(os.unlink, "f"))


@case
def nobody_search_denied_in_0700_dir_is_eacces():
    os.mkdir("d", 0o700)
    put("d/f")
    return as_nobody(lambda: r(os.stat, "d/f"))


@case
def nobody_listdir_of_0711_dir_is_eacces_but_stat_works():
    os.mkdir("d", 0o711)
    put("d/f")
    return as_nobody(lambda: "list=%s stat=%s" % (r(os.listdir, "d"), r(os.stat, "d/f")))


@case
def nobody_chmod_of_root_file_is_eperm():
    put("f")
    return as_nobody(lambda: r(os.chmod, "f", 0o777))


@case
def nobody_chown_is_eperm():
    os.chmod(".", 0o777)

    def go():
        put("f")
        return r(os.chown, "f", 0, 0)
    return as_nobody(go)


@case
def nobody_truncate_of_0644_root_file_is_eacces():
    put("f", b"abc", 0o644)
    return as_nobody(lambda: r(os.truncate, "f", 0))


@case
def nobody_utime_now_needs_write_permission():
    put("ro", mode=0o644)
    put("rw")
    os.chmod("rw", 0o666)
    return as_nobody(lambda: "ro=%s rw=%s" % (r(os.utime, "ro"), r(os.utime, "rw")))


@case
def nobody_utime_explicit_time_needs_ownership():
    put("rw")
    os.chmod("rw", 0o666)
    return as_nobody(lambda: r(os.utime, "rw", (1, 1)))


@case
def nobody_rename_in_root_dir_is_eacces():
    put("f")
    return as_nobody(lambda: r(os.rename, "f", "g"))


@case
def nobody_write_clears_setuid_bit():
    put("f", b"abc")
    os.chmod("f", 0o4777)

    def go():
        fd = os.open("f", os.O_WRONLY)
        os.write(fd, b"x")
        os.close(fd)
        return "ok"
    res = as_nobody(go)
    return "%s mode=%s" % (res, oct_mode("f"))


@case
def nobody_chmod_own_file():
    os.chmod(".", 0o777)

    def go():
        put("f")
        os.chmod("f", 0o600)
        return "mode=%s" % oct_mode("f")
    return as_nobody(go)


@case
def chmod_setgid_by_non_member_clears_bit():
    put("f")
    os.chown("f", NOBODY, 1234)
    return as_nobody(lambda: "%s mode=%s" % (r(os.chmod, "f", 0o2755), oct_mode("f")))


@case
def sticky_dir_non_owner_cannot_unlink():
    os.mkdir("d")
    os.chmod("d", 0o1777)
    put("d/f", b"root's")
    return as_nobody(lambda: r(os.unlink, "d/f"))


@case
def sticky_dir_non_owner_cannot_rename():
    os.mkdir("d")
    os.chmod("d", 0o1777)
    put("d/f", b"root's")
    return as_nobody(lambda: r(os.rename, "d/f", "d/g"))


@case
def sticky_dir_owner_can_unlink_own_file():
    os.mkdir("d")
    os.chmod("d", 0o1777)

    def go():
        put("d/mine")
        return r(os.unlink, "d/mine")
    return as_nobody(go)


@case
def setgid_dir_new_file_gets_dir_group():
    os.mkdir("d")
    os.chown("d", 0, 1234)
    os.chmod("d", 0o2775)
    put("d/f")
    return "gid=%d" % os.stat("d/f").st_gid


@case
def setgid_dir_new_subdir_inherits_group_and_bit():
    os.mkdir("d")
    os.chown("d", 0, 1234)
    os.chmod("d", 0o2775)
    os.mkdir("d/e")
    st = os.stat("d/e")
    return "gid=%d setgid=%s mode=%s" % (st.st_gid, bool(st.st_mode & stat.S_ISGID), oct(st.st_mode))


@case
def setgid_dir_new_symlink_and_fifo_get_dir_group():
    os.mkdir("d")
    os.chown("d", 0, 1234)
    os.chmod("d", 0o2775)
    os.symlink("x", "d/l")
    os.mkfifo("d/p")
    return "link_gid=%d fifo_gid=%d" % (os.lstat("d/l").st_gid, os.stat("d/p").st_gid)


@case
def setgid_dir_for_nobody():
    os.mkdir("d")
    os.chown("d", 0, 1234)
    os.chmod("d", 0o2777)

    def go():
        put("d/f")
        os.mkdir("d/e")
        return "file_gid=%d dir_gid=%d dir_setgid=%s" % (os.stat("d/f").st_gid, os.stat("d/e").st_gid,
                                                         bool(os.stat("d/e").st_mode & stat.S_ISGID))
    return as_nobody(go)


# ---------------------------------------------------------------------------------------------
# timestamps


@case
def new_file_times_are_equal():
    put("f")
    st = os.stat("f")
    return "a_eq_m=%s m_eq_c=%s" % (st.st_atime_ns == st.st_mtime_ns, st.st_mtime_ns == st.st_ctime_ns)


@case
def new_file_times_are_now():
    before = time.time_ns() - 2_000_000_000
    put("f")
    st = os.stat("f")
    after = time.time_ns() + 2_000_000_000
    return "mtime_now=%s ctime_now=%s" % (before <= st.st_mtime_ns <= after, before <= st.st_ctime_ns <= after)


@case
def write_updates_mtime_and_ctime():
    put("f", b"a")
    m0, c0 = times("f")
    tick()
    fd = os.open("f", os.O_WRONLY)
    os.write(fd, b"b")
    os.close(fd)
    m1, c1 = times("f")
    return "mtime_advanced=%s ctime_advanced=%s" % (advanced(m0, m1), advanced(c0, c1))


@case
def write_updates_mtime_seen_by_fstat_before_close():
    put("f", b"a")
    m0, _ = times("f")
    tick()
    fd = os.open("f", os.O_WRONLY)
    os.write(fd, b"b")
    m1 = os.fstat(fd).st_mtime_ns
    os.close(fd)
    return "mtime_advanced=%s" % advanced(m0, m1)


@case
def read_does_not_change_mtime_or_ctime():
    put("f", b"abc")
    m0, c0 = times("f")
    tick()
    get("f")
    m1, c1 = times("f")
    return "mtime_same=%s ctime_same=%s" % (m0 == m1, c0 == c1)


@case
def open_close_without_write_keeps_mtime():
    put("f", b"abc")
    m0, c0 = times("f")
    tick()
    os.close(os.open("f", os.O_WRONLY))
    m1, c1 = times("f")
    return "mtime_same=%s ctime_same=%s" % (m0 == m1, c0 == c1)


@case
def utime_sets_exact_nanoseconds():
    put("f")
    os.utime("f", ns=(1_234_567_891_123_456_789, 1_334_567_892_987_654_321))
    st = os.stat("f")
    return "atime_ns=%d mtime_ns=%d" % (st.st_atime_ns, st.st_mtime_ns)


@case
def utime_sets_whole_seconds():
    put("f")
    os.utime("f", (1000000000, 1500000000))
    st = os.stat("f")
    return "atime_ns=%d mtime_ns=%d" % (st.st_atime_ns, st.st_mtime_ns)


@case
def utime_before_1970():
    put("f")
    os.utime("f", ns=(-1_000_000_000, -86_400_500_000_000))
    st = os.stat("f")
    return "atime_ns=%d mtime_ns=%d" % (st.st_atime_ns, st.st_mtime_ns)


@case
def utime_on_directory():
    os.mkdir("d")
    os.utime("d", ns=(1_100_000_000_000_000_001, 1_200_000_000_000_000_002))
    st = os.stat("d")
    return "atime_ns=%d mtime_ns=%d" % (st.st_atime_ns, st.st_mtime_ns)


@case
def utime_now_sets_current_time():
    put("f")
    os.utime("f", ns=(1_000_000_000, 1_000_000_000))
    os.utime("f")
    now = time.time_ns()
    st = os.stat("f")
    return "atime_recent=%s mtime_recent=%s" % (abs(st.st_atime_ns - now) < 5_000_000_000,
                                                 abs(st.st_mtime_ns - now) < 5_000_000_000)


@case
def utimensat_omit_keeps_atime():
    put("f")
    os.utime("f", ns=(1_111_111_111_000_000_001, 1_222_222_222_000_000_002))
    ts = (ctypes.c_long * 4)(0, UTIME_OMIT, 1_333_333_333, 3)
    rc = libc.utimensat(AT_FDCWD, b"f", ts, 0)
    st = os.stat("f")
    return "rc=%d atime_ns=%d mtime_ns=%d" % (rc, st.st_atime_ns, st.st_mtime_ns)


@case
def futimens_on_open_fd():
    fd = os.open("f", os.O_WRONLY | os.O_CREAT, 0o644)
    os.utime(fd, ns=(1_500_000_000_000_000_005, 1_600_000_000_000_000_006))
    os.close(fd)
    st = os.stat("f")
    return "atime_ns=%d mtime_ns=%d" % (st.st_atime_ns, st.st_mtime_ns)


@case
def utime_then_write_then_close_moves_mtime():
    put("f", b"a")
    os.utime("f", ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    fd = os.open("f", os.O_WRONLY)
    os.write(fd, b"b")
    os.close(fd)
    return "mtime_moved=%s" % (os.stat("f").st_mtime_ns != 1_000_000_000_000_000_000)


@case
def write_then_utime_on_open_fd_sticks():
    fd = os.open("f", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"data")
    os.utime("f", ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    os.close(fd)
    return "mtime_ns=%d" % os.stat("f").st_mtime_ns


@case
def mtime_at_write_is_kept_by_close():
    put("f", b"a")
    tick()
    fd = os.open("f", os.O_WRONLY)
    os.write(fd, b"b")
    at_write = os.fstat(fd).st_mtime_ns
    tick()
    os.close(fd)
    return "same_after_close=%s" % (os.stat("f").st_mtime_ns == at_write)


@case
def times_stable_across_cache_expiry():
    put("f", b"abc")
    first = os.stat("f")
    time.sleep(1.2)  # past any attribute cache
    again = os.stat("f")
    return "mtime_same=%s ctime_same=%s size_same=%s" % (first.st_mtime_ns == again.st_mtime_ns,
                                                         first.st_ctime_ns == again.st_ctime_ns,
                                                         first.st_size == again.st_size)


@case
def chmod_updates_ctime():
    put("f")
    _, c0 = times("f")
    tick()
    os.chmod("f", 0o600)
    _, c1 = times("f")
    return "ctime_advanced=%s" % advanced(c0, c1)


@case
def chown_updates_ctime():
    put("f")
    _, c0 = times("f")
    tick()
    os.chown("f", 1000, 1000)
    _, c1 = times("f")
    return "ctime_advanced=%s" % advanced(c0, c1)


@case
def utime_updates_ctime():
    put("f")
    _, c0 = times("f")
    tick()
    os.utime("f", (12345, 67890))
    _, c1 = times("f")
    return "ctime_advanced=%s" % advanced(c0, c1)


@case
def chmod_does_not_change_mtime():
    put("f")
    m0, _ = times("f")
    tick()
    os.chmod("f", 0o600)
    m1, _ = times("f")
    return "mtime_same=%s" % (m0 == m1)


@case
def rename_keeps_mtime_of_file():
    put("f")
    os.utime("f", ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    os.rename("f", "g")
    return "mtime_ns=%d" % os.stat("g").st_mtime_ns


# ---------------------------------------------------------------------------------------------
# extended attributes


@case
def xattr_set_and_get():
    put("f")
    os.setxattr("f", "user.color", b"blue")
    return "value=%r" % os.getxattr("f", "user.color")


@case
def xattr_list():
    put("f")
    os.setxattr("f", "user.a", b"1")
    os.setxattr("f", "user.b", b"2")
    return "names=%s" % user_xattrs("f")


@case
def xattr_list_of_new_file_is_empty():
    put("f")
    return "names=%s" % user_xattrs("f")


@case
def xattr_remove():
    put("f")
    os.setxattr("f", "user.a", b"1")
    os.removexattr("f", "user.a")
    return "names=%s get=%s" % (user_xattrs("f"), r(os.getxattr, "f", "user.a"))


@case
def xattr_get_missing_is_enodata():
    put("f")
    return r(os.getxattr, "f", "user.missing")


@case
def xattr_remove_missing_is_enodata():
    put("f")
    return r(os.removexattr, "f", "user.missing")


@case
def xattr_get_with_too_small_buffer_is_erange():
    put("f")
    os.setxattr("f", "user.a", b"longer than one byte")
    return c_getxattr("f", "user.a", 1)


@case
def xattr_size_query_returns_length():
    put("f")
    os.setxattr("f", "user.a", b"12345")
    return c_getxattr("f", "user.a", 0)


@case
def xattr_list_with_too_small_buffer_is_erange():
    put("f")
    os.setxattr("f", "user.a", b"1")
    return c_listxattr("f", 1)


@case
def xattr_create_on_existing_is_eexist():
    put("f")
    os.setxattr("f", "user.a", b"1")
    res = r(os.setxattr, "f", "user.a", b"2", os.XATTR_CREATE)
    return "%s value=%r" % (res, os.getxattr("f", "user.a"))


@case
def xattr_create_new_works():
    put("f")
    res = r(os.setxattr, "f", "user.a", b"new", os.XATTR_CREATE)
    return "%s value=%r" % (res, os.getxattr("f", "user.a"))


@case
def xattr_replace_missing_is_enodata():
    put("f")
    return r(os.setxattr, "f", "user.a", b"1", os.XATTR_REPLACE)


@case
def xattr_replace_existing_works():
    put("f")
    os.setxattr("f", "user.a", b"old")
    res = r(os.setxattr, "f", "user.a", b"newer", os.XATTR_REPLACE)
    return "%s value=%r" % (res, os.getxattr("f", "user.a"))


@case
def xattr_overwrite_without_flags():
    put("f")
    os.setxattr("f", "user.a", b"first value")
    os.setxattr("f", "user.a", b"2nd")
    return "value=%r" % os.getxattr("f", "user.a")


@case
def xattr_binary_value():
    put("f")
    value = bytes(range(256))
    os.setxattr("f", "user.bin", value)
    return "equal=%s" % (os.getxattr("f", "user.bin") == value)


@case
def xattr_empty_value():
    put("f")
    os.setxattr("f", "user.empty", b"")
    return "value=%r names=%s" % (os.getxattr("f", "user.empty"), user_xattrs("f"))


@case
def xattr_one_kib_value():
    put("f")
    value = pattern(1024, 9)
    os.setxattr("f", "user.big", value)
    return "equal=%s" % (os.getxattr("f", "user.big") == value)


@case
def xattr_many_names():
    put("f")
    for i in range(20):
        os.setxattr("f", "user.k%02d" % i, b"v%d" % i)
    names = user_xattrs("f")
    return "count=%d values_ok=%s" % (len(names), all(os.getxattr("f", n) == b"v%d" % int(n[6:]) for n in names))


@case
def xattr_on_directory():
    os.mkdir("d")
    os.setxattr("d", "user.dir", b"yes")
    return "value=%r names=%s" % (os.getxattr("d", "user.dir"), user_xattrs("d"))


@case
def xattr_user_on_symlink_is_eperm():
    put("t")
    os.symlink("t", "l")
    return r(os.setxattr, "l", "user.a", b"1", follow_symlinks=False)


@case
def xattr_through_symlink_reaches_target():
    put("t")
    os.symlink("t", "l")
    os.setxattr("l", "user.a", b"via link")
    return "value=%r" % os.getxattr("t", "user.a")


@case
def xattr_list_on_symlink_itself_is_empty():
    put("t")
    os.setxattr("t", "user.a", b"1")
    os.symlink("t", "l")
    return "link=%s target=%s" % (user_xattrs("l", follow=False), user_xattrs("l"))


@case
def xattr_on_open_fd():
    fd = os.open("f", os.O_RDWR | os.O_CREAT, 0o644)
    os.setxattr(fd, "user.fd", b"fset")
    value = os.getxattr(fd, "user.fd")
    names = sorted(n for n in os.listxattr(fd) if n.startswith("user."))
    os.close(fd)
    return "value=%r names=%s" % (value, names)


@case
def xattr_survives_rename():
    put("a")
    os.setxattr("a", "user.keep", b"moved")
    os.rename("a", "b")
    return "value=%r" % os.getxattr("b", "user.keep")


@case
def xattr_shared_by_hard_links():
    put("a")
    os.link("a", "b")
    os.setxattr("a", "user.shared", b"inode")
    return "value=%r" % os.getxattr("b", "user.shared")


@case
def xattr_survives_write_and_truncate():
    put("f", b"abc")
    os.setxattr("f", "user.keep", b"1")
    put("f", b"rewritten")
    os.truncate("f", 2)
    return "value=%r" % os.getxattr("f", "user.keep")


@case
def xattr_name_too_long_is_erange():
    put("f")
    return r(os.setxattr, "f", "user." + "n" * 251, b"1")


@case
def xattr_unknown_namespace_is_eopnotsupp():
    put("f")
    return r(os.setxattr, "f", "bogus.name", b"1")


@case
def xattr_trusted_namespace_as_root():
    put("f")
    os.setxattr("f", "trusted.t", b"root only")
    return "value=%r" % os.getxattr("f", "trusted.t")


@case
def xattr_nobody_set_on_root_0644_file_is_eacces():
    put("f", mode=0o644)
    return as_nobody(lambda: r(os.setxattr, "f", "user.a", b"1"))


@case
def xattr_nobody_reads_readable_file():
    put("f", mode=0o644)
    os.setxattr("f", "user.pub", b"readable")
    return as_nobody(lambda: "value=%r" % os.getxattr("f", "user.pub"))


@case
def xattr_set_updates_ctime():
    put("f")
    _, c0 = times("f")
    tick()
    os.setxattr("f", "user.a", b"1")
    _, c1 = times("f")
    return "ctime_advanced=%s" % advanced(c0, c1)


@case
def xattr_on_fifo_user_namespace_is_eperm():
    os.mkfifo("p")
    return r(os.setxattr, "p", "user.a", b"1")


@case
def xattr_gone_after_file_replaced():
    put("a")
    os.setxattr("a", "user.old", b"1")
    put("b")
    os.rename("b", "a")
    return "names=%s" % user_xattrs("a")


# ---------------------------------------------------------------------------------------------
# locks


@case
def flock_exclusive_twice_from_two_fds():
    put("f")
    a = os.open("f", os.O_RDWR)
    b = os.open("f", os.O_RDWR)
    fcntl.flock(a, fcntl.LOCK_EX | fcntl.LOCK_NB)
    res = r(fcntl.flock, b, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(a)
    os.close(b)
    return res


@case
def flock_exclusive_from_two_processes():
    put("f")
    fd = os.open("f", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def other():
        fd2 = os.open("f", os.O_RDWR)
        return r(fcntl.flock, fd2, fcntl.LOCK_EX | fcntl.LOCK_NB)
    res = in_child(other)
    os.close(fd)
    return res


@case
def flock_shared_twice_works():
    put("f")
    a = os.open("f", os.O_RDONLY)
    b = os.open("f", os.O_RDONLY)
    fcntl.flock(a, fcntl.LOCK_SH | fcntl.LOCK_NB)
    res = r(fcntl.flock, b, fcntl.LOCK_SH | fcntl.LOCK_NB)
    excl = r(fcntl.flock, b, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(a)
    os.close(b)
    return "shared=%s upgrade_blocked=%s" % (res, excl)


@case
def flock_released_by_unlock_and_close():
    put("f")
    a = os.open("f", os.O_RDWR)
    b = os.open("f", os.O_RDWR)
    fcntl.flock(a, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fcntl.flock(a, fcntl.LOCK_UN)
    after_unlock = r(fcntl.flock, b, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fcntl.flock(b, fcntl.LOCK_UN)
    fcntl.flock(a, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(a)
    after_close = r(fcntl.flock, b, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(b)
    return "after_unlock=%s after_close=%s" % (after_unlock, after_close)


@case
def fcntl_setlk_conflict_between_processes():
    put("f", b"x" * 100)
    fd = os.open("f", os.O_RDWR)
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)

    def other():
        fd2 = os.open("f", os.O_RDWR)
        return "overlap=%s disjoint=%s" % (r(fcntl.lockf, fd2, fcntl.LOCK_EX | fcntl.LOCK_NB, 5, 5),
                                           r(fcntl.lockf, fd2, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 50))
    res = in_child(other)
    os.close(fd)
    return res


@case
def fcntl_shared_locks_coexist():
    put("f", b"x" * 10)
    fd = os.open("f", os.O_RDONLY)
    fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)

    def other():
        fd2 = os.open("f", os.O_RDWR)
        return "shared=%s exclusive=%s" % (r(fcntl.lockf, fd2, fcntl.LOCK_SH | fcntl.LOCK_NB),
                                           r(fcntl.lockf, fd2, fcntl.LOCK_EX | fcntl.LOCK_NB))
    res = in_child(other)
    os.close(fd)
    return res


@case
def fcntl_getlk_reports_holder():
    put("f", b"x" * 10)

    def holder(stop_fd, ready_fd):
        fd = os.open("f", os.O_RDWR)
        fcntl.lockf(fd, fcntl.LOCK_EX, 0, 0)
        os.write(ready_fd, b"r")
        wait_stop(stop_fd)
        os.close(fd)
        return "ok"

    bg = Background(holder)
    bg.wait_ready()
    fd = os.open("f", os.O_RDWR)
    req = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    got = fcntl.fcntl(fd, fcntl.F_GETLK, req)
    l_type, _, _, _, l_pid = struct.unpack("hhqqi4x", got)
    os.close(fd)
    pid = bg.pid
    bg.result()
    return "type_wrlck=%s pid_matches=%s" % (l_type == fcntl.F_WRLCK, l_pid == pid)


@case
def fcntl_lock_released_when_holder_exits():
    put("f", b"x")
    in_child(lambda: (fcntl.lockf(os.open("f", os.O_RDWR), fcntl.LOCK_EX), "ok")[1])
    fd = os.open("f", os.O_RDWR)
    res = r(fcntl.lockf, fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(fd)
    return res


# ---------------------------------------------------------------------------------------------
# sync and statvfs


@case
def fsync_returns_zero():
    fd = os.open("f", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"sync me")
    res = r(os.fsync, fd)
    os.close(fd)
    return res


@case
def fdatasync_returns_zero():
    fd = os.open("f", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"sync me")
    res = r(os.fdatasync, fd)
    os.close(fd)
    return res


@case
def fsync_then_other_process_reads_while_open():
    fd = os.open("f", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"durable")
    os.fsync(fd)
    res = in_child(lambda: "data=%r" % get("f"))
    os.close(fd)
    return res


@case
def sync_returns():
    put("f", b"x")
    os.sync()
    return "ok"


@case
def statvfs_reports_capacity():
    st = os.statvfs(".")
    return "blocks_nonzero=%s bfree_le_blocks=%s bavail_le_bfree=%s frsize_positive=%s" % (
        st.f_blocks > 0, st.f_bfree <= st.f_blocks, st.f_bavail <= st.f_bfree, st.f_frsize > 0)


@case
def statvfs_namemax_is_255():
    return "namemax=%d" % os.statvfs(".").f_namemax


@case
def fstatvfs_on_open_file():
    put("f")
    fd = os.open("f", os.O_RDONLY)
    st = os.fstatvfs(fd)
    os.close(fd)
    return "blocks_nonzero=%s namemax=%d" % (st.f_blocks > 0, st.f_namemax)


@case
def statvfs_files_counts():
    st = os.statvfs(".")
    return "ffree_le_files=%s" % (st.f_ffree <= st.f_files)


# ---------------------------------------------------------------------------------------------
# inode numbers and stat fields


@case
def ino_matches_readdir():
    put("f")
    os.mkdir("d")
    os.symlink("f", "l")
    os.mkfifo("p")
    ok = all(e.inode() == os.lstat(e.name).st_ino for e in os.scandir("."))
    return "ino_matches_readdir=%s" % ok


@case
def ino_stable_across_calls():
    put("f")
    first = os.stat("f").st_ino
    time.sleep(1.2)  # past any attribute or name cache
    return "stable=%s" % (first == os.stat("f").st_ino == os.lstat("f").st_ino)


@case
def ino_unique_among_files():
    for i in range(100):
        put("f%d" % i)
    for i in range(20):
        os.mkdir("d%d" % i)
    inos = [os.lstat(n).st_ino for n in os.listdir(".")]
    return "unique=%s count=%d" % (len(set(inos)) == len(inos), len(inos))


@case
def ino_kept_by_rename_and_chmod():
    put("f")
    ino = os.stat("f").st_ino
    os.chmod("f", 0o600)
    os.rename("f", "g")
    os.mkdir("d")
    os.rename("g", "d/h")
    return "kept=%s" % (os.stat("d/h").st_ino == ino)


@case
def fstat_matches_stat():
    put("f", b"abc")
    fd = os.open("f", os.O_RDONLY)
    a, b = os.fstat(fd), os.stat("f")
    os.close(fd)
    return "ino=%s mode=%s size=%s nlink=%s uid=%s" % (a.st_ino == b.st_ino, a.st_mode == b.st_mode,
                                                       a.st_size == b.st_size, a.st_nlink == b.st_nlink,
                                                       a.st_uid == b.st_uid)


@case
def same_device_for_all_entries():
    put("f")
    os.mkdir("d")
    put("d/g")
    return "same_dev=%s" % (os.stat("f").st_dev == os.stat("d").st_dev == os.stat("d/g").st_dev == os.stat(".").st_dev)


@case
def regular_file_nlink_and_blksize():
    put("f")
    st = os.stat("f")
    return "nlink=%d blksize_positive=%s" % (st.st_nlink, st.st_blksize > 0)


@case
def new_name_after_unlink_is_a_new_file():
    put("f", b"old")
    os.chmod("f", 0o600)
    os.unlink("f")
    put("f", b"n")
    return "mode=%s data=%r" % (oct_mode("f"), get("f"))


# ---------------------------------------------------------------------------------------------
# runner


def handle_alarm(signum, frame):
    raise TimeoutError()


def run_case(root, fn):
    os.chdir(root)
    try:
        os.mkdir(fn.__name__, 0o755)
        os.chdir(fn.__name__)
    except OSError as e:
        return "setup:" + ename(e)
    signal.alarm(CASE_TIMEOUT_S)
    try:
        res = fn()
    except TimeoutError:
        res = "TIMEOUT"
    except OSError as e:
        res = "unexpected:" + ename(e)
    except Exception as e:  # noqa: BLE001 - a broken case must not hide the others
        res = "error:" + type(e).__name__
    finally:
        signal.alarm(0)
        os.chdir(root)
    return str(res).replace("\n", "\\n")


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: cases.py DIR [CASE...]\n")
        return 2
    root = os.path.abspath(sys.argv[1])
    wanted = set(sys.argv[2:])
    os.umask(0o022)
    os.chdir(root)
    os.chmod(".", 0o755)  # the unprivileged cases search it through their working directory
    signal.signal(signal.SIGALRM, handle_alarm)
    names = [fn.__name__ for fn in CASES]
    if len(names) != len(set(names)):
        sys.stderr.write("duplicate case names\n")
        return 2
    for fn in CASES:
        if wanted and fn.__name__ not in wanted:
            continue
        print("%s: %s" % (fn.__name__, run_case(root, fn)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
