"""Layer 5, ensembles: replications in chunks on the serial, processes or dask backend; the results folder.

:mod:`.chunks` plans and simulates chunks, :mod:`.backends` runs them, :mod:`.folder` keeps the
results folder, :mod:`.reader` reads it back as an :class:`Ensemble`, :mod:`.ensemble` ties them.
"""

from __future__ import annotations

from ..engine.results import TABLES
from ..errors import BackendError
from .backends import BACKENDS, SCHEDULER_TIMEOUT_S, chunk_results
from .chunks import Chunk, default_chunk_size, plan_chunks, replication_summary, simulate_chunk
from .ensemble import run_ensemble
from .folder import finished_chunks, json_records
from .reader import Ensemble

__all__ = ["TABLES", "BACKENDS", "SCHEDULER_TIMEOUT_S", "Chunk", "BackendError", "plan_chunks", "simulate_chunk",
           "run_ensemble", "Ensemble", "replication_summary", "json_records", "finished_chunks", "default_chunk_size",
           "chunk_results"]
