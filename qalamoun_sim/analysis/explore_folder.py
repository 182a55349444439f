"""Running an exploration's samples on the ensemble backends, and its folder: one row per sample, resumable.

The folder is a results folder of :mod:`qalamoun_sim.ensemble.folder` (one writer at a time by its
lock, a ``manifest.json``, ``scenario.json`` and ``summary.json``), with an exploration inside:

``explore.json``
    the settings and the whole design (every sample's parameter values), listed in the manifest;
``rows/sample-NNNNNN.json``
    one file per finished sample, written atomically (:func:`qalamoun_sim.io.write_json`) as its
    chunk comes back, so an interrupt loses only the chunks in flight;
``rows.csv`` and ``result.json``
    the row table and the ``explore --json`` document, once every sample is done.

A resume needs the folder's scenario, seed and replications (the results folder checks them) and the
same design (``explore.json``); it keeps every row file that reads back whole and holds its sample's
values to the digit, and evaluates the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..ensemble.backends import chunk_results
from ..ensemble.chunks import Chunk
from ..ensemble.folder import ResultsFolder, summary_header
from ..errors import ResultsError
from ..io import read_json, write_json, write_text
from ..scenario import Scenario
from .explore_ranges import Parameter

__all__ = ["DESIGN_FILE", "ROWS_DIR", "row_rel", "pending_chunks", "evaluate_rows", "ExploreFolder"]

DESIGN_FILE = "explore.json"
ROWS_DIR = "rows"
_IDENTITY = ("method", "samples", "evaluations", "replications", "seed")


def row_rel(sample: int) -> str:
    """Where sample ``sample``'s row lives, relative to the folder."""
    return f"{ROWS_DIR}/sample-{sample:06d}.json"


def pending_chunks(n: int, done: set[int], size: int) -> list[Chunk]:
    """Runs of consecutive samples not in ``done``, each at most ``size`` long.

    Examples
    --------
    >>> [(c.start, c.stop) for c in pending_chunks(7, {2, 3}, 2)]
    [(0, 2), (4, 6), (6, 7)]
    """
    chunks: list[Chunk] = []
    i = 0
    while i < n:
        if i in done:
            i += 1
            continue
        stop = i
        while stop < n and stop not in done and stop - i < size:
            stop += 1
        chunks.append(Chunk(len(chunks), i, stop))
        i = stop
    return chunks


class ExploreFolder:
    """An exploration's hold on its ``--out`` folder (lock, manifest, design, rows)."""

    def __init__(self, out: str | Path, scenario: Scenario, meta: dict[str, Any], params: Sequence[Parameter],
                 points: Sequence[Sequence[Any]], chunk_size: int, resume: bool) -> None:
        self.path = Path(out)
        self.points = [list(p) for p in points]
        header = summary_header(scenario, int(meta["seed"]), int(meta["replications"]), chunk_size)
        self.design = {**{k: meta[k] for k in _IDENTITY}, "parameters": [p.record() for p in params],
                       "points": self.points}
        try:
            self.folder = ResultsFolder.open(self.path, header, [], resume=resume, overwrite=False)
        except ResultsError as exc:  # explore has no --overwrite: do not offer it
            raise ResultsError(str(exc).replace("use --resume, --overwrite or another --out folder",
                                                "use --resume or another --out folder")) from None
        try:
            if resume:
                self._check_design()
            else:
                self.folder.start(scenario.model_dump(mode="json", by_alias=True),
                                  {"status": "running", "kind": "explore", **header})
                self.folder.write_json(DESIGN_FILE, self.design)
        except BaseException:
            self.folder.release()
            raise

    def _check_design(self) -> None:
        problem = self.folder.manifest.check_file(self.path, DESIGN_FILE)
        if problem is not None:
            raise ResultsError(f"{self.path}: {DESIGN_FILE} {problem}: not an exploration to resume; "
                               "use another --out folder")
        old = read_json(self.path / DESIGN_FILE)
        for key in (*_IDENTITY, "parameters", "points"):
            if old.get(key) != self.design[key]:
                raise ResultsError(f"{self.path}: made with other explore settings ({key} differs); "
                                   "use another --out folder")

    def done_rows(self) -> dict[int, dict[str, Any]]:
        """Rows already on disk that read back whole and hold their sample's values (others are redone)."""
        rows: dict[int, dict[str, Any]] = {}
        for f in sorted((self.path / ROWS_DIR).glob("sample-*.json")):
            try:
                row = json.loads(f.read_text())
                i = int(row["sample"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if 0 <= i < len(self.points) and f.name == Path(row_rel(i)).name and row.get("values") == self.points[i]:
                rows[i] = row
        return rows

    def write_row(self, row: dict[str, Any]) -> None:
        """One sample's row, atomically."""
        write_json(row, self.path / row_rel(int(row["sample"])))

    def finish(self, table: pd.DataFrame, result: dict[str, Any]) -> None:
        """The row table (``rows.csv``), the result (``result.json``) and a complete summary."""
        path = write_text(table.to_csv(index=False), self.path / "rows.csv")
        self.folder.manifest.record("rows.csv", path.read_bytes())
        self.folder.write_json("result.json", result)
        summary = read_json(self.path / "summary.json")
        self.folder.write_json("summary.json", {**summary, "status": "complete"})

    def release(self) -> None:
        """Let the next run in."""
        self.folder.release()


def _rows_frame(rows: dict[int, dict[str, Any]], paths: Sequence[str]) -> pd.DataFrame:
    records = []
    for i in sorted(rows):
        r = dict(rows[i])
        vals = r.pop("values")
        records.append({"sample": i, **dict(zip(paths, vals, strict=True)),
                        **{k: v for k, v in r.items() if k != "sample"}})
    return pd.DataFrame.from_records(records)


def _results(scenario: Scenario, seed: int, task: Any, chunks: list[Chunk], backend: str, workers: int,
             scheduler: str | None) -> Iterator[dict[str, Any]]:
    for _chunk, result in chunk_results(backend, scenario, seed, chunks, workers, scheduler, task=task):
        yield from result["rows"]


def evaluate_rows(scenario: Scenario, seed: int, task: Any, chunk_size: int, *, backend: str = "serial",
                  workers: int = 1, scheduler: str | None = None, folder: ExploreFolder | None = None,
                  progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Every sample's row: those ``folder`` already holds, the rest computed on ``backend`` (and written there).

    Returns a DataFrame: ``sample``, one column per parameter (the values applied), then every outcome.
    """
    rows = folder.done_rows() if folder is not None else {}
    if progress is not None and rows:
        progress(len(rows))
    chunks = pending_chunks(len(task.points), set(rows), chunk_size)
    for row in _results(scenario, seed, task, chunks, backend, workers, scheduler):
        i = int(row["sample"])
        rows[i] = {"sample": i, "values": list(task.points[i]), **{k: v for k, v in row.items() if k != "sample"}}
        if folder is not None:
            folder.write_row(rows[i])
        if progress is not None:
            progress(1)
    return _rows_frame(rows, task.paths)
