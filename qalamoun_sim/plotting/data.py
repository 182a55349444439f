"""What the figures read: a Run, an Ensemble or a results folder, as one :class:`Results`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import QalamounError, ResultsError
from ..scenario import Scenario

__all__ = ["Results", "as_results", "load_results"]


@dataclass
class Results:
    """A uniform view of a run or an ensemble: tables with a ``replication`` column, and the scenario.

    Build it with :func:`as_results`.
    """

    source: Any
    scenario: Scenario | None
    label: str

    def table(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """One table with a ``replication`` column (``routes``, ``towns``, ``convoys``, ``weather``, ``events``)."""
        src = self.source
        if hasattr(src, "table"):  # Ensemble
            cols = None if columns is None else list(dict.fromkeys(["replication", *columns]))
            return src.table(name, columns=cols)
        df = getattr(src, name)  # Run
        df = df.assign(replication=int(src.replication))
        return df if columns is None else df[list(dict.fromkeys(["replication", *columns]))]

    @property
    def n_replications(self) -> int:
        """Replications held."""
        if hasattr(self.source, "table"):
            return int(self.table("weather", ["day"])["replication"].nunique())
        return 1

    def need_scenario(self) -> Scenario:
        """The scenario, or a clear error when a figure needs it and none is known."""
        if self.scenario is None:
            raise ValueError(f"{self.label}: this figure needs the scenario; pass scenario=...")
        return self.scenario

    def start(self) -> dt.date:
        """The first simulated date."""
        if self.scenario is not None:
            return self.scenario.scenario.start
        d = self.table("weather", ["date"])["date"].min()
        return pd.Timestamp(d).date()

    def dates(self, days: np.ndarray) -> np.ndarray:
        """Calendar dates (datetime64[D]) of simulation days."""
        return np.datetime64(self.start(), "D") + np.asarray(days, dtype="timedelta64[D]")


def _default_if_matching(route_ids: Sequence[str]) -> Scenario | None:
    from ..scenario import load_scenario

    scn = load_scenario()
    return scn if [r.id for r in scn.routes] == list(route_ids) else None


def as_results(results: Any, scenario: Scenario | None = None) -> Results:
    """Wrap a Run, an Ensemble, a results folder (path) or a :class:`Results` for plotting.

    Parameters
    ----------
    results : Run, Ensemble, Results, str or Path
    scenario : Scenario, optional
        Needed for a run whose routes are not those of the bundled default scenario.
    """
    if isinstance(results, Results):
        if scenario is not None:
            return Results(results.source, scenario, results.label)
        return results
    if isinstance(results, str | Path):
        return load_results(results, scenario)
    if hasattr(results, "table") and hasattr(results, "summary"):  # Ensemble
        if scenario is None:
            try:
                scenario = results.scenario
            except (OSError, ValueError, QalamounError):
                scenario = None
        label = str(results.folder) if getattr(results, "folder", None) is not None else "ensemble"
        return Results(results, scenario, label)
    if hasattr(results, "routes") and hasattr(results, "towns"):  # Run
        if scenario is None:
            routes = results.routes["route"]
            ids = list(routes.cat.categories) if hasattr(routes, "cat") else list(dict.fromkeys(routes))
            scenario = _default_if_matching([str(r) for r in ids])
        return Results(results, scenario, f"replication {results.replication}")
    raise TypeError(f"cannot plot a {type(results).__name__}: give a Run, an Ensemble or a results folder")


def load_results(folder: str | Path, scenario: Scenario | None = None) -> Results:
    """Open a results folder written by ``qalamoun-sim run --out`` (or ``run_ensemble(out=...)``).

    Raises
    ------
    ResultsError
        A missing folder, or one without readable results (one line, for the command line).
    """
    from ..ensemble.reader import Ensemble

    path = Path(folder)
    if not path.exists():
        raise ResultsError(f"{path}: no such results folder")
    if not path.is_dir():
        raise ResultsError(f"{path}: not a folder")
    try:
        ens = Ensemble(path)
        ens.table("weather", columns=["replication", "day"])  # are there tables at all?
        scn = scenario or ens.scenario
    except ResultsError:
        raise
    except QalamounError as exc:
        raise ResultsError(f"{path}: bad scenario.json: {exc}") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ResultsError(f"{path}: cannot read results: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") \
            from None
    return Results(ens, scn, str(path))
