"""The results folder: its layout, its one writer, and what a run may do with what it finds there.

A folder holds ``manifest.json`` (:mod:`.manifest`), ``scenario.json``, ``summary.json`` and one
folder per table, ``TABLE/chunk-NNNNN.parquet``, a file per chunk of replications: each table folder is
a Parquet dataset that pandas, pyarrow, polars and duckdb read as one table (``pd.read_parquet("DIR/towns")``),
every file of it with the table's schema (:func:`~qalamoun_sim.engine.columns.arrow_schema`). A run holds a lock
on the folder (``.qalamoun-sim.lock``, the ``filelock`` package) from its checks to its last write,
so a second writer is refused at once. A fresh run needs an empty folder (or ``overwrite``, which
removes a previous run's files and nothing else); a resume needs the manifest of the same scenario,
seed and count, keeps every chunk whose files the manifest lists with their size and hash, and
redoes the rest. A folder of qalamoun-sim 0.1.0 (every file in ``chunks/``, see :mod:`.legacy`) is
read, never resumed.
"""

from __future__ import annotations

import datetime as dt
import errno
import re
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from .._version import __version__
from ..engine.columns import FOLDER_TABLES, to_arrow
from ..errors import ResultsError, StorageError
from ..io import os_problem, write_json
from ..scenario import Scenario, scenario_hash
from .legacy import LEGACY_DIR, LEGACY_RE
from .manifest import MANIFEST, Manifest

__all__ = ["CHUNK_TABLES", "CHUNK_RE", "LOCK_NAME", "ResultsFolder", "ResultsWarning", "chunk_path", "chunk_rel",
           "finished_chunks", "summary_header", "json_records", "now", "stray_files"]

#: The files of one chunk: a Parquet file per table and the per-replication summary, each in the table's folder.
CHUNK_TABLES: tuple[str, ...] = FOLDER_TABLES
#: The lock file a run holds (filelock); it is no result and no reason to call a folder non-empty.
LOCK_NAME = ".qalamoun-sim.lock"
_OURS = (MANIFEST, "summary.json", "scenario.json")
#: The name of a chunk file in its table's folder: its index.
CHUNK_RE = re.compile(r"^chunk-(\d{5})\.parquet$")


class ResultsWarning(UserWarning):
    """Something in a results folder was ignored or will be redone (a stray file, a damaged chunk)."""


def chunk_rel(index: int, table: str) -> str:
    """Where chunk ``index`` keeps ``table``, relative to the folder (the manifest's key).

    Examples
    --------
    >>> chunk_rel(3, "towns")
    'towns/chunk-00003.parquet'
    """
    return f"{table}/chunk-{index:05d}.parquet"


def chunk_path(folder: Path, index: int, table: str) -> Path:
    """Where chunk ``index`` keeps ``table``."""
    return folder / chunk_rel(index, table)


def summary_header(scenario: Scenario, seed: int, replications: int, chunk_size: int) -> dict[str, Any]:
    """What identifies a run: package, version, scenario (name, source, hash), seed, count, chunk size."""
    return {"package": "qalamoun-sim", "version": __version__,
            "scenario": {"name": scenario.scenario.name, "source": scenario.source_path,
                         "hash": scenario_hash(scenario)},
            "seed": seed, "replications": replications, "chunk_size": chunk_size}


def finished_chunks(folder: str | Path) -> set[int]:
    """Chunks whose every file the manifest lists and the disk holds whole (size and SHA-256 checked)."""
    folder = Path(folder)
    if not (folder / MANIFEST).exists():
        return set()
    manifest = Manifest.read(folder)
    return {i for i in range(len(manifest.chunks))
            if all(manifest.check_file(folder, chunk_rel(i, t)) is None for t in CHUNK_TABLES)}


def _storage(path: Path, what: str, exc: OSError) -> Exception:
    """An OS error as ours: a path through a file is bad input (exit 2), the rest the environment's (exit 1)."""
    if isinstance(exc, NotADirectoryError | FileExistsError) or exc.errno in (errno.ENOTDIR, errno.ENAMETOOLONG):
        return ResultsError(f"{path}: {what}: {os_problem(exc)}")
    return StorageError(str(path), f"{what}: {os_problem(exc)}")


class ResultsFolder:
    """One run's hold on a results folder: the lock, the manifest, the chunks already done.

    Open it with :meth:`open`; :meth:`write_chunk` and :meth:`write_json` add files (each written
    atomically, then listed in the manifest); :meth:`release` lets the next run in.
    """

    def __init__(self, path: Path, lock: Any, manifest: Manifest, done: set[int], created: bool) -> None:
        self.path, self._lock, self.manifest, self.done, self._created = path, lock, manifest, done, created

    @classmethod
    def open(cls, out: str | Path, header: dict[str, Any], chunks: list[tuple[int, int]], *, resume: bool,
             overwrite: bool) -> ResultsFolder:
        """Check and lock ``out`` for a run; a resume keeps the folder's chunk plan (``header`` is updated).

        Raises
        ------
        ResultsError
            A folder in use, not empty, not a results folder, or made by another scenario, seed or count.
        StorageError
            A folder that cannot be created or locked (permission, read-only file system).
        """
        path = Path(out)
        if path.exists() and not path.is_dir():
            raise ResultsError(f"{path}: is a file, not a folder")
        if resume and not path.is_dir():
            raise ResultsError(f"{path}: nothing to resume (no such folder)")
        created = not path.exists()
        if not created and not resume:
            _refuse_foreign(path, overwrite)  # before the lock file: a folder not ours stays untouched
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _storage(path, "cannot create folder", exc) from None
        lock = _acquire(path)
        try:
            if resume:
                manifest, done = _resume(path, header)
            else:
                _fresh(path, overwrite)
                manifest, done = Manifest(dict(header), list(chunks)), set()
        except BaseException:
            _release(lock, path, created)
            raise
        return cls(path, lock, manifest, done, created)

    def start(self, scenario_doc: dict[str, Any], summary: dict[str, Any]) -> None:
        """Write the manifest (header, plan, the files kept), the resolved scenario and a ``running`` summary."""
        self.manifest.write(self.path)
        self.write_json("scenario.json", scenario_doc)
        self.write_json("summary.json", summary)

    def write_chunk(self, index: int, frames: dict[str, pd.DataFrame]) -> None:
        """Write a chunk's files (one per :data:`CHUNK_TABLES`, each with its table's schema), then list them."""
        import io

        import pyarrow.parquet as pq

        from ..io import write_bytes

        for table in CHUNK_TABLES:
            buf = io.BytesIO()
            pq.write_table(to_arrow(frames[table], table), buf)
            data = buf.getvalue()
            write_bytes(data, chunk_path(self.path, index, table))
            self.manifest.record(chunk_rel(index, table), data)
        self.manifest.write(self.path)
        self.done.add(index)

    def listed_chunks(self) -> set[int]:
        """The chunks whose every file the manifest lists (each was whole on disk before it was listed)."""
        files = self.manifest.files
        return {i for i in range(len(self.manifest.chunks)) if all(chunk_rel(i, t) in files for t in CHUNK_TABLES)}

    def write_json(self, name: str, obj: Any) -> None:
        """Write a JSON file at the top of the folder and list it in the manifest."""
        path = write_json(obj, self.path / name)
        self.manifest.record(name, path.read_bytes())
        self.manifest.write(self.path)

    def release(self, *, keep_empty: bool = True) -> None:
        """Let go of the lock; a folder this run created and left empty goes too unless ``keep_empty``."""
        _release(self._lock, self.path, self._created and not keep_empty)


def _acquire(path: Path) -> Any:
    """Lock ``path`` for this run, or refuse at once: one writer per folder."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(path / LOCK_NAME), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise ResultsError(f"{path}: in use by another run (locked); wait for it to finish "
                           "or use another --out folder") from None
    except OSError as exc:
        raise _storage(path, "cannot lock", exc) from None
    return lock


def _release(lock: Any, path: Path, remove_if_empty: bool) -> None:
    """Unlock. The lock file stays (removing it would let two runs lock two files of one name), except
    in a folder this run created and is leaving empty, which goes with it."""
    lock.release()
    if remove_if_empty and not _entries(path):
        try:
            (path / LOCK_NAME).unlink(missing_ok=True)
            path.rmdir()
        except OSError:
            pass


def _entries(path: Path) -> list[Path]:
    return [p for p in path.iterdir() if p.name != LOCK_NAME]


def _refuse_foreign(path: Path, overwrite: bool) -> None:
    """A fresh run into a folder that holds files and is no results folder: refused."""
    if not _entries(path) or (path / MANIFEST).exists() or (path / "summary.json").exists():
        return
    if overwrite:
        raise ResultsError(f"{path}: not a results folder (no {MANIFEST} or summary.json); "
                           "--overwrite replaces only results: empty it yourself or use another --out folder")
    raise ResultsError(f"{path}: folder exists and is not empty; use --resume, --overwrite or another --out folder")


def _fresh(path: Path, overwrite: bool) -> None:
    """A fresh run: the folder must be empty, a results folder we may replace, or one without any chunk."""
    if not _entries(path):
        return
    _refuse_foreign(path, overwrite)
    if overwrite:
        _clear(path)
        return
    if _only_ours_without_chunks(path):
        _clear(path)  # a run that finished no chunk (an unreachable scheduler): start again
        return
    raise ResultsError(f"{path}: folder exists and is not empty; use --resume, --overwrite or another --out folder")


def _chunk_dirs(path: Path) -> list[Path]:
    """The folders of a results folder that hold chunk files: one per table, and 0.1.0's ``chunks/``."""
    return [path / name for name in (*CHUNK_TABLES, LEGACY_DIR) if (path / name).is_dir()]


def _only_ours_without_chunks(path: Path) -> bool:
    dirs = {p.name for p in _chunk_dirs(path)}
    for p in _entries(path):
        if p.name in dirs:
            if any(not q.name.endswith(".tmp") for q in p.iterdir()):
                return False
        elif p.name not in _OURS and not p.name.endswith(".tmp"):
            return False
    return True


def _is_chunk_file(folder: Path, name: str) -> bool:
    """A chunk file (or its temporary) of either layout: what ``--overwrite`` may remove."""
    pattern = LEGACY_RE if folder.name == LEGACY_DIR else CHUNK_RE
    return bool(pattern.match(name)) or name.endswith(".tmp")


def _clear(path: Path) -> None:
    """Remove a previous run's files (the manifest first) and nothing else."""
    try:
        (path / MANIFEST).unlink(missing_ok=True)
        for folder in _chunk_dirs(path):
            for p in folder.iterdir():
                if p.is_file() and _is_chunk_file(folder, p.name):
                    p.unlink()
            if not any(folder.iterdir()):
                folder.rmdir()
        for name in _OURS:
            (path / name).unlink(missing_ok=True)
        for p in path.glob(".*.tmp"):
            p.unlink()
    except OSError as exc:
        raise _storage(path, "cannot remove the previous run's files", exc) from None


def _resume(path: Path, header: dict[str, Any]) -> tuple[Manifest, set[int]]:
    """Check the folder's manifest against this run; keep the chunks that verify, forget the rest."""
    if not (path / MANIFEST).exists():
        if (path / "summary.json").exists():
            raise ResultsError(f"{path}: no {MANIFEST} (made by qalamoun-sim 0.1, or damaged): cannot verify "
                               "its chunks; use --overwrite or another --out folder")
        raise ResultsError(f"{path}: nothing to resume (no {MANIFEST})")
    manifest = Manifest.read(path)
    if manifest.format < 2:
        raise ResultsError(f"{path}: made by qalamoun-sim 0.1.0 (every table in {LEGACY_DIR}/): it is read, not "
                           "resumed; convert it with qalamoun_sim.ensemble.upgrade_folder(old, new), or use "
                           "--overwrite or another --out folder")
    old = manifest.header
    for key, label in (("seed", "seed"), ("replications", "replication count")):
        if old.get(key) != header[key]:
            raise ResultsError(f"{path}: made with {label} {old.get(key)}, not {header[key]}; "
                               "use another --out folder")
    if (old.get("scenario") or {}).get("hash") != header["scenario"]["hash"]:
        raise ResultsError(f"{path}: made from a different scenario "
                           f"('{(old.get('scenario') or {}).get('name')}'); use another --out folder")
    header["chunk_size"] = int(old["chunk_size"])
    manifest.header = dict(header)
    _remove_temporary(path)
    done = _keep_verified(path, manifest)
    _warn_strays(path, len(manifest.chunks))
    return manifest, done


def _remove_temporary(path: Path) -> None:
    """Temporary files a hard kill left behind (never a whole file)."""
    for tmp in [*path.glob(".*.tmp"), *(t for d in _chunk_dirs(path) for t in d.glob(".*.tmp"))]:
        tmp.unlink(missing_ok=True)


def _keep_verified(path: Path, manifest: Manifest) -> set[int]:
    """The chunks whose files all verify; the files of the others are forgotten and removed (say which)."""
    done, redo = set(), []
    for i in range(len(manifest.chunks)):
        problems = {t: manifest.check_file(path, chunk_rel(i, t)) for t in CHUNK_TABLES}
        if all(p is None for p in problems.values()):
            done.add(i)
            continue
        for t, problem in problems.items():
            rel = chunk_rel(i, t)
            if problem is not None and (rel in manifest.files or (path / rel).exists()):
                redo.append(f"{rel} ({problem})")
            manifest.forget(rel)
            (path / rel).unlink(missing_ok=True)
    if redo:
        more = f" and {len(redo) - 3} more" if len(redo) > 3 else ""
        warnings.warn(f"{path}: redoing the chunks of {len(redo)} damaged or unlisted file(s): "
                      f"{', '.join(redo[:3])}{more}", ResultsWarning, stacklevel=2)
    return done


def stray_files(path: Path, n_chunks: int | None, listed: set[str] | None = None) -> list[str]:
    """Files in the table folders that no chunk of the plan writes (or, given ``listed``, that it does not
    list): left alone, never read. Temporary files are not counted."""
    strays = []
    for table in CHUNK_TABLES:
        folder = path / table
        for p in sorted(folder.iterdir()) if folder.is_dir() else []:
            rel = f"{table}/{p.name}"
            if p.name.endswith(".tmp"):
                continue
            m = CHUNK_RE.match(p.name)
            if listed is not None:
                if rel not in listed:
                    strays.append(rel)
            elif not (m and n_chunks is not None and int(m.group(1)) < n_chunks):
                strays.append(rel)
    return strays


def _warn_strays(path: Path, n_chunks: int) -> None:
    """Files in the table folders that no chunk of this run's plan writes: left alone, never read."""
    strays = stray_files(path, n_chunks)
    if strays:
        more = f" and {len(strays) - 3} more" if len(strays) > 3 else ""
        warnings.warn(f"{path}: ignoring {len(strays)} file(s) in the table folders that do not belong to this "
                      f"run: {', '.join(strays[:3])}{more}", ResultsWarning, stacklevel=2)


def json_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: NaN becomes null (strict JSON has no NaN)."""
    rows = table.reset_index().to_dict(orient="records")
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()} for row in rows]


def now() -> str:
    """The time now, UTC, to the second (ISO 8601)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
