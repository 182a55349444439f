"""The exogenous state: weather, snow, closures and strikes, vectorized over replications.

None of it depends on convoys, so it is computed by numpy a day at a time across all
replications at once (docs/background.md s.6). Every replication draws from its own generators,
derived from the root seed through ``SeedSequence(seed, spawn_key=(replication, stream))``,
so a replication's state is the same whether it is computed alone or in a batch of any size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..network.routes import RouteNetwork
from ..scenario import Scenario
from .closures import RouteSnow
from .interdiction import simulate_strikes
from .seeding import spawned_generators
from .snowpack import band_elevations, band_weights, pack_series
from .weather import Weather, simulate_weather

if TYPE_CHECKING:  # pragma: no cover - xarray is imported by to_xarray only
    import xarray as xr

__all__ = ["ExogenousState", "compute_state", "snow_and_strikes", "replication_rng", "STREAM_WEATHER", "STREAM_STRIKES",
           "STREAM_ENGINE", "ROUTE_STATES"]

# Independent random streams of one replication (the second element of the spawn key).
STREAM_WEATHER = 0
STREAM_STRIKES = 1
STREAM_ENGINE = 2

#: Route state labels, indexed by :attr:`ExogenousState.state_code`.
ROUTE_STATES: tuple[str, ...] = ("open", "snow", "interdicted", "both")


def replication_rng(seed: int, replication: int, stream: int) -> np.random.Generator:
    """The generator of one replication's stream: ``SeedSequence(seed, spawn_key=(replication, stream))``.

    ``SeedSequence(seed).spawn(n)[i]`` has spawn key ``(i,)``; its own children are ``(i, stream)``.
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(replication), int(stream))))


@dataclass(frozen=True)
class ExogenousState:
    """Arrays shaped (replications, days[, routes | bands]) for a block of replications.

    Attributes
    ----------
    replications : (R,) int
        The replication indices held (row ``k`` is replication ``replications[k]``).
    dates : list of date, length D
    route_ids : tuple of str, length N
    temperature_c, precipitation_mm : (R, D) float
        Weather at the reference elevation.
    storm : (R, D) bool
    band_elevations_m : (B,) float
    band_depth_cm : (R, D, B) float
        Snow depth per elevation band at the end of each day.
    route_depth_cm : (R, D, N) float
        Snow depth at each route's highest point.
    snow_capacity_factor, snow_speed_factor : (R, D, N) float
        1 open, a surface's slowed factor, 0 closed by snow.
    interdicted : (R, D, N) bool
        Closed by a strike (or a siege line) that day.
    """

    replications: np.ndarray
    dates: list[dt.date]
    route_ids: tuple[str, ...]
    temperature_c: np.ndarray
    precipitation_mm: np.ndarray
    storm: np.ndarray
    band_elevations_m: np.ndarray
    band_depth_cm: np.ndarray
    route_depth_cm: np.ndarray
    snow_capacity_factor: np.ndarray
    snow_speed_factor: np.ndarray
    interdicted: np.ndarray

    @property
    def n_replications(self) -> int:
        """Number of replications held."""
        return len(self.replications)

    @property
    def n_days(self) -> int:
        """Number of days."""
        return len(self.dates)

    @property
    def capacity_factor(self) -> np.ndarray:
        """(R, D, N) capacity factor with snow and interdiction together."""
        return np.where(self.interdicted, 0.0, self.snow_capacity_factor)

    @property
    def snow_closed(self) -> np.ndarray:
        """(R, D, N) closed by snow alone."""
        return self.snow_capacity_factor <= 0.0

    @property
    def state_code(self) -> np.ndarray:
        """(R, D, N) int8 index into :data:`ROUTE_STATES`: open, snow, interdicted, both."""
        return (self.snow_closed.astype(np.int8) + 2 * self.interdicted.astype(np.int8)).astype(np.int8)

    def replication(self, k: int) -> ExogenousState:
        """The state of the ``k``-th row as a block of one replication."""
        sl = slice(k, k + 1)
        return ExogenousState(
            replications=self.replications[sl], dates=self.dates, route_ids=self.route_ids,
            temperature_c=self.temperature_c[sl], precipitation_mm=self.precipitation_mm[sl],
            storm=self.storm[sl], band_elevations_m=self.band_elevations_m,
            band_depth_cm=self.band_depth_cm[sl], route_depth_cm=self.route_depth_cm[sl],
            snow_capacity_factor=self.snow_capacity_factor[sl], snow_speed_factor=self.snow_speed_factor[sl],
            interdicted=self.interdicted[sl])

    def __repr__(self) -> str:
        """A short summary: shape, the first and last date, memory (the dataclass repr prints every array)."""
        r, d, n, b = self.n_replications, self.n_days, len(self.route_ids), len(self.band_elevations_m)
        nbytes = sum(getattr(self, f).nbytes for f in self.__dataclass_fields__
                     if isinstance(getattr(self, f), np.ndarray))
        span = f"{self.dates[0]} .. {self.dates[-1]}" if self.dates else "no dates"
        return (f"ExogenousState({r} replications x {d} days ({span}) x {n} routes, {b} snow bands, "
                f"{nbytes / 2**20:.1f} MiB)")

    def to_xarray(self, scenario: str | None = None, seed: int | None = None) -> xr.Dataset:
        """The state as an :class:`xarray.Dataset` over ``realization``, ``time``, ``route`` and ``elevation``.

        See :func:`qalamoun_sim.environment.labelled.state_dataset` (``scenario`` and ``seed`` become
        attributes); xarray is imported on this call only.
        """
        from .labelled import state_dataset

        return state_dataset(self, scenario=scenario, seed=seed)


def compute_state(scenario: Scenario, replications: int | Sequence[int], seed: int | None = None,
                  network: RouteNetwork | None = None, routes: Sequence[str] | None = None) -> ExogenousState:
    """Compute the exogenous state of a block of replications.

    Parameters
    ----------
    scenario : Scenario
    replications : int or sequence of int
        A count ``n`` (replications ``0..n-1``) or explicit replication indices.
    seed : int, optional
        Root seed; default the scenario's.
    network : RouteNetwork, optional
        Built from the scenario when not given.
    routes : sequence of str, optional
        Route ids: the state of these routes only (in network order), with only the snow bands
        their highest points need. Their values are those of the whole network's state: every
        random draw is made as for the whole network. Default all routes and bands.

    Examples
    --------
    >>> from qalamoun_sim import load_scenario
    >>> s = compute_state(load_scenario(), 3, seed=1)
    >>> s.snow_capacity_factor.shape[:2]
    (3, 181)
    >>> compute_state(load_scenario(), 3, seed=1, routes=["arsal-jurd"]).snow_capacity_factor.shape
    (3, 181, 1)
    """
    net = network or RouteNetwork.from_scenario(scenario)
    reps, wanted, columns, wx, pack, snow, interdicted = _compute(scenario, replications, seed, net, routes, True)
    bands, kept_bands = _bands(scenario, net, wanted, columns, routes is not None)
    depth, cap_f, speed_f = snow.depth_cm, snow.capacity_factor, snow.speed_factor
    assert depth is not None and speed_f is not None
    keep = np.searchsorted(columns, wanted) if len(columns) != len(wanted) else slice(None)
    return ExogenousState(
        replications=reps, dates=scenario.dates, route_ids=tuple(net.route_ids[i] for i in wanted),
        temperature_c=wx.temperature_c, precipitation_mm=wx.precipitation_mm, storm=wx.storm,
        band_elevations_m=bands[kept_bands], band_depth_cm=pack["depth_cm"][..., kept_bands],
        route_depth_cm=depth[..., keep], snow_capacity_factor=cap_f[..., keep],
        snow_speed_factor=speed_f[..., keep], interdicted=interdicted[..., keep])


def snow_and_strikes(scenario: Scenario, replications: int | Sequence[int], seed: int | None = None,
                     network: RouteNetwork | None = None, routes: Sequence[str] | None = None,
                     ) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """The route ids, ``snow_capacity_factor`` and ``interdicted`` of :func:`compute_state` (arguments as
    there; the same values), without computing or holding the depths, the speed factors or the bands'
    series: what the claim's shares read.

    >>> from qalamoun_sim import load_scenario
    >>> scn = load_scenario()
    >>> ids, snow, hit = snow_and_strikes(scn, 2, seed=1, routes=["arsal-jurd"])
    >>> state = compute_state(scn, 2, seed=1, routes=["arsal-jurd"])
    >>> ids == state.route_ids, bool((snow == state.snow_capacity_factor).all()), bool((hit == state.interdicted).all())
    (True, True, True)
    """
    net = network or RouteNetwork.from_scenario(scenario)
    _, wanted, columns, _, _, snow, interdicted = _compute(scenario, replications, seed, net, routes, False)
    keep = np.searchsorted(columns, wanted) if len(columns) != len(wanted) else slice(None)
    return tuple(net.route_ids[i] for i in wanted), snow.capacity_factor[..., keep], interdicted[..., keep]


def _compute(scenario: Scenario, replications: int | Sequence[int], seed: int | None, net: RouteNetwork,
             routes: Sequence[str] | None, full: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, Weather,
                                                                dict[str, np.ndarray], RouteSnow, np.ndarray]:
    """The draws and the day recursion of :func:`compute_state`: the replications, the routes asked for and
    the routes computed (network indices), the weather, the bands' depth (``full``), the routes' snow and
    the strikes (of the routes computed)."""
    seed = scenario.scenario.seed if seed is None else int(seed)
    reps = np.arange(replications) if isinstance(replications, int) else np.asarray(list(replications), dtype=int)
    if reps.ndim != 1 or len(reps) == 0:
        raise ValueError("replications must be a positive count or a non-empty sequence of indices")
    wanted = _route_columns(net, routes)
    columns = _with_targeted_routes(scenario, net, wanted)
    weather_rngs = spawned_generators(seed, reps, STREAM_WEATHER)  # replication_rng's, built all at once
    strike_rngs = spawned_generators(seed, reps, STREAM_STRIKES)
    dates = scenario.dates
    wx = simulate_weather(scenario.weather, dates, weather_rngs)
    if scenario.weather.observed is not None and scenario.weather.replay_csv is None:
        wx = _observed(wx, scenario)
    bands, _ = _bands(scenario, net, wanted, columns, routes is not None)
    snow = RouteSnow(net, scenario.snow, columns, bands, (len(reps), len(dates)), full=full)
    pack = pack_series(wx, scenario.weather, scenario.snow, bands, dates, ("depth_cm",) if full else (), sink=snow)
    interdicted = simulate_strikes(scenario, net, wx, strike_rngs, columns, snow.capacity_factor)
    return reps, wanted, columns, wx, pack, snow, interdicted


def _bands(scenario: Scenario, net: RouteNetwork, wanted: np.ndarray, columns: np.ndarray,
           some: bool) -> tuple[np.ndarray, slice]:
    """The snow bands the routes computed need (all of them unless ``some`` routes were asked for), and
    which of those the routes asked for need."""
    bands = band_elevations(scenario.weather)
    if not some:
        return bands, slice(None)
    used = bands_needed(bands, net.max_elevation_m[columns])
    wanted_bands = bands_needed(bands, net.max_elevation_m[wanted])
    return bands[used], slice(wanted_bands.start - used.start, wanted_bands.stop - used.start)


def _with_targeted_routes(scenario: Scenario, network: RouteNetwork, columns: np.ndarray) -> np.ndarray:
    """``columns`` and, when some asset targets optimally, every route of the claim corridor it needs to see."""
    cfg = scenario.interdiction
    if cfg is None or not any(a.targeting == "optimal" and a.strikes_per_day > 0 for a in cfg.assets):
        return columns
    corridor = np.flatnonzero(network.corridor_mask(scenario.claim.corridor))
    return np.union1d(columns, corridor).astype(int)


def _route_columns(network: RouteNetwork, routes: Sequence[str] | None) -> np.ndarray:
    """Network indices of the routes asked for, in network order (all when ``routes`` is None)."""
    if routes is None:
        return np.arange(network.n_routes)
    unknown = [r for r in routes if r not in network.route_index]
    if unknown:
        raise ValueError(f"unknown route ids: {', '.join(map(str, unknown))}")
    if not routes:
        raise ValueError("routes must name at least one route")
    return np.array(sorted({network.route_index[r] for r in routes}), dtype=int)


def bands_needed(bands_m: np.ndarray, elevations_m: np.ndarray) -> slice:
    """The contiguous bands that :func:`route_depth_from_bands` reads for these elevations.

    Examples
    --------
    >>> bands_needed(np.array([1000.0, 1100.0, 1200.0, 1300.0]), np.array([1150.0, 1160.0]))
    slice(1, 3, None)
    """
    z = np.clip(np.asarray(elevations_m, dtype=float), bands_m[0], bands_m[-1])
    hi = np.clip(np.searchsorted(bands_m, z, side="left"), 1, len(bands_m) - 1)
    return slice(int(hi.min()) - 1, int(hi.max()) + 1)


def route_depth_from_bands(band_depth_cm: np.ndarray, bands_m: np.ndarray, elevations_m: np.ndarray) -> np.ndarray:
    """(R, D, N) snow depth at each route's highest point, interpolated linearly between bands.

    Elevations outside the band range take the nearest band's depth (:func:`~.snowpack.band_weights`).
    """
    lo, hi, w = band_weights(bands_m, elevations_m)
    # band_depth[..., lo] * (1 - w) + band_depth[..., hi] * w, with one temporary
    out = np.take(band_depth_cm, lo, axis=-1)
    out *= 1.0 - w
    upper = np.take(band_depth_cm, hi, axis=-1)
    upper *= w
    out += upper
    return out


def _observed(wx: Weather, scenario: Scenario) -> Weather:
    """The reported days of ``[weather.observed]`` laid over the drawn weather."""
    obs = scenario.weather.observed
    assert obs is not None
    from ..scenario.observed import read_observed_csv
    from .observed import overlay_observed

    days = read_observed_csv(obs.csv, scenario.dates)
    return overlay_observed(wx, days, scenario.weather, scenario.snow, scenario.dates, obs.season_precip_fraction)
