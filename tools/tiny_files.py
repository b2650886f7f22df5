"""Safe writes into the shared model cache (~/.cache/gavel/tiny): several test processes may
ask for the same generated model at once (ctest -j, pytest), so a generator holds an exclusive
lock on the cache directory while it works (the others wait, then find the files made), and
every file is written under a unique temporary name and renamed into place, so no reader ever
sees a half-written file and no two writers share a temporary file."""
from __future__ import annotations

import contextlib
import fcntl
import os
import pathlib
import uuid


@contextlib.contextmanager
def locked(directory: pathlib.Path):
    """Exclusive lock on `directory` (created if missing) for the duration of the block."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".generate.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def atomic_path(path: pathlib.Path):
    """Yields a unique temporary path next to `path`; renames it to `path` when the block
    succeeds, removes it when it fails."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path: pathlib.Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
