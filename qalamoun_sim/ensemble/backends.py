"""Backends: where chunks run (this process, a process pool, a dask cluster); each yields finished chunks.

:func:`open_backend` starts a backend (a dask client connects there and then, so an unreachable
scheduler is refused before anything is written); :meth:`Backend.results` runs chunks with a bounded
number in flight, so memory stays flat however many replications are asked for, and yields
``(chunk, result)`` as chunks finish, in any order. An error raised in a worker (a
:class:`~qalamoun_sim.errors.ScenarioError` from a replay file changed since it was checked, say)
arrives in the parent as the same error; pool workers exit when their parent dies.

What a chunk computes is the backends' ``task``: :func:`~.chunks.simulate_chunk` (the engine) unless
another picklable ``task(scenario, seed, start, stop) -> dict`` is given (``explore`` evaluates
samples of parameters this way, a chunk being a run of sample indices).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Generator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any

from ..errors import BackendError
from ..scenario import Scenario
from .chunks import Chunk, simulate_chunk

__all__ = ["BACKENDS", "SCHEDULER_TIMEOUT_S", "Backend", "Task", "open_backend", "chunk_results"]

BACKENDS: tuple[str, ...] = ("serial", "processes", "dask")
SCHEDULER_TIMEOUT_S = 10
_PARENT_POLL_S = 0.5

ChunkResults = Generator[tuple[Chunk, dict[str, Any]], None, None]
#: What a backend runs for one chunk: ``task(scenario, seed, start, stop)``, picklable (a module-level
#: function or an instance of a module-level class).
Task = Callable[[Scenario, int, int, int], dict[str, Any]]


class Backend:
    """Runs chunks of replications in this process (the ``serial`` backend; others override :meth:`results`)."""

    name = "serial"

    def results(self, scenario: Scenario, seed: int, chunks: list[Chunk],
                task: Task = simulate_chunk) -> ChunkResults:
        """Run ``task`` on each of ``chunks``; yield each ``(chunk, result)`` as it finishes."""
        for c in chunks:
            yield c, task(scenario, seed, c.start, c.stop)

    def close(self) -> None:
        """Stop what the backend started (pool, cluster, client)."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_backend(backend: str, workers: int = 2, scheduler: str | None = None) -> Backend:
    """Start ``backend`` ("serial", "processes" or "dask"); a dask backend connects (or starts its cluster) now.

    Raises
    ------
    BackendError
        An unknown backend, dask not installed, or a scheduler that cannot be reached.
    """
    if backend == "serial":
        return Backend()
    if backend == "processes":
        return ProcessBackend(workers)
    if backend == "dask":
        return DaskBackend(workers, scheduler)
    raise BackendError(f"--backend: must be one of {', '.join(BACKENDS)}, got '{backend}'")


def chunk_results(backend: str, scenario: Scenario, seed: int, chunks: list[Chunk], workers: int,
                  scheduler: str | None = None, task: Task = simulate_chunk) -> ChunkResults:
    """Run ``task`` on ``chunks`` on ``backend``; yield each as it finishes (the backend is closed at the end)."""
    with open_backend(backend, workers, scheduler) as b:
        yield from b.results(scenario, seed, chunks, task)


# --------------------------------------------------------------------------- processes
def _worker_init(parent: int) -> None:
    """In each pool worker: leave Ctrl-C to the parent, and exit when the parent is gone."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="qalamoun-parent-watch").start()


@contextlib.contextmanager
def _sigint_deferred() -> Generator[None, None, None]:
    """Hold Ctrl-C while the pool starts workers or takes chunks; deliver it once the block is done.

    ``ProcessPoolExecutor.submit`` holds the executor's lock, so a ``KeyboardInterrupt`` raised inside
    it would deadlock the shutdown that follows (the run hung after Ctrl-C). Here SIGINT is blocked in
    this thread and caught by a handler that only notes it; after the block the previous handler comes
    back and a noted Ctrl-C is raised again for it. Workers spawned in the block inherit SIGINT blocked
    (their initializer then ignores it), so one still starting up prints no traceback. Outside the
    main thread (no signal handlers there) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: noted.append(signum))
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # one pending now reaches the note
        signal.signal(signal.SIGINT, previous)
    if noted:
        signal.raise_signal(signal.SIGINT)  # for the handler that was there: KeyboardInterrupt by default


def _exit_with_parent(parent: int) -> None:  # pragma: no cover - runs in a worker process
    """Poll the parent's pid; once the worker is re-parented (the parent died, even by SIGKILL), exit."""
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_S)
    os._exit(1)


class ProcessBackend(Backend):
    """A pool of ``workers`` spawned processes on this machine, at most two chunks per worker in flight."""

    name = "processes"

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def results(self, scenario: Scenario, seed: int, chunks: list[Chunk],
                task: Task = simulate_chunk) -> ChunkResults:
        pending = list(chunks)
        running: dict[Any, Chunk] = {}

        def fill() -> None:
            with _sigint_deferred():  # submissions start the workers, and hold the executor's lock
                while pending and len(running) < 2 * self.workers:  # bounded in flight: flat memory
                    c = pending.pop(0)
                    running[pool.submit(task, scenario, seed, c.start, c.stop)] = c

        with _sigint_deferred():  # the pool's helper processes start here
            pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=get_context("spawn"),
                                       initializer=_worker_init, initargs=(os.getpid(),))
        try:
            fill()
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    chunk = running.pop(fut)
                    yield chunk, _result(fut)
                fill()
        except BaseException:
            _stop(pool)
            raise
        pool.shutdown(wait=True)


def _result(fut: Any) -> dict[str, Any]:
    try:
        return fut.result()
    except BrokenProcessPool:
        raise BackendError("a worker process died (killed, or out of memory); finished chunks are kept, "
                           "rerun with --resume") from None


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: pending chunks cancelled, running workers terminated (no orphan keeps computing)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(timeout=5)


# --------------------------------------------------------------------------- dask
class DaskBackend(Backend):
    """dask.distributed: an embedded LocalCluster of ``workers`` processes, or the cluster at ``scheduler``.

    A ``tls://`` scheduler uses the security configuration of dask's config (``distributed.comm.tls``:
    CA, certificate and key files), as ``dask scheduler`` and ``dask worker`` do.
    """

    name = "dask"

    def __init__(self, workers: int, scheduler: str | None) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise BackendError("the dask backend needs dask.distributed: pip install 'qalamoun-sim[dask]'") from None
        logging.getLogger("distributed").setLevel(logging.CRITICAL)  # a worker's error arrives as the error
        self.scheduler, self.workers, self.cluster = scheduler, workers, None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
            except Exception as exc:  # OSError, TimeoutError, ValueError, TLS errors: all mean "not reachable"
                raise BackendError(f"--scheduler {scheduler}: cannot reach a dask scheduler within "
                                   f"{SCHEDULER_TIMEOUT_S} s ({type(exc).__name__}: "
                                   f"{str(exc).splitlines()[0][:120] if str(exc) else ''})") from None
        else:
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=logging.CRITICAL)
            self.client = Client(self.cluster)

    def results(self, scenario: Scenario, seed: int, chunks: list[Chunk],
                task: Task = simulate_chunk) -> ChunkResults:
        from dask.distributed import as_completed

        client = self.client
        pending = list(chunks)
        futures: dict[Any, Chunk] = {}
        ac = as_completed()
        limit = 2 * max(1, sum(client.nthreads().values()) if self.scheduler else self.workers)

        def submit() -> None:
            c = pending.pop(0)
            f = client.submit(task, scenario, seed, c.start, c.stop, pure=False)
            futures[f.key] = c
            ac.add(f)

        while pending and len(futures) < limit:
            submit()
        for fut in ac:  # what is still in flight when this stops goes with the client (close)
            c = futures.pop(fut.key)
            result = fut.result()
            fut.release()
            if pending:
                submit()
            yield c, result

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
