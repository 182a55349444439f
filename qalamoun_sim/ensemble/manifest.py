"""The manifest of a results folder: every file with its size and SHA-256, the scenario hash, seed and chunk plan.

``manifest.json`` is what a results folder knows of itself. A run writes it first (its header and
chunk plan, no files yet) and again, atomically, after each file it adds, so a file is listed only
once it is whole on disk. ``--resume`` and the :class:`~qalamoun_sim.ensemble.Ensemble` reader trust
a file only when the manifest lists it with its size and hash; anything else in the folder does not
belong to the run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ResultsError
from ..io import os_problem, write_json

__all__ = ["MANIFEST", "MANIFEST_FORMAT", "Manifest", "file_entry"]

#: The manifest's file name, at the top of the results folder.
MANIFEST = "manifest.json"
#: Bumped when the folder's layout changes: 2, one folder per table (``towns/chunk-00000.parquet``);
#: 1, qalamoun-sim 0.1.0's ``chunks/chunk-00000-towns.parquet`` (read, never written).
MANIFEST_FORMAT = 2
_FORMATS = (1, 2)
_HEADER_KEYS = ("package", "version", "scenario", "seed", "replications", "chunk_size")


def file_entry(data: bytes) -> dict[str, Any]:
    """What the manifest records of a file: its size in bytes and its SHA-256.

    Examples
    --------
    >>> file_entry(b"abc")["size"], file_entry(b"abc")["sha256"][:12]
    (3, 'ba7816bf8f01')
    """
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


@dataclass
class Manifest:
    """A results folder's header, chunk plan and files (relative POSIX path to size and SHA-256).

    Examples
    --------
    >>> m = Manifest({"seed": 1, "replications": 2, "chunk_size": 1}, [(0, 1), (1, 2)])
    >>> m.record("towns/a.parquet", b"xyz"); sorted(m.files)
    ['towns/a.parquet']
    >>> m.problem_with(b"xy", "towns/a.parquet")
    'truncated or changed: 2 bytes, the manifest says 3'
    """

    header: dict[str, Any]
    chunks: list[tuple[int, int]]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    format: int = MANIFEST_FORMAT

    def record(self, rel: str, data: bytes) -> None:
        """List ``rel`` with the size and hash of ``data`` (the bytes just written there)."""
        self.files[rel] = file_entry(data)

    def forget(self, rel: str) -> None:
        """Drop ``rel`` from the listing (a damaged file about to be redone)."""
        self.files.pop(rel, None)

    def problem_with(self, data: bytes, rel: str) -> str | None:
        """What is wrong with ``data`` as the content of ``rel``; None when it is what the manifest lists."""
        want = self.files.get(rel)
        if want is None:
            return "not in the manifest"
        if len(data) != want["size"]:
            return f"truncated or changed: {len(data)} bytes, the manifest says {want['size']}"
        if hashlib.sha256(data).hexdigest() != want["sha256"]:
            return "changed since it was written (SHA-256 differs from the manifest)"
        return None

    def check_file(self, folder: Path, rel: str) -> str | None:
        """:meth:`problem_with` the file on disk: a missing or unreadable file is a problem too."""
        want = self.files.get(rel)
        if want is None:
            return "not in the manifest"
        path = folder / rel
        try:
            if path.stat().st_size != want["size"]:  # the cheap test first
                return f"truncated or changed: {path.stat().st_size} bytes, the manifest says {want['size']}"
            data = path.read_bytes()
        except FileNotFoundError:
            return "missing"
        except OSError as exc:
            return f"cannot read: {os_problem(exc)}"
        return self.problem_with(data, rel)

    def to_json(self) -> dict[str, Any]:
        """The manifest as a JSON document."""
        return {"format": self.format, **self.header, "chunks": [list(c) for c in self.chunks],
                "files": dict(sorted(self.files.items()))}

    def write(self, folder: Path) -> None:
        """Write ``manifest.json`` atomically."""
        write_json(self.to_json(), folder / MANIFEST)

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """Read ``folder/manifest.json``.

        Raises
        ------
        ResultsError
            When it is missing, not JSON, or lacks a part (naming the folder and the problem).
        """
        path = folder / MANIFEST
        try:
            doc = json.loads(path.read_bytes())
        except FileNotFoundError:
            raise ResultsError(f"{folder}: no {MANIFEST}") from None
        except OSError as exc:
            raise ResultsError(f"{path}: cannot read: {os_problem(exc)}") from None
        except ValueError as exc:  # JSON or UTF-8
            raise ResultsError(f"{path}: damaged ({type(exc).__name__}); rerun with --overwrite "
                               "or another --out folder") from None
        return cls._from_json(doc, path)

    @classmethod
    def _from_json(cls, doc: Any, path: Path) -> Manifest:
        try:
            if doc.get("format") not in _FORMATS:
                raise ValueError(f"format {doc.get('format')!r}, this version reads "
                                 f"{' and '.join(map(str, _FORMATS))}")
            header = {k: doc[k] for k in _HEADER_KEYS}
            chunks = [(int(a), int(b)) for a, b in doc["chunks"]]
            files = {str(k): {"size": int(v["size"]), "sha256": str(v["sha256"])} for k, v in doc["files"].items()}
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ResultsError(f"{path}: damaged ({exc}); rerun with --overwrite or another --out folder") from None
        return cls(header, chunks, files, int(doc["format"]))
