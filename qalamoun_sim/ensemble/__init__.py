"""Layer 5, ensembles: replications in chunks on the serial, processes or dask backend; the results folder.

:mod:`.chunks` plans and simulates chunks, :mod:`.backends` runs them, :mod:`.folder` keeps the
results folder (a Parquet folder per table), :mod:`.reader` reads it back as an :class:`Ensemble`,
:mod:`.ensemble` ties them; :mod:`.legacy` and :mod:`.upgrade` read and convert the folders of 0.1.0.
Names are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from ..errors import BackendError

if TYPE_CHECKING:  # pragma: no cover
    from ..engine.results import TABLES
    from .backends import BACKENDS, SCHEDULER_TIMEOUT_S, chunk_results, open_backend
    from .chunks import (
        MAX_REPLICATIONS,
        Chunk,
        default_chunk_size,
        plan_chunks,
        replication_summary,
        simulate_chunk,
    )
    from .ensemble import EnsembleJob, prepare_ensemble, run_ensemble
    from .folder import ResultsWarning, finished_chunks, json_records
    from .manifest import Manifest
    from .reader import Ensemble
    from .upgrade import upgrade_folder

__all__ = ["TABLES", "BACKENDS", "SCHEDULER_TIMEOUT_S", "Chunk", "BackendError", "plan_chunks", "simulate_chunk",
           "run_ensemble", "Ensemble", "replication_summary", "json_records", "finished_chunks", "default_chunk_size",
           "chunk_results", "open_backend", "prepare_ensemble", "EnsembleJob", "Manifest", "ResultsWarning",
           "MAX_REPLICATIONS", "upgrade_folder"]

_MODULES = {"qalamoun_sim.engine.results": ["TABLES"],
            "backends": ["BACKENDS", "SCHEDULER_TIMEOUT_S", "chunk_results", "open_backend"],
            "chunks": ["Chunk", "default_chunk_size", "plan_chunks", "replication_summary", "simulate_chunk",
                       "MAX_REPLICATIONS", "upgrade_folder"],
            "ensemble": ["run_ensemble", "prepare_ensemble", "EnsembleJob"],
            "folder": ["finished_chunks", "json_records", "ResultsWarning"], "manifest": ["Manifest"],
            "reader": ["Ensemble"], "upgrade": ["upgrade_folder"]}
__getattr__, __dir__ = lazy_exports(__name__, {n: m for m, ns in _MODULES.items() for n in ns}, globals())
