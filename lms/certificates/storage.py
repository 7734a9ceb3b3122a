"""Where finished print jobs' files are kept, so that any web machine can hand them out.

A job's state (waiting, running, progress, done, the error) lives in the database. Its
finished file (the joined PDF or the ZIP) is saved under a key such as ``17/certificates.pdf``
through the small interface below. The default, :class:`LocalStorage`, is a directory:
``LMS_PRINT_STORAGE_DIR``, by default ``instance/print-jobs``. With several web machines,
point it at a directory they all mount (NFS, SMB, a cloud file share); an object store
(S3 and the like) would be another class with the same four methods, returned by
:func:`from_config`.

The chunks a worker renders on the way are scratch files on the worker's own disk (see
:mod:`lms.certificates.jobs`): a job taken over by a worker on another machine renders
them again.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any, BinaryIO, Protocol

#: A key is a relative path of plain names: no "..", no hidden files, no absolute paths.
_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")


class Storage(Protocol):
    def save(self, key: str, source: Path) -> None:
        """Keep the file ``source`` under ``key`` (replacing any file there), atomically:
        readers see the old file or the whole new one. ``source`` may be moved away."""

    def open(self, key: str) -> BinaryIO:
        """The file under ``key``, for reading; ``FileNotFoundError`` when there is none."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the file under ``key``; nothing happens when there is none."""


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key) or ".." in key.split("/"):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


class LocalStorage:
    """Files in a directory (local, or a mount shared by several machines)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def save(self, key: str, source: Path) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # What an earlier save of this key left behind when its process was killed.
        for stale in target.parent.glob(f".{target.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        if Path(source).resolve() == target.resolve():
            return
        try:
            # On one file system, a rename: atomic, and nothing to copy.
            os.replace(source, target)
            _fsync_directory(target.parent)
            return
        except OSError:
            pass
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with open(source, "rb") as reader, open(temporary, "wb") as writer:
                shutil.copyfileobj(reader, writer, 1024 * 1024)
                writer.flush()
                os.fsync(writer.fileno())
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        _fsync_directory(target.parent)
        Path(source).unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        return open(self.path(key), "rb")

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        path = self.path(key)
        path.unlink(missing_ok=True)
        # The key's directory goes with its last file (``17/`` for ``17/certificates.pdf``).
        parent = path.parent
        while parent != self.root and parent.is_relative_to(self.root):
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent


def _fsync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def from_config(config: Any) -> Storage:
    """The storage the app's configuration names (``PRINT_STORAGE_DIR``)."""
    return LocalStorage(config["PRINT_STORAGE_DIR"])
