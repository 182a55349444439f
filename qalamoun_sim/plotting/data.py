"""What the figures read: a Run, an Ensemble or a results folder, as one :class:`Results`.

The figures of an ensemble summarise replications: quantiles per day and town across them, shares
of route-days closed, a median snow depth per day and band. :class:`Results` gives them what they
need without holding a table: :meth:`Results.grid` scans a table one chunk file at a time (the
columns asked for only) into an (R, D, K) array of one value, and :meth:`Results.group_mean` and
:meth:`Results.day_mean` reduce while scanning to a few numbers per route or day. Quantiles across
replications taken from such a grid are exact (every replication's value is held, 8 bytes each:
10,000 replications x 181 days x 10 towns is 145 MB), so a figure from a folder equals, to the last
bit, the same figure from the same tables in memory. Whole tables (:meth:`Results.table`) are
for the small ones: events, the per-replication summary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import QalamounError, ResultsError
from ..scenario import Scenario

__all__ = ["Results", "as_results", "load_results", "index_of"]

#: A row filter on one chunk of a table: a boolean mask of its rows.
RowFilter = Callable[[pd.DataFrame], Any]


@dataclass
class Results:
    """A uniform view of a run or an ensemble: tables with a ``replication`` column, and the scenario.

    Build it with :func:`as_results`. ``cache`` keeps what one figure computed for the next (the
    corridor shares the share and claim figures both draw).
    """

    source: Any
    scenario: Scenario | None
    label: str
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def _is_ensemble(self) -> bool:
        return hasattr(self.source, "iter_table")

    def table(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """One whole table with a ``replication`` column (``routes``, ``towns``, ``convoys``, ``weather``,
        ``events``): for the small tables; the large ones are read by :meth:`chunks` or reduced by :meth:`grid`."""
        return pd.concat(list(self.chunks(name, columns)), ignore_index=True)

    def chunks(self, name: str, columns: Sequence[str] | None = None,
               replications: Iterable[int] | None = None) -> Iterator[pd.DataFrame]:
        """One table a chunk of whole replications at a time, each with a ``replication`` column.

        A results folder gives one chunk per file (the listed columns only); a run or an in-memory
        ensemble gives its whole table at once.
        """
        cols = None if columns is None else list(dict.fromkeys(["replication", *columns]))
        src = self.source
        if self._is_ensemble:
            yield from src.iter_table(name, columns=cols, replications=replications)
            return
        df = getattr(src, name)  # Run
        df = df.assign(replication=int(src.replication))
        if replications is not None and int(src.replication) not in set(replications):
            df = df.iloc[:0]
        yield df if cols is None else df[cols]

    def replication_ids(self) -> np.ndarray:
        """The replications held, sorted."""
        if "replications" not in self.cache:
            src = self.source
            ids = src.replication_ids("towns") if self._is_ensemble else np.array([int(src.replication)])
            self.cache["replications"] = np.asarray(ids, dtype=np.int64)
        return np.asarray(self.cache["replications"])

    @property
    def n_replications(self) -> int:
        """Replications held."""
        return len(self.replication_ids())

    def days(self) -> np.ndarray:
        """The simulated days, ``0 .. D-1`` (the scenario's horizon, else the last day of the towns table)."""
        if self.scenario is not None:
            return np.arange(self.scenario.scenario.days)
        last = max(int(df["day"].max()) for df in self.chunks("towns", ["day"]) if len(df))
        return np.arange(last + 1)

    def grid(self, name: str, value: str, by: str, *, index: str = "day", keys: Sequence[Any] | None = None,
             days: np.ndarray | None = None, where: RowFilter | None = None,
             key_of: Callable[[str], Any] | None = None, replications: Iterable[int] | None = None,
             extra: Sequence[str] = (), dtype: Any = np.float64) -> tuple[np.ndarray, list[Any], np.ndarray]:
        """(R, D, K) sums of ``value`` by replication, ``index`` (a day column) and ``by``, scanned chunk by chunk.

        As :func:`~qalamoun_sim.plotting._style.replication_grid` on the whole table (cells no row
        reaches are 0; several rows of one cell add up), without holding it: only the columns named
        are read, one file at a time, into one float64 array.

        Parameters
        ----------
        name, value, by, index : str
            The table, the column summed, the column of the K keys, the day column (``arrived_day`` ...).
        keys : sequence, optional
            The keys in order; default the ``by`` column's categories (its values in order of first
            appearance in the first chunk when it is not categorical). Rows of other keys are left out.
        days : array, optional
            Default :meth:`days`; rows of other days (and null days) are left out.
        where : callable, optional
            A row filter on each chunk (``lambda df: df["fate"] == "delivered"``).
        key_of : callable, optional
            Maps a ``by`` value (as text) to its key (a source to its corridor).
        replications : iterable of int, optional
            Default every replication held.
        extra : sequence of str
            More columns ``where`` reads.
        dtype : numpy dtype
            Of the grid; float32 halves its memory (each sum rounded to 24 bits, a relative error
            of at most 6e-8: what a median snow depth may give up).

        Returns
        -------
        (ndarray, list, ndarray)
            The (R, D, K) array, the K keys, the R replication ids (sorted).
        """
        reps = self.replication_ids() if replications is None else np.unique(np.fromiter(replications, np.int64))
        days = self.days() if days is None else np.asarray(days)
        cols = list(dict.fromkeys([index, by, value, *extra]))
        out: np.ndarray | None = None
        kl = None if keys is None else list(keys)
        for df in self.chunks(name, cols, None if replications is None else reps):
            if where is not None:
                df = df[np.asarray(where(df), dtype=bool)]
            if kl is None:
                kl = _default_keys(df[by], key_of)
            if out is None:
                out = np.zeros((len(reps), len(days), len(kl)), dtype=dtype)
            _add_chunk(out, df, reps, days, kl, index, by, value, key_of)
        if out is None:
            out = np.zeros((len(reps), len(days), len(kl or [])), dtype=dtype)
        return out, kl or [], reps

    def group_mean(self, name: str, by: str, columns: Sequence[str],
                   value: Callable[[pd.DataFrame], Any]) -> pd.Series:
        """The mean of ``value(chunk)`` (one number per row) over every row of each ``by`` group, scanned.

        Returns a Series indexed by the groups (as text; the ``by`` column's categories), groups no
        row reaches left out.
        """
        keys: list[Any] | None = None
        total = count = np.zeros(0)
        for df in self.chunks(name, list(dict.fromkeys([by, *columns]))):
            if keys is None:
                keys = _default_keys(df[by], str)
                total, count = np.zeros(len(keys)), np.zeros(len(keys))
            k = index_of(df[by], keys, str)
            v = np.asarray(value(df), dtype=float)
            ok = k >= 0
            total += np.bincount(k[ok], weights=v[ok], minlength=len(keys))
            count += np.bincount(k[ok], minlength=len(keys))
        seen = count > 0
        return pd.Series(total[seen] / count[seen], index=[k for k, s in zip(keys or [], seen, strict=True) if s],
                         dtype=float)

    def day_mean(self, name: str, column: str, days: np.ndarray | None = None) -> np.ndarray:
        """The mean of a column over every row of each day (``storm`` of the weather table: the share of
        replications with a storm that day), scanned; 0 on a day no row holds."""
        days = self.days() if days is None else np.asarray(days)
        total, count = np.zeros(len(days)), np.zeros(len(days))
        for df in self.chunks(name, ["day", column]):
            d = df["day"].to_numpy(dtype=np.int64)
            keep = (d >= 0) & (d < len(days))
            total += np.bincount(d[keep], weights=df[column].to_numpy(dtype=float)[keep], minlength=len(days))
            count += np.bincount(d[keep], minlength=len(days))
        return np.divide(total, count, out=np.zeros(len(days)), where=count > 0)

    def need_scenario(self) -> Scenario:
        """The scenario, or a clear error when a figure needs it and none is known."""
        if self.scenario is None:
            raise ValueError(f"{self.label}: this figure needs the scenario; pass scenario=...")
        return self.scenario

    def start(self) -> dt.date:
        """The first simulated date."""
        if self.scenario is not None:
            return self.scenario.scenario.start
        first = next(iter(self.chunks("towns", ["day", "date"])))
        return (pd.Timestamp(first["date"].min()) - pd.Timedelta(days=int(first["day"].min()))).date()

    def dates(self, days: np.ndarray) -> np.ndarray:
        """Calendar dates (datetime64[D]) of simulation days."""
        return np.datetime64(self.start(), "D") + np.asarray(days, dtype="timedelta64[D]")


def _default_keys(col: pd.Series, key_of: Callable[[str], Any] | None) -> list[Any]:
    """A grid's keys from its first chunk: the categories (or values in order of appearance), mapped."""
    names = [str(c) for c in col.cat.categories] if isinstance(col.dtype, pd.CategoricalDtype) else \
        list(dict.fromkeys(col.tolist()))
    if key_of is not None:
        names = [key_of(str(n)) for n in names]
    return list(dict.fromkeys(names))


def index_of(col: pd.Series, keys: Sequence[Any], key_of: Callable[[str], Any] | None = None) -> np.ndarray:
    """Each row's index into ``keys`` (-1 for another key or a null), through the column's distinct values.

    Fast on a categorical column (one lookup per category, not per row). ``key_of`` maps a value
    (as text) to its key first.

    Examples
    --------
    >>> index_of(pd.Series(["b", "a", None, "c"], dtype="category"), ["a", "b"]).tolist()
    [1, 0, -1, -1]
    """
    if isinstance(col.dtype, pd.CategoricalDtype):
        cat = col.array
        codes, names = np.asarray(cat.codes), [str(c) for c in cat.categories]
    else:
        codes, uniques = pd.factorize(col)
        names = list(uniques)
    mapped = [key_of(str(n)) for n in names] if key_of is not None else names
    lut = np.append(pd.Index(keys).get_indexer(mapped), -1).astype(np.int64)
    return lut[codes]  # a null's code -1 takes the last entry, -1


def _add_chunk(out: np.ndarray, df: pd.DataFrame, reps: np.ndarray, days: np.ndarray, keys: list[Any],
               index: str, by: str, value: str, key_of: Callable[[str], Any] | None) -> None:
    """Add one chunk's rows into the (R, D, K) grid: one weighted bincount over the chunk's block of replications."""
    if not len(df) or not len(reps) or not len(keys):
        return
    rep = df["replication"].to_numpy(dtype=np.int64)
    if reps[-1] - reps[0] + 1 == len(reps):  # replications 0 .. R-1 (or any run of them): no search
        r = np.clip(rep - reps[0], 0, len(reps) - 1)
    else:
        r = np.minimum(np.searchsorted(reps, rep), len(reps) - 1)
    day = df[index].to_numpy(dtype=float, na_value=np.nan) if df[index].hasnans else df[index].to_numpy()
    k = index_of(df[by], keys, key_of)
    ok = (reps[r] == rep) & (k >= 0) & (day >= 0) & (day < len(days))  # NaN compares False
    if not ok.all():
        r, day, k = r[ok], day[ok], k[ok]
    if not len(r):
        return
    lo, hi = int(r.min()), int(r.max()) + 1
    cell = ((r - lo) * len(days) + day.astype(np.int64)) * len(keys) + k
    v = df[value].to_numpy(dtype=float)
    block = np.bincount(cell, weights=v if ok.all() else v[ok], minlength=(hi - lo) * len(days) * len(keys))
    out[lo:hi] += block.reshape(hi - lo, len(days), len(keys))


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
    if hasattr(results, "iter_table") and hasattr(results, "summary"):  # Ensemble
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
        for part in ens.parts("weather")[:1]:  # are there tables at all, and readable?
            ens._parquet("weather", part.rel, ["replication", "day"])
        scn = scenario or ens.scenario
    except ResultsError:
        raise
    except QalamounError as exc:
        raise ResultsError(f"{path}: bad scenario.json: {exc}") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ResultsError(f"{path}: cannot read results: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") \
            from None
    return Results(ens, scn, str(path))
