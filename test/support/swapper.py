#!/usr/bin/env python3
"""Swaps each given path with its partner (a symlink to outside files) atomically, in turn, until SIGTERM.

renameat2(RENAME_EXCHANGE) keeps the path present at every moment, as a real folder or as the symlink, so a
reader races the swap itself and never a missing name. On SIGTERM every real folder is put back, then it exits.
Usage: swapper.py PATH LINK [PATH LINK ...]
"""
import ctypes
import os
import signal
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
RENAME_EXCHANGE = 2
pairs = list(zip(sys.argv[1::2], sys.argv[2::2]))
stop = False


def exchange(a: str, b: str) -> None:
    if libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), RENAME_EXCHANGE) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), a)


def on_term(_signum, _frame) -> None:
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
while not stop:
    for path, link in pairs:
        if stop:
            break
        exchange(path, link)
        time.sleep(0.0005)
        exchange(path, link)
        time.sleep(0.0005)
# Each pair is swapped back within its turn; a pair left swapped by the signal is put right here.
for path, link in pairs:
    if os.path.islink(path):
        exchange(path, link)
