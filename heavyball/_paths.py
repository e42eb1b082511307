"""Checks of output paths, made before any work so that a bad path never costs a computation.

:func:`check_file` and :func:`check_directory` raise ``ValueError`` naming the
flag or parameter, with the reason in words: the directory does not exist, a
component is a file, the target is a directory, or nothing can be created
there (tested by creating and removing a small file, since permission bits do
not tell: root ignores them, and read-only mounts or ``/proc`` refuse anyway).
"""

from __future__ import annotations

import os
import secrets

__all__ = ["check_file", "check_directory"]


def check_file(flag, path, suffixes):
    """Check that a file can be written at ``path`` (ending in one of ``suffixes``); returns ``path`` as str."""
    path = os.fspath(path)
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"`{flag}` must name a file, got {path!r}")
    if not path.lower().endswith(tuple(suffixes)):
        raise ValueError(f"`{flag}` must name a {' or '.join(suffixes)} file, got {path!r}")
    if os.path.isdir(path):
        raise ValueError(f"`{flag}` {path!r} is a directory; name a file inside it")
    parent = os.path.dirname(os.path.abspath(path))
    _writable(flag, path, parent)
    return path


def check_directory(flag, path):
    """Check that ``path`` is, or can be created as, a writable directory; returns it as str."""
    path = os.fspath(path)
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"`{flag}` must name a directory, got {path!r}")
    target = os.path.abspath(path)
    existing = target
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if existing == target and not os.path.isdir(target):
        raise ValueError(f"`{flag}` {path!r} is a file, not a directory")
    _writable(flag, path, existing)
    return path


def _writable(flag, path, directory):
    if not os.path.exists(directory):
        raise ValueError(f"`{flag}` {path!r}: the directory {directory!r} does not exist")
    if not os.path.isdir(directory):
        raise ValueError(f"`{flag}` {path!r}: {directory!r} is a file, not a directory")
    probe = os.path.join(directory, f".heavyball-write-test-{secrets.token_hex(4)}")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ValueError(f"`{flag}` {path!r}: cannot create files in {directory!r} "
                         f"({exc.strerror or type(exc).__name__})") from None
    os.close(fd)
    os.unlink(probe)
