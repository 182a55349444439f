"""Towns: stocks, daily consumption, captures, settlements and checkpoints, for one replication.

The :class:`TownLedger` keeps one row per day (a list of floats, one per town): the engine reads and
writes single towns many times a day, which plain floats do far faster than numpy. Deliveries are added to
the day they arrive; each day is closed once, in order: the town consumes
``min(stock of yesterday + delivered today, consumption_tpd)``, so that

    stock_t[d] = stock_t[d-1] + delivered_t[d] - consumed_t[d]      (stock_t[-1] = initial stock)

holds exactly as floats computed, and a stock never goes negative.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

import numpy as np

from ..scenario import InterdictionConfig, Node

__all__ = ["TownLedger", "NEVER"]

#: A day index later than any horizon: "never".
NEVER = 1 << 40


def _day_index(date: dt.date, start: dt.date) -> int:
    return (date - start).days


class TownLedger:
    """Stocks and status of every town of a scenario (nodes of kind ``town``), day by day.

    Parameters
    ----------
    towns : sequence of Node
        The towns, in scenario order.
    dates : sequence of date
        The simulated days.
    interdiction : InterdictionConfig or None
        Captures, checkpoints and settlement policy; ``None`` disables all three.

    Attributes
    ----------
    ids : list of str
    stock, delivered, consumed, shortfall : list of list of float
        One row per day, one float per town (:meth:`tables` gives them as (D, T) arrays).
    receiving : list of bool
        Militant, not captured, not settled: the towns convoys are sent to.
    wanted : list of bool
        Receiving and needing supply: the towns the dispatcher serves.
    captured_day, settled_day : list of int
        First day captured / settled, :data:`NEVER` if not.
    checkpoint_p : list of float
        Stop probability of each town's checkpoint (0 where none).
    checkpoint_start : list of int
        First day each checkpoint works (:data:`NEVER` while unknown, i.e. until the town's capture).
    scripted_captures : dict of int to list of int
        Towns the scenario has captured, by day.
    pipeline : list of float
        Tonnes now travelling to each town.
    events : list of tuple
        ``(day, town index, event, cause)``.
    """

    def __init__(self, towns: Sequence[Node], dates: Sequence[dt.date],
                 interdiction: InterdictionConfig | None) -> None:
        self.ids: list[str] = [t.id for t in towns]
        self.index: dict[str, int] = {tid: i for i, tid in enumerate(self.ids)}
        n_days, n_towns = len(dates), len(towns)
        self.n_days = n_days
        self.initial_stock: list[float] = [float(t.stock_t) for t in towns]
        self.need_list: list[float] = [float(t.consumption_tpd) for t in towns]
        self.militant = [t.side == "militant" for t in towns]
        self.stock = self._rows(n_days, n_towns)
        self.delivered = self._rows(n_days, n_towns)
        self.consumed = self._rows(n_days, n_towns)
        self.shortfall = self._rows(n_days, n_towns)
        self.receiving: list[bool] = list(self.militant)
        self.wanted: list[bool] = [m and need > 0.0 for m, need in zip(self.militant, self.need_list, strict=True)]
        # daily need of the towns in the militant supply system: a town held by the army from the start,
        # captured, or settled leaves it (the army or the settlement feeds it), so it draws nothing from
        # militant stock and records no shortfall
        self._need_now: list[float] = [need if m else 0.0 for m, need in zip(self.militant, self.need_list, strict=True)]
        self.captured_day: list[int] = [NEVER] * n_towns
        self.settled_day: list[int] = [NEVER] * n_towns
        self.pipeline: list[float] = [0.0] * n_towns
        self.events: list[tuple[int, int, str, str]] = []
        self._cut_run = [0] * n_towns
        self._short_run = [0] * n_towns
        self._closed_through = -1
        start = dates[0] if dates else dt.date.min
        self.checkpoint_p: list[float] = [0.0] * n_towns
        self.checkpoint_start: list[int] = [NEVER] * n_towns
        self.interdiction = interdiction
        first_capture = [NEVER] * n_towns  # each town's first scripted capture within the horizon
        if interdiction is not None:
            for cp in interdiction.checkpoints:
                i = self.index[cp.town]
                self.checkpoint_p[i] = cp.stop_probability
                if cp.start is not None:
                    self.checkpoint_start[i] = max(0, _day_index(cp.start, start))
                elif towns[i].side == "army":
                    self.checkpoint_start[i] = 0
            for cap in interdiction.captures:
                i = self.index[cap.town]
                day = max(0, _day_index(cap.date, start))
                if day < n_days:
                    first_capture[i] = min(first_capture[i], day)
        self.scripted_captures: dict[int, list[int]] = {}
        for i, day in enumerate(first_capture):
            if day != NEVER:
                self.scripted_captures.setdefault(day, []).append(i)
        self._explicit_cp = [self.checkpoint_start[i] != NEVER for i in range(n_towns)]

    @staticmethod
    def _rows(n_days: int, n_towns: int) -> list[list[float]]:
        return [[0.0] * n_towns for _ in range(n_days)]

    # ------------------------------------------------------------------ during a day
    def days_of_stock(self, day: int, town: int) -> float:
        """(Stock now + tonnes on the way) / daily need; infinite for a town that needs nothing."""
        need = self.need_list[town]
        if need <= 0.0:
            return float("inf")
        prev = self.stock[day - 1][town] if day > 0 else self.initial_stock[town]
        return (prev + self.delivered[day][town] + self.pipeline[town]) / need

    def deliver(self, day: int, town: int, tonnes: float) -> None:
        """Add a convoy's tonnes to the town's deliveries of ``day``."""
        if day <= self._closed_through:
            raise RuntimeError(f"delivery to {self.ids[town]} on day {day}, which is already closed")
        self.delivered[day][town] += tonnes
        self.pipeline[town] -= tonnes

    def _leave(self, town: int) -> None:
        """The town leaves the militant supply system: it receives nothing and draws nothing."""
        self.receiving[town] = False
        self.wanted[town] = False
        self._need_now[town] = 0.0

    def capture(self, day: int, town: int, cause: str) -> bool:
        """The army takes a town from ``day`` on; its checkpoint starts then unless dated. False if no change."""
        if self.captured_day[town] != NEVER:
            return False
        self.captured_day[town] = day
        self._leave(town)
        if not self._explicit_cp[town]:
            self.checkpoint_start[town] = min(self.checkpoint_start[town], day)
        self.events.append((day, town, "captured", cause))
        return True

    def settle(self, day: int, town: int) -> None:
        """A town accepts a settlement from ``day`` on: it stops receiving militant convoys."""
        self.settled_day[town] = day
        self._leave(town)
        self.events.append((day, town, "settled", "shortage"))

    # ------------------------------------------------------------------ end of a day
    def close_day(self, day: int, cut: Sequence[bool] | None,
                  rng: np.random.Generator) -> tuple[list[int], list[int]]:
        """Consume, record, and decide the captures and settlements that hold from ``day + 1``.

        Parameters
        ----------
        day : int
            The day to close (days are closed in order).
        cut : (T,) sequence of bool, or None
            Towns with no open path from any source today.
        rng : Generator
            Draws of the settlement lottery (towns in scenario order, only those eligible).

        Returns
        -------
        (list of int, list of int)
            Towns to capture because cut off, towns that settle, both from ``day + 1``.
        """
        if day != self._closed_through + 1:
            raise RuntimeError(f"day {day} closed out of order")
        prev = self.stock[day - 1] if day > 0 else self.initial_stock
        stock, consumed, shortfall = self.stock[day], self.consumed[day], self.shortfall[day]
        for t, (p, got, need) in enumerate(zip(prev, self.delivered[day], self._need_now, strict=True)):
            avail = p + got
            used = avail if avail < need else need
            consumed[t] = used
            stock[t] = avail - used
            shortfall[t] = need - used
        if min(stock, default=0.0) < 0.0:  # pragma: no cover - guaranteed by min(); the invariant, checked
            raise AssertionError(f"negative stock on day {day}")
        self._closed_through = day
        itd = self.interdiction
        if itd is None:
            return [], []
        # one pass over the towns: the runs of days cut off and short of supply, who falls, who may settle
        cut_after = itd.capture_after_cut_days if cut is not None else None
        shortage_days = itd.settlement.shortage_days
        cut_run, short_run = self._cut_run, self._short_run
        to_capture: list[int] = []
        eligible: list[int] = []  # for the settlement lottery
        for t, r in enumerate(self.receiving):
            captured = False
            if cut_after is not None:
                n = cut_run[t] = cut_run[t] + 1 if r and cut[t] else 0  # type: ignore[index]
                if r and n >= cut_after:
                    to_capture.append(t)
                    captured = True
            n = short_run[t] = short_run[t] + 1 if r and shortfall[t] > 1e-9 else 0
            if r and n >= shortage_days and not captured:
                eligible.append(t)
        p = itd.settlement.daily_probability
        to_settle = [t for t in eligible if rng.random() < p] if p > 0.0 else []
        return to_capture, to_settle

    def tables(self) -> dict[str, np.ndarray]:
        """The (D, T) arrays ``delivered``, ``stock``, ``consumed`` and ``shortfall``."""
        n_towns = len(self.ids)
        size = self.n_days * n_towns
        return {name: np.fromiter(itertools.chain.from_iterable(getattr(self, name)), dtype=float,
                                  count=size).reshape(self.n_days, n_towns)
                for name in ("delivered", "stock", "consumed", "shortfall")}
