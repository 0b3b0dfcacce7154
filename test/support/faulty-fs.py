#!/usr/bin/python3
"""A FUSE file system that mirrors a folder and answers chosen operations on chosen paths with an errno.

The kernel hands the error to the caller as it would from a failing disk: a test sees a real EIO from
lstat, readdir, open or read, with no mock in the process under test.

    faulty-fs.py BACKING MOUNTPOINT RULES

RULES is a JSON file, read again whenever it is replaced (write a temp file, rename it over): {"getattr": {"/a/b.tif": "EIO"}, "readdir": {...},
"open": {...}, "read": {...}}, paths relative to the mount with a leading "/". It runs in the foreground
until unmounted; it prints "ready" once the mount is in place.
"""
import errno
import json
import os
import sys
import threading

from fusepy import FUSE, FuseOSError, Operations


class Faulty(Operations):
    use_ns = True

    def __init__(self, backing, rules_path):
        self.backing = backing
        self.rules_path = rules_path
        self.rules = {}
        self.rules_mtime = None
        self.rules_lock = threading.Lock()

    def _full(self, path):
        return os.path.join(self.backing, path.lstrip("/"))

    def _fail(self, op, path):
        try:
            st = os.stat(self.rules_path)
            mtime = (st.st_ino, st.st_mtime_ns)
        except FileNotFoundError:
            mtime = None
        with self.rules_lock:
            if mtime != self.rules_mtime:
                self.rules_mtime = mtime
                try:
                    with open(self.rules_path) as f:
                        self.rules = json.load(f)
                except (OSError, ValueError):
                    self.rules = {}
            code = self.rules.get(op, {}).get(path)
        if code:
            raise FuseOSError(getattr(errno, code))

    def getattr(self, path, fh=None):
        self._fail("getattr", path)
        st = os.lstat(self._full(path))
        keys = ("st_mode", "st_nlink", "st_uid", "st_gid", "st_size", "st_ino", "st_atime_ns", "st_mtime_ns", "st_ctime_ns")
        out = {k: getattr(st, k) for k in keys}
        for k in ("st_atime", "st_mtime", "st_ctime"):
            out[k] = out.pop(k + "_ns")
        return out

    def readdir(self, path, fh):
        self._fail("readdir", path)
        return [".", ".."] + os.listdir(self._full(path))

    def readlink(self, path):
        return os.readlink(self._full(path))

    def access(self, path, mode):
        if not os.access(self._full(path), mode):
            raise FuseOSError(errno.EACCES)

    def chmod(self, path, mode):
        os.chmod(self._full(path), mode)

    def chown(self, path, uid, gid):
        os.lchown(self._full(path), uid, gid)

    def mkdir(self, path, mode):
        os.mkdir(self._full(path), mode)

    def rmdir(self, path):
        os.rmdir(self._full(path))

    def unlink(self, path):
        os.unlink(self._full(path))

    def symlink(self, target, source):
        os.symlink(source, self._full(target))

    def rename(self, old, new):
        os.rename(self._full(old), self._full(new))

    def link(self, target, source):
        os.link(self._full(source), self._full(target))

    def utimens(self, path, times=None):
        os.utime(self._full(path), ns=times, follow_symlinks=False)

    def statfs(self, path):
        st = os.statvfs(self._full(path))
        keys = ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files", "f_flag", "f_frsize", "f_namemax")
        return {k: getattr(st, k) for k in keys}

    def open(self, path, flags):
        self._fail("open", path)
        return os.open(self._full(path), flags)

    def create(self, path, mode, fi=None):
        return os.open(self._full(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)

    def read(self, path, size, offset, fh):
        self._fail("read", path)
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        return os.pwrite(fh, data, offset)

    def truncate(self, path, length, fh=None):
        if fh is not None:
            os.ftruncate(fh, length)
        else:
            os.truncate(self._full(path), length)

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        os.close(fh)

    def fsync(self, path, datasync, fh):
        if datasync:
            os.fdatasync(fh)
        else:
            os.fsync(fh)

    def fsyncdir(self, path, datasync, fh):
        return 0

    def init(self, path):
        print("ready", flush=True)


if __name__ == "__main__":
    backing, mountpoint, rules = sys.argv[1:4]
    FUSE(
        Faulty(os.path.realpath(backing), rules),
        mountpoint,
        foreground=True,
        use_ino=True,
        attr_timeout=0,
        entry_timeout=0,
        negative_timeout=0,
        allow_other=True,
        direct_io=True,
    )
