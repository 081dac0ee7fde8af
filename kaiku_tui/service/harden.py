"""The service account's process, hardened (issue 16, item 7): not dumpable — so a person
cannot attach a debugger to it or read its memory through /proc, even a person whose
session it serves —, no core files, and files it creates readable by itself alone."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3


def harden() -> None:
    """Apply all three; a platform without prctl (not Linux) keeps the other two."""
    os.umask(0o077)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _prctl(PR_SET_DUMPABLE, 0)


def dumpable() -> bool | None:
    """Whether the process may be traced or dumped; None where prctl is missing."""
    result = _prctl(PR_GET_DUMPABLE, 0)
    return None if result is None else result != 0


def _prctl(option: int, arg: int) -> int | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name, use_errno=True)
    prctl = getattr(libc, "prctl", None)
    if prctl is None:
        return None
    result = int(prctl(option, arg, 0, 0, 0))
    if result < 0:
        raise OSError(ctypes.get_errno(), "prctl failed")
    return result
