"""Atomic file writes: a temporary file in the same folder, then ``os.replace``.

A reader never sees half a file, and an interrupted run leaves only whole files behind.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import StorageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["atomic_write", "write_parquet", "write_json", "write_text", "write_bytes", "read_json", "os_problem"]


def atomic_write(path: str | Path, writer: Callable[[Path], None]) -> Path:
    """Call ``writer(tmp_path)`` then move the temporary file onto ``path`` atomically.

    The temporary file is created by ``writer`` inside the ``try``: an interrupt (Ctrl-C) that lands
    anywhere, even just as the file appears, leaves no temporary file behind.

    Raises
    ------
    StorageError
        When the file system refuses (disk full, read-only, no permission), naming ``path``.
    """
    path = Path(path)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"  # a name only: no file yet
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        writer(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        _discard(tmp)
        raise StorageError(str(path), f"cannot write: {os_problem(exc)}") from None
    except BaseException:
        _discard(tmp)
        raise
    return path


def _discard(tmp: Path) -> None:
    """Remove a temporary file, whatever state the file system is in."""
    try:
        tmp.unlink(missing_ok=True)
    except OSError:  # pragma: no cover - a file system gone read-only under us
        pass


def os_problem(exc: OSError) -> str:
    """An OS error in a few words: ``No space left on device``, ``Read-only file system`` ..."""
    return str(exc.strerror or exc)


def write_bytes(data: bytes, path: str | Path) -> Path:
    """Write bytes, atomically."""
    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    return atomic_write(path, write)


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame as Parquet, atomically."""
    return atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))


def write_json(obj: Any, path: str | Path) -> Path:
    """Write JSON (indented, keys in insertion order), atomically."""
    return write_text(json.dumps(obj, indent=2, default=str) + "\n", path)


def write_text(text: str, path: str | Path) -> Path:
    """Write a text file, atomically."""
    def write(tmp: Path) -> None:
        tmp.write_text(text)

    return atomic_write(path, write)


def read_json(path: str | Path) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text())
