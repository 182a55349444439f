"""Ensembles: many seeded replications on a serial, process-pool or dask backend.

Replications are grouped into chunks of consecutive indices (:mod:`.chunks`) and run on a backend
(:mod:`.backends`). :func:`prepare_ensemble` checks every setting, locks and verifies the output
folder (:mod:`.folder`) and starts the backend before anything is written; :meth:`EnsembleJob.run`
then writes each finished chunk at once (one Parquet file per table, atomically, listed in the
manifest), so memory stays flat; ``resume`` finishes only the chunks that are missing or damaged.
Every replication draws from its own child ``SeedSequence``, so results are identical whatever the
backend, worker count, chunk size or completion order.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from ..engine.results import TABLES
from ..errors import BackendError, QalamounError, ResultsError, Terminated
from ..scenario import Scenario
from .backends import BACKENDS, Backend, open_backend
from .chunks import (
    MAX_REPLICATIONS,
    Chunk,
    default_chunk_size,
    fit_chunk_size,
    plan_chunks,
    replication_bytes,
)
from .folder import ResultsFolder, json_records, now, summary_header
from .reader import Ensemble

__all__ = ["run_ensemble", "prepare_ensemble", "EnsembleJob"]

Progress = Callable[[int], None]


def run_ensemble(scenario: Scenario, replications: int | None = None, seed: int | None = None, *,
                 backend: str = "serial", workers: int | None = None, scheduler: str | None = None,
                 out: str | Path | None = None, resume: bool = False, overwrite: bool = False,
                 chunk_size: int | None = None, progress: Progress | None = None) -> Ensemble:
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
        Folder for the Parquet chunks, ``manifest.json``, ``summary.json`` and ``scenario.json``; without
        it, tables stay in memory. The folder is locked for the whole run.
    resume : bool
        Finish only the chunks of ``out`` that are missing or fail the manifest's check (same scenario,
        seed and count, or refused).
    overwrite : bool
        Replace the results already in ``out`` (only a results folder's files are removed).
    chunk_size : int, optional
        Replications per chunk; default about four chunks per worker, at most 50, fewer when memory is short.
    progress : callable, optional
        Called with the number of replications finished after each chunk.

    Raises
    ------
    BackendError, ResultsError, StorageError
        Bad settings; an output folder that cannot be used (in use, not empty, another run's);
        a file system that refuses a write.
    """
    with prepare_ensemble(scenario, replications, seed, backend=backend, workers=workers, scheduler=scheduler,
                          out=out, resume=resume, overwrite=overwrite, chunk_size=chunk_size) as job:
        return job.run(progress)


def prepare_ensemble(scenario: Scenario, replications: int | None = None, seed: int | None = None, *,
                     backend: str = "serial", workers: int | None = None, scheduler: str | None = None,
                     out: str | Path | None = None, resume: bool = False, overwrite: bool = False,
                     chunk_size: int | None = None) -> EnsembleJob:
    """Check everything a run needs before it writes a byte: settings, memory, the output folder, the backend.

    The parameters are those of :func:`run_ensemble`. The job holds the folder's lock and the
    backend until it is closed (use it as a context manager).
    """
    n = scenario.scenario.replications if replications is None else int(replications)
    seed = scenario.scenario.seed if seed is None else int(seed)
    workers = _check_settings(backend, n, workers, scheduler, chunk_size)
    if out is None and (resume or overwrite):
        raise ResultsError(f"{'--resume' if resume else '--overwrite'} needs --out")
    if resume and overwrite:
        raise ResultsError("--resume and --overwrite exclude each other")
    parallel = 1 if backend == "serial" else workers
    size = fit_chunk_size(scenario, chunk_size or default_chunk_size(n, parallel), copies=3 * parallel)
    if out is None:
        _check_memory_for(scenario, n)
    header = summary_header(scenario, seed, n, size)
    folder = None
    if out is not None:
        plan = [(c.start, c.stop) for c in plan_chunks(n, size)]
        folder = ResultsFolder.open(out, header, plan, resume=resume, overwrite=overwrite)
    try:
        engine = open_backend(backend, workers, scheduler)
    except BaseException:
        if folder is not None:
            folder.release(keep_empty=False)
        raise
    return EnsembleJob(scenario, seed, header, engine, folder)


def _check_settings(backend: str, n: int, workers: int | None, scheduler: str | None,
                    chunk_size: int | None) -> int:
    """Refuse bad backend settings (:class:`BackendError`); returns the worker count (default 2)."""
    if backend not in BACKENDS:
        raise BackendError(f"--backend: must be one of {', '.join(BACKENDS)}, got '{backend}'")
    if not 1 <= n <= MAX_REPLICATIONS:
        raise BackendError(f"--replications: must be between 1 and {MAX_REPLICATIONS:,}, got {n}")
    if workers is not None and not 1 <= workers <= 1024:
        raise BackendError(f"--workers: must be between 1 and 1024, got {workers}")
    if scheduler and backend != "dask":
        raise BackendError("--scheduler: only with --backend dask")
    if chunk_size is not None and chunk_size < 1:
        raise BackendError(f"chunk_size: must be >= 1, got {chunk_size}")
    return workers or 2


def _check_memory_for(scenario: Scenario, n: int) -> None:
    """An ensemble held in memory must fit in it: refuse (and point to ``out``) when it would not."""
    from .chunks import _gib, available_memory

    need, have = n * replication_bytes(scenario), available_memory()
    if need > have // 2:
        raise BackendError(f"--replications {n}: held in memory they need about {_gib(need)} and {_gib(have)} "
                           "is available; give --out to write them to disk as they finish")


class EnsembleJob:
    """A prepared run: its settings checked, its folder locked and verified, its backend started."""

    def __init__(self, scenario: Scenario, seed: int, header: dict[str, Any], backend: Backend,
                 folder: ResultsFolder | None) -> None:
        self.scenario, self.seed, self.header, self.backend, self.folder = scenario, seed, header, backend, folder
        self.chunks = plan_chunks(header["replications"], header["chunk_size"])
        done = folder.done if folder is not None else set()
        self.todo = [c for c in self.chunks if c.index not in done]

    def __enter__(self) -> EnsembleJob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the backend and release the folder's lock (a new folder left empty goes too)."""
        try:
            self.backend.close()
        finally:
            if self.folder is not None:
                self.folder.release(keep_empty=False)

    def run(self, progress: Progress | None = None) -> Ensemble:
        """Run the chunks still to do; SIGTERM, like Ctrl-C, keeps the finished chunks (status ``interrupted``)."""
        if progress is not None and len(self.todo) < len(self.chunks):
            progress(sum(c.size for c in self.chunks) - sum(c.size for c in self.todo))
        with _sigterm_as_interrupt():
            if self.folder is None:
                stream = self.backend.results(self.scenario, self.seed, self.todo)
                with contextlib.closing(stream):
                    return _collect(self.scenario, self.seed, stream, progress)
            return self._write(progress)

    def _write(self, progress: Progress | None) -> Ensemble:
        """Write each chunk as it finishes; the summary says ``running``, then how the run ended."""
        folder, header = self.folder, self.header
        assert folder is not None
        folder.start(self.scenario.model_dump(mode="json", by_alias=True),
                     {**header, "status": "running", "started": now()})
        stream = self.backend.results(self.scenario, self.seed, self.todo)
        try:
            with contextlib.closing(stream):
                for chunk, result in stream:
                    folder.write_chunk(chunk.index, {**result["tables"], "summary": result["summary"]})
                    if progress is not None:
                        progress(chunk.size)
        except BaseException as exc:  # keep what finished; say why the rest did not
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            with contextlib.suppress(QalamounError, OSError):  # a full disk: the first error is the one to tell
                # the manifest written with the summary lists exactly these chunks
                folder.write_json("summary.json", {**header, "status": status, "finished": now(),
                                                   "chunks": len(self.chunks),
                                                   "chunks_done": len(folder.listed_chunks())})
            raise
        ens = Ensemble(folder.path, quiet=True)  # what it will not read, the resume has said
        folder.write_json("summary.json", {**header, "status": "complete", "finished": now(),
                                           "chunks": len(self.chunks), "chunks_done": len(self.chunks),
                                           "event_count": ens.event_count,
                                           "towns": json_records(ens.town_report())})
        return Ensemble(folder.path, quiet=True)  # read again: its meta is the final summary


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While a run is on, SIGTERM raises :class:`~qalamoun_sim.errors.Terminated` (a KeyboardInterrupt).

    Only from the main thread, and only where SIGTERM still has its default action (the command
    line installs the same handler for the whole command).
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def raise_terminated(signum: int, frame: Any) -> None:
    """A signal handler: raise :class:`~qalamoun_sim.errors.Terminated` where the program is."""
    raise Terminated()


def _collect(scenario: Scenario, seed: int, stream: Iterator[tuple[Chunk, dict[str, Any]]],
             progress: Progress | None) -> Ensemble:
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
