"""Ensembles: many seeded replications on a serial, process-pool or dask backend.

Replications are grouped into chunks of consecutive indices (:mod:`.chunks`) and run on a backend
(:mod:`.backends`). With an output folder (:mod:`.folder`), each finished chunk is written at once
(one Parquet file per table, atomically), so memory stays flat; ``resume`` finishes only the chunks
that are missing. Every replication draws from its own child ``SeedSequence``, so results are
identical whatever the backend, worker count, chunk size or completion order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from ..engine.results import TABLES
from ..errors import BackendError, ResultsError
from ..io import write_json, write_parquet
from ..scenario import Scenario
from .backends import BACKENDS, chunk_results
from .chunks import Chunk, default_chunk_size, plan_chunks
from .folder import chunk_path, finished_chunks, json_records, now, prepare_folder, summary_header
from .reader import Ensemble

__all__ = ["run_ensemble"]


def run_ensemble(scenario: Scenario, replications: int | None = None, seed: int | None = None, *,
                 backend: str = "serial", workers: int | None = None, scheduler: str | None = None,
                 out: str | Path | None = None, resume: bool = False, chunk_size: int | None = None,
                 progress: Callable[[int], None] | None = None) -> Ensemble:
    """Run replications of a scenario and return them as an :class:`Ensemble`.

    Parameters
    ----------
    scenario : Scenario
    replications, seed : int, optional
        Defaults: the scenario's.
    backend : {"serial", "processes", "dask"}
    workers : int, optional
        Processes (``processes``) or local dask workers; default 2.
    scheduler : str, optional
        Address of an existing dask scheduler (``dask`` backend); default an embedded LocalCluster.
    out : path, optional
        Folder for the Parquet chunks, ``summary.json`` and ``scenario.json``; without it, tables stay in memory.
    resume : bool
        Finish only the chunks missing from ``out`` (same scenario, seed and count, or refused).
    progress : callable, optional
        Called with the number of replications finished after each chunk.

    Raises
    ------
    BackendError, ResultsError
        Bad backend settings; an output folder that cannot be used.
    """
    n = scenario.scenario.replications if replications is None else int(replications)
    seed = scenario.scenario.seed if seed is None else int(seed)
    workers = _check_settings(backend, n, workers, scheduler, chunk_size)
    folder = Path(out) if out is not None else None
    size = chunk_size or default_chunk_size(n, workers if backend != "serial" else 1)
    header = summary_header(scenario, seed, n, size)
    done: set[int] = set()
    if folder is not None:
        done = prepare_folder(folder, header, resume)
    elif resume:
        raise ResultsError("--resume needs --out")
    chunks = plan_chunks(n, header["chunk_size"])
    todo = [c for c in chunks if c.index not in done]
    if progress is not None and done:
        progress(sum(c.size for c in chunks if c.index in done))
    stream = chunk_results(backend, scenario, seed, todo, workers, scheduler)
    if folder is None:
        return _collect(scenario, seed, stream, progress)
    return _write(folder, scenario, header, chunks, stream, progress)


def _check_settings(backend: str, n: int, workers: int | None, scheduler: str | None,
                    chunk_size: int | None) -> int:
    """Refuse bad backend settings (:class:`BackendError`); returns the worker count (default 2)."""
    if backend not in BACKENDS:
        raise BackendError(f"--backend: must be one of {', '.join(BACKENDS)}, got '{backend}'")
    if n < 1:
        raise BackendError(f"--replications: must be >= 1, got {n}")
    if workers is not None and workers < 1:
        raise BackendError(f"--workers: must be >= 1, got {workers}")
    if scheduler and backend != "dask":
        raise BackendError("--scheduler: only with --backend dask")
    if chunk_size is not None and chunk_size < 1:
        raise BackendError(f"chunk_size: must be >= 1, got {chunk_size}")
    return workers or 2


def _collect(scenario: Scenario, seed: int, stream: Iterator[tuple[Chunk, dict[str, Any]]],
             progress: Callable[[int], None] | None) -> Ensemble:
    """Keep every chunk in memory; stack them in replication order."""
    memory: dict[int, dict[str, Any]] = {}
    for chunk, result in stream:
        memory[chunk.index] = result
        if progress is not None:
            progress(chunk.size)
    ordered = [memory[i] for i in sorted(memory)]
    tables = {t: pd.concat([r["tables"][t] for r in ordered], ignore_index=True) for t in TABLES}
    summary = pd.concat([r["summary"] for r in ordered], ignore_index=True)
    return Ensemble.from_tables(scenario, seed, tables, summary)


def _write(folder: Path, scenario: Scenario, header: dict[str, Any], chunks: list[Chunk],
           stream: Iterator[tuple[Chunk, dict[str, Any]]], progress: Callable[[int], None] | None) -> Ensemble:
    """Write each chunk as it finishes; the summary says ``running``, then how the run ended."""
    write_json(scenario.model_dump(mode="json", by_alias=True), folder / "scenario.json")
    write_json({**header, "status": "running", "started": now()}, folder / "summary.json")
    try:
        for chunk, result in stream:
            for t in TABLES:
                write_parquet(result["tables"][t], chunk_path(folder, chunk.index, t))
            write_parquet(result["summary"], chunk_path(folder, chunk.index, "summary"))
            if progress is not None:
                progress(chunk.size)
    except BaseException as exc:  # keep what finished; say why the rest did not
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        write_json({**header, "status": status, "finished": now(), "chunks": len(chunks),
                    "chunks_done": len(finished_chunks(folder))}, folder / "summary.json")
        raise
    ens = Ensemble(folder)
    write_json({**header, "status": "complete", "finished": now(), "chunks": len(chunks),
                "chunks_done": len(chunks), "event_count": ens.event_count,
                "towns": json_records(ens.town_report())}, folder / "summary.json")
    return Ensemble(folder)  # read again: its meta is the final summary
