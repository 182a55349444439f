"""Backends: where chunks run (this process, a process pool, a dask cluster); each yields finished chunks.

Every backend keeps a bounded number of chunks in flight, so memory stays flat however many
replications are asked for, and yields ``(chunk, result)`` as chunks finish, in any order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from typing import Any

from ..errors import BackendError
from ..scenario import Scenario
from .chunks import Chunk, simulate_chunk

__all__ = ["BACKENDS", "SCHEDULER_TIMEOUT_S", "chunk_results"]

BACKENDS: tuple[str, ...] = ("serial", "processes", "dask")
SCHEDULER_TIMEOUT_S = 10


def chunk_results(backend: str, scenario: Scenario, seed: int, chunks: list[Chunk], workers: int,
                  scheduler: str | None = None) -> Iterator[tuple[Chunk, dict[str, Any]]]:
    """Run ``chunks`` on ``backend`` ("serial", "processes" or "dask"); yield each as it finishes."""
    if backend == "serial":
        return _serial(scenario, seed, chunks)
    if backend == "processes":
        return _processes(scenario, seed, chunks, workers)
    if backend == "dask":
        return _dask(scenario, seed, chunks, workers, scheduler)
    raise BackendError(f"--backend: must be one of {', '.join(BACKENDS)}, got '{backend}'")


def _serial(scenario: Scenario, seed: int, chunks: list[Chunk]) -> Iterator[tuple[Chunk, dict[str, Any]]]:
    for c in chunks:
        yield c, simulate_chunk(scenario, seed, c.start, c.stop)


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which keeps finished chunks and stops the pool."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _processes(scenario: Scenario, seed: int, chunks: list[Chunk],
               workers: int) -> Iterator[tuple[Chunk, dict[str, Any]]]:
    pending = list(chunks)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                             initializer=_ignore_sigint) as pool:
        running: dict[Any, Chunk] = {}
        try:
            while pending or running:
                while pending and len(running) < 2 * workers:  # bounded in flight: flat memory
                    c = pending.pop(0)
                    running[pool.submit(simulate_chunk, scenario, seed, c.start, c.stop)] = c
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield running.pop(fut), fut.result()
        except BaseException:
            for fut in running:
                fut.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _dask_client(workers: int, scheduler: str | None):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise BackendError("the dask backend needs dask.distributed: pip install 'qalamoun-sim[dask]'") from None
    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler:
        try:
            return Client(scheduler, timeout=SCHEDULER_TIMEOUT_S), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise BackendError(f"--scheduler {scheduler}: cannot reach a dask scheduler within "
                               f"{SCHEDULER_TIMEOUT_S} s ({type(exc).__name__})") from None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    return Client(cluster), cluster


def _dask(scenario: Scenario, seed: int, chunks: list[Chunk], workers: int,
          scheduler: str | None) -> Iterator[tuple[Chunk, dict[str, Any]]]:
    from dask.distributed import as_completed

    client, cluster = _dask_client(workers, scheduler)
    try:
        pending = list(chunks)
        futures: dict[str, Chunk] = {}
        ac = as_completed()
        limit = 2 * max(1, sum(client.nthreads().values()) if scheduler else workers)
        while pending and len(futures) < limit:
            c = pending.pop(0)
            f = client.submit(simulate_chunk, scenario, seed, c.start, c.stop, pure=False)
            futures[f.key] = c
            ac.add(f)
        for fut in ac:
            c = futures.pop(fut.key)
            result = fut.result()
            fut.release()
            if pending:
                n = pending.pop(0)
                f = client.submit(simulate_chunk, scenario, seed, n.start, n.stop, pure=False)
                futures[f.key] = n
                ac.add(f)
            yield c, result
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
