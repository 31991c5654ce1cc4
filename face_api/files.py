"""Atomic file writes: a reader never sees a half-written output."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

FILE_MODE = 0o644


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to a temporary file next to ``path``, then rename it into place; return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(prefix=f".{target.name}.", suffix=".part", dir=target.parent, delete=False)
    try:
        with handle:
            handle.write(data)
        # NamedTemporaryFile creates the file with mode 0600; outputs should be readable like any other file.
        os.chmod(handle.name, FILE_MODE)
        os.replace(handle.name, target)
    finally:
        Path(handle.name).unlink(missing_ok=True)
    return target
