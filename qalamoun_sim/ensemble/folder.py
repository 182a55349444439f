"""The results folder: chunk files, the summary header, and the checks before a run or a resume."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pandas as pd

from .._version import __version__
from ..engine.results import TABLES
from ..errors import ResultsError
from ..io import read_json
from ..scenario import Scenario, scenario_hash

__all__ = ["chunk_path", "chunk_files", "finished_chunks", "summary_header", "prepare_folder", "json_records", "now"]

_CHUNK_RE = re.compile(r"chunk-(\d{5})-(\w+)\.parquet$")


def chunk_path(folder: Path, index: int, table: str) -> Path:
    """Where chunk ``index`` keeps ``table``."""
    return folder / "chunks" / f"chunk-{index:05d}-{table}.parquet"


def chunk_files(folder: Path, table: str) -> list[Path]:
    """Every chunk file of one table, in chunk order."""
    return sorted((folder / "chunks").glob(f"chunk-*-{table}.parquet"))


def finished_chunks(folder: Path) -> set[int]:
    """Chunks whose every table (and summary) is on disk."""
    seen: dict[int, set[str]] = {}
    for p in (folder / "chunks").glob("chunk-*.parquet"):
        m = _CHUNK_RE.search(p.name)
        if m:
            seen.setdefault(int(m.group(1)), set()).add(m.group(2))
    need = set(TABLES) | {"summary"}
    return {i for i, names in seen.items() if need <= names}


def summary_header(scenario: Scenario, seed: int, replications: int, chunk_size: int) -> dict[str, Any]:
    return {"package": "qalamoun-sim", "version": __version__,
            "scenario": {"name": scenario.scenario.name, "source": scenario.source_path,
                         "hash": scenario_hash(scenario)},
            "seed": seed, "replications": replications, "chunk_size": chunk_size}


def _check_resume(folder: Path, header: dict[str, Any]) -> dict[str, Any]:
    path = folder / "summary.json"
    if not path.exists():
        raise ResultsError(f"{folder}: nothing to resume (no summary.json)")
    old = read_json(path)
    for key, label in (("seed", "seed"), ("replications", "replication count")):
        if old.get(key) != header[key]:
            raise ResultsError(f"{folder}: made with {label} {old.get(key)}, not {header[key]}; "
                               "use another --out folder")
    if old.get("scenario", {}).get("hash") != header["scenario"]["hash"]:
        raise ResultsError(f"{folder}: made from a different scenario "
                           f"('{old.get('scenario', {}).get('name')}'); use another --out folder")
    return old


def prepare_folder(folder: Path, header: dict[str, Any], resume: bool) -> set[int]:
    """Check an output folder before a run; returns the chunks already finished (resume).

    A fresh run needs an empty (or new) folder, or one left by a run that finished no chunk
    (e.g. an unreachable scheduler). A resume needs the same scenario, seed and count; it keeps
    the recorded chunk size (``header`` is updated) and removes temporary files a hard kill left.
    """
    if resume:
        old = _check_resume(folder, header)
        header["chunk_size"] = int(old["chunk_size"])
        for tmp in (folder / "chunks").glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        return finished_chunks(folder)
    if folder.exists() and any(folder.iterdir()):
        if (folder / "summary.json").exists() and not finished_chunks(folder):
            return set()  # nothing worth keeping: start again
        raise ResultsError(f"{folder}: folder exists and is not empty; use --resume or another --out folder")
    return set()


def json_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: NaN becomes null (strict JSON has no NaN)."""
    rows = table.reset_index().to_dict(orient="records")
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()} for row in rows]


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
