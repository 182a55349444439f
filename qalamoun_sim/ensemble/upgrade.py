"""Convert a results folder of qalamoun-sim 0.1.0 (``chunks/``) to this version's layout: a folder per table.

The :class:`~qalamoun_sim.ensemble.Ensemble` reader reads both layouts; other tools (pandas, pyarrow,
polars, duckdb) read one table per folder only in this one. :func:`upgrade_folder` writes a copy:
each old file verified against the old manifest (where there is one), upgraded as the reader upgrades
it (:func:`~qalamoun_sim.ensemble.legacy.upgrade_frame`: weather long, dates added), written with the
table's schema and listed in a new manifest, atomically, under the new folder's lock. The old folder
is left as it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ResultsError
from .folder import CHUNK_TABLES, ResultsFolder, now
from .legacy import LEGACY_RE
from .reader import Ensemble

__all__ = ["upgrade_folder"]

_HEADER = ("package", "version", "scenario", "seed", "replications", "chunk_size")


def upgrade_folder(src: str | Path, dst: str | Path) -> Path:
    """Write the results folder ``src`` of qalamoun-sim 0.1.0 into ``dst`` (new, or empty) in this version's layout.

    Examples
    --------
    ``upgrade_folder("results-0.1", "results")``, then ``pd.read_parquet("results/towns")``.

    Raises
    ------
    ResultsError
        ``src`` is no 0.1.0 folder (not a results folder, or already in this layout), a file of it is
        damaged, or ``dst`` is in use or not empty.
    """
    ens = Ensemble(src, quiet=True)
    if ens.layout != "chunks":
        raise ResultsError(f"{ens.folder}: already in this version's layout (a folder per table): nothing to do")
    parts = {t: {int(m.group(1)): p.rel for p in ens.parts(t) if (m := LEGACY_RE.match(Path(p.rel).name))}
             for t in CHUNK_TABLES}
    indices = sorted(set.intersection(*(set(v) for v in parts.values())))
    plan = _plan(ens, indices, parts["towns"])
    header = {k: ens.meta.get(k) for k in _HEADER} if ens.manifest is None else dict(ens.manifest.header)
    header["chunk_size"] = int(header.get("chunk_size") or max(b - a for a, b in plan))
    doc = json.loads(ens._read("scenario.json"))
    folder = ResultsFolder.open(dst, header, plan, resume=False, overwrite=False)
    try:
        folder.start(doc, {**header, "status": "running", "started": now()})
        for new, i in enumerate(indices):  # one chunk in memory at a time
            folder.write_chunk(new, {t: ens._parquet(t, parts[t][i]) for t in CHUNK_TABLES})
        meta: dict[str, Any] = {**ens.meta, **header, "chunks": len(plan), "chunks_done": len(plan),
                                "upgraded_from": str(ens.folder), "upgraded": now()}
        folder.write_json("summary.json", meta)
    finally:
        folder.release()
    return folder.path


def _plan(ens: Ensemble, indices: list[int], towns: dict[int, str]) -> list[tuple[int, int]]:
    """The chunk plan of the chunks found: the manifest's, else each chunk's replications as its files hold them."""
    if ens.manifest is not None:
        return [(int(ens.manifest.chunks[i][0]), int(ens.manifest.chunks[i][1])) for i in indices]
    plan = []
    for i in indices:
        reps = ens._parquet("towns", towns[i], ["replication"])["replication"]
        if not len(reps):
            raise ResultsError(f"{ens.folder}: chunk {i} holds no towns rows: cannot tell its replications")
        plan.append((int(reps.min()), int(reps.max()) + 1))
    return plan
