"""Layer 5, ensembles: replications in chunks on the serial, processes or dask backend; the results folder."""

from __future__ import annotations

from .ensemble import (
    BACKENDS,
    TABLES,
    BackendError,
    Chunk,
    Ensemble,
    default_chunk_size,
    finished_chunks,
    json_records,
    plan_chunks,
    replication_summary,
    run_ensemble,
    simulate_chunk,
)

__all__ = ["TABLES", "BACKENDS", "Chunk", "BackendError", "plan_chunks", "simulate_chunk", "run_ensemble",
           "Ensemble", "replication_summary", "json_records", "finished_chunks", "default_chunk_size"]
