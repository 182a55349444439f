"""The scenario schema: pydantic models of every section, with defaults and their sources.

Only ``[scenario]``, ``[[nodes]]`` and ``[[routes]]`` are required; every other section
has defaults from the sources of ``docs/background.md`` (each default says where it comes from).
Loading a file or a dict, and turning validation errors into one-line messages, is
:mod:`qalamoun_sim.scenario.loader`'s; :meth:`Scenario.from_document` validates a document
in full (fields, referenced files, cross references), so the model needs no loader.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from ..errors import ScenarioError
from .base import MAX_TONNES, SURFACES, NodeKind, Side, StrictModel, Surface, empty_list
from .checks import check_references, path_exists, warn_unreachable
from .messages import ShortRepr, first_error
from .normals import MONTHLY_MEAN_C, MONTHLY_PRECIP_MM, OROGRAPHIC_GRADIENT_BELOW_PER_KM, STORMS_PER_MONTH
from .schema_network import NetworkRole, NetworkSource

__all__ = ["Scenario", "ScenarioMeta", "Node", "Route", "NetworkSource", "NetworkRole", "WeatherConfig", "SnowConfig",
           "SurfaceLimits", "InterdictionConfig", "Asset", "Checkpoint", "Capture", "SettlementPolicy",
           "EngineConfig", "ClaimConfig", "StrictModel", "SURFACES", "ObservedWeather"]

# Bounds on list items and quantities that keep every figure finite and every array a sane size.
MonthlyTemperature = Annotated[float, Field(ge=-60, le=50)]
MonthlyPrecipitation = Annotated[float, Field(ge=0, le=5000)]
MonthlyStorms = Annotated[float, Field(ge=0, le=1000)]  # above a storm a day, onsets are daily
Speed = Annotated[float, Field(ge=0.1, le=200)]


# --------------------------------------------------------------------------- [scenario]
class ScenarioMeta(StrictModel):
    """The ``[scenario]`` section: name, calendar and ensemble defaults."""

    name: str = Field(min_length=1, description="Human-readable name; say 'illustrative' for stylized data.")
    start: dt.date = Field(ge=dt.date(1900, 1, 1), le=dt.date(9000, 12, 31), description="First simulated day (TOML date).")
    days: int = Field(ge=1, le=3660, description="Number of simulated days.")
    seed: int = Field(default=2013, ge=0, description="Root seed of every random draw (SeedSequence).")
    replications: int = Field(default=200, ge=1, le=10_000_000, description="Default replications for run/claim.")
    description: str = ""

    @property
    def dates(self) -> list[dt.date]:
        """Every simulated date."""
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]


# --------------------------------------------------------------------------- [[nodes]]
class Node(StrictModel):
    """A place: supply source, town, junction, mountain pass or army base."""

    id: str = Field(min_length=1)
    kind: NodeKind
    side: Side = "neutral"
    elevation_m: float = Field(ge=-500, le=9000)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    name: str | None = None
    supply_tpd: float = Field(default=0.0, ge=0, le=1e6, description="Sources: tonnes made available per day.")
    stock_t: float = Field(default=0.0, ge=0, le=MAX_TONNES, description="Towns: initial stock in tonnes.")
    consumption_tpd: float = Field(default=0.0, ge=0, le=1e6, description="Towns: daily need in tonnes.")
    corridor: str | None = Field(default=None, description="Sources: the corridor they supply (e.g. 'arsal').")
    tags: dict[str, str] | None = Field(default=None, description="A GraphML node's attributes the model does not "
                                        "use (OSMnx's street_count, highway...), kept as written.")


# --------------------------------------------------------------------------- [[routes]]
class Route(StrictModel):
    """A route between two nodes with its length, highest point, surface and capacity."""

    id: str = Field(min_length=1)
    from_: str = Field(alias="from", min_length=1)
    to: str = Field(min_length=1)
    length_km: float = Field(gt=0, le=2000)
    max_elevation_m: float | None = Field(default=None, ge=-500, le=9000,
                                          description="Highest point; default: the higher end node.")
    elevation_profile_m: list[float] | None = Field(default=None, min_length=1,
                                                    description="Optional profile; its maximum is the highest point.")
    surface: Surface
    capacity_tpd: float = Field(gt=0, le=1e6, description="Tonnes per day the route carries when open.")
    speed_kph: float | None = Field(default=None, ge=0.1, le=200, description="Default: the surface's speed.")
    corridor: str | None = Field(default=None, description="Label the claim metrics group by.")
    bidirectional: bool = True
    side: Side = Field(default="militant", description="Who holds the route; army-held roads are ploughed.")
    ploughed: bool | None = Field(default=None, description="Default: army-held roads are ploughed.")
    geometry: list[tuple[float, float]] | None = Field(
        default=None, min_length=2, max_length=1_000_000,
        description="The way's (lon, lat) vertices from the 'from' node to the 'to' node (an OSMnx edge's "
                    "geometry); default: the straight line between its end nodes.")
    tags: dict[str, str] | None = Field(default=None, description="A GraphML edge's attributes the model does not "
                                        "use (OSMnx's osmid, highway, name...), kept as written.")

    @model_validator(mode="after")
    def _profile_within_range(self) -> Route:
        for i, z in enumerate(self.elevation_profile_m or []):
            if not -500 <= z <= 9000:
                raise ValueError(f"elevation_profile_m[{i}]: must be between -500 and 9000")
        for i, (lon, lat) in enumerate(self.geometry or []):
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError(f"geometry[{i}]: (lon, lat) must be within (-180..180, -90..90), got ({lon}, {lat})")
        return self

    @property
    def is_ploughed(self) -> bool:
        """Whether snow is cleared from this route (army-held roads by default)."""
        if self.ploughed is not None:
            return self.ploughed
        return self.side == "army" and self.surface == "road"


# --------------------------------------------------------------------------- [weather]
# Monthly means, totals and storm rates: derived in scenario/normals.py (Damascus carried to 1500 m).


class ObservedWeather(StrictModel):
    """``[weather.observed]``: dated reports laid over the generator (:mod:`qalamoun_sim.scenario.observed`)."""

    csv: str = Field(min_length=1, description="Observed-days CSV: date and what reports give; blank = silent.")
    season_precip_fraction: float | None = Field(
        default=None, ge=0, le=5,
        description="A reported season total as a fraction of the climate's: scales the silent days' precipitation.")


class WeatherConfig(StrictModel):
    """``[weather]``: climate at a reference elevation, lapse rate, precipitation and storms."""

    reference_elevation_m: float = Field(default=1500.0, ge=-500, le=9000)
    monthly_mean_c: list[MonthlyTemperature] = Field(default_factory=lambda: list(MONTHLY_MEAN_C), min_length=12, max_length=12,
                                        description="Mean temperature at the reference elevation, Jan..Dec.")
    harmonics: int = Field(default=6, ge=0, le=6, description="Seasonal cycle's terms; 6 keeps each month (Epstein 1991).")
    anomaly_sd_c: float = Field(default=3.0, ge=0, le=20,
                                description="Stationary SD of daily anomalies [E] (daily min -3..-5, max 6..8).")
    anomaly_autocorrelation: float = Field(default=0.7, ge=0, lt=1, description="AR(1) coefficient [E].")
    lapse_rate_c_per_km: float = Field(default=5.5, ge=0, le=12,
                                       description="Winter near-surface lapse rate, background s.2 (4.5-6.5).")
    monthly_precip_mm: list[MonthlyPrecipitation] = Field(default_factory=lambda: list(MONTHLY_PRECIP_MM), min_length=12,
                                           max_length=12, description="Precipitation totals, Jan..Dec [E].")
    p_wet_after_dry: float = Field(default=0.15, ge=0, le=1, description="Markov wet-day persistence [E].")
    p_wet_after_wet: float = Field(default=0.55, ge=0, le=1, description="Markov wet-day persistence [E].")
    precip_gamma_shape: float = Field(default=0.8, gt=0, le=20, description="Wet-day amount shape [E].")
    storms_per_month: list[MonthlyStorms] = Field(default_factory=lambda: list(STORMS_PER_MONTH), min_length=12,
                                          max_length=12, description="Storm onset rate per month, Jan..Dec [E].")
    storm_days: int = Field(default=3, ge=1, le=30, description="Storm duration [E] (Alexa: 10-15 Dec 2013 [S]).")
    storm_cold_anomaly_c: float = Field(default=2.8, ge=0, le=30, description="Mean storm cold anomaly [E]: storm "
                                        "snow lines 1000-1400 m (background s.12).")
    storm_cold_shape: float = Field(default=8.0, ge=0.5, le=100, description="Its gamma shape [E]: outbreaks to "
                                    "500-900 m in the tail, Alexa-size rare (background s.12).")
    storm_precip_mm: float = Field(default=6.0, ge=0, le=300, description="Mean storm precipitation a day [E]: "
                                   "10-40 cm a storm at 1300-1600 m (background s.12).")
    storm_precip_shape: float = Field(default=2.0, ge=0.5, le=100, description="Gamma shape of storm intensity [E].")
    orographic_gradient_per_km: float = Field(
        default=1.0, ge=0, le=10,
        description="Precipitation gain per km above the reference [E]: storm depths 10-40 cm at 1300-1600 m "
                    "vs 40-100+ cm on the crest above 2000 m (background s.2), partly drifting.")
    orographic_gradient_below_per_km: float = Field(default=OROGRAPHIC_GRADIENT_BELOW_PER_KM, ge=0, le=10,
                                                    description="The same below it: Damascus (normals.py) [S/E].")
    observed: ObservedWeather | None = Field(default=None, description="Reported days over the generator.")
    replay_csv: str | None = Field(default=None,
                                   description="CSV (date, temperature_c, precipitation_mm) replayed instead.")
    band_min_m: float = Field(default=500.0, ge=-500, le=9000, description="Lowest snowpack band.")
    band_max_m: float = Field(default=3000.0, ge=-500, le=9000, description="Highest snowpack band.")
    band_step_m: float = Field(default=100.0, ge=10, le=2000, description="Snowpack band spacing.")

    @model_validator(mode="after")
    def _bands_ordered(self) -> WeatherConfig:
        if self.band_max_m <= self.band_min_m:
            raise ValueError("band_max_m: must be above band_min_m")
        return self


# --------------------------------------------------------------------------- [snow]
class SurfaceLimits(StrictModel):
    """Snow depth limits of one surface: open below ``slowed_cm``, closed at ``closed_cm`` and above."""

    slowed_cm: float = Field(ge=0, le=1000)
    closed_cm: float = Field(gt=0, le=1000)
    slowed_capacity_factor: float = Field(default=0.5, gt=0, le=1)
    slowed_speed_factor: float = Field(default=0.6, gt=0, le=1)
    broken_after_days: int | None = Field(default=None, ge=0, le=60, description="Traffic breaks it open this "
                                          "long after the last fresh snow (None: never).")
    broken_below_cm: float | None = Field(default=None, gt=0, le=1000, description="... below this depth.")

    @model_validator(mode="after")
    def _ordered(self) -> SurfaceLimits:
        if self.closed_cm <= self.slowed_cm:
            raise ValueError("closed_cm: must be above slowed_cm")
        if self.broken_below_cm is not None and self.broken_below_cm <= self.closed_cm:
            raise ValueError("broken_below_cm: must be above closed_cm")
        return self


def _default_speeds() -> dict[Surface, float]:
    return {"road": 50.0, "track": 20.0, "trail": 3.5}


def _default_limits() -> dict[Surface, SurfaceLimits]:
    # docs/background.md s.5: unploughed road open <10, slowed 10-15, closed >=15 [S: ground clearance];
    # track open <15, slowed 15-30, closed >=30-40 [E]; trail open <30, slowed 30-75, closed >75 [S: Marcy 1859].
    # Broken by traffic [E], docs/background.md s.5: tracks a week after the snow below 45 cm (calibrated: crest
    # tracks reopen 1-3 weeks after a major storm); trails the day after below 150 cm (0-3 days) [E].
    return {
        "road": SurfaceLimits(slowed_cm=10, closed_cm=15, slowed_capacity_factor=0.5, slowed_speed_factor=0.6),
        "track": SurfaceLimits(slowed_cm=15, closed_cm=35, slowed_capacity_factor=0.5, slowed_speed_factor=0.6,
                               broken_after_days=7, broken_below_cm=45),
        "trail": SurfaceLimits(slowed_cm=30, closed_cm=75, slowed_capacity_factor=0.5, slowed_speed_factor=0.5,
                               broken_after_days=1, broken_below_cm=150),
    }


class SnowConfig(StrictModel):
    """``[snow]``: precipitation phase, melt, density and passability per surface."""

    rain_snow_threshold_c: float = Field(default=1.5, ge=-10, le=10,
                                         description="50 % snow temperature, Jennings et al. 2018 [S].")
    mix_range_c: float = Field(default=3.0, ge=0, le=10, description="Width of the linear rain/snow mix (0-3 degC).")
    melt_factor_mm_per_c_day: float = Field(default=4.0, ge=0, le=20, description="Degree-day factor (3-6) [S/E], "
                                            "the equinox value of Snow-17's seasonal factor.")
    melt_factor_seasonal_ratio: float = Field(default=0.57, ge=0.05, le=1, description="Its 21 Dec / 21 Jun: 0.60 / "
                                              "1.05, Shamir & Georgakakos 2007 [S].")
    melt_base_c: float = Field(default=0.0, ge=-10, le=10)
    new_snow_density_kg_m3: float = Field(default=100.0, ge=30, le=500, description="Judson & Doesken 2000 [S].")
    liquid_water_capacity: float = Field(default=0.04, ge=0, le=0.4, description="Liquid held, fraction of the ice: "
                                         "Snow-17 PLWHC [S].")
    max_density_cold_kg_m3: float = Field(default=450.0, ge=100, le=917, description="Tabler's A, cold pack: CLASS, "
                                          "Brown et al. 2006 [S].")
    max_density_melting_kg_m3: float = Field(default=700.0, ge=100, le=917, description="... melting pack [S].")
    settling_days: float = Field(default=100.0 / 24.0, gt=0, le=100, description="100 h: CLASS, Longley 1960, "
                                 "Gold 1958 [S] (earlier estimate 5-10 days [E]).")
    limits: dict[Surface, SurfaceLimits] = Field(default_factory=_default_limits)
    ploughed_road: SurfaceLimits = Field(
        default_factory=lambda: SurfaceLimits(slowed_cm=5, closed_cm=30, slowed_capacity_factor=0.7,
                                              slowed_speed_factor=0.6),
        description="Ploughed (army) road: slowed >=5, closed >=25-30 until cleared, background s.5.")
    plough_days: int = Field(default=1, ge=0, le=30, description="Days to clear a ploughed road (0.5-2) [E].")

    @model_validator(mode="after")
    def _all_surfaces(self) -> SnowConfig:
        missing = [s for s in SURFACES if s not in self.limits]
        if missing:
            raise ValueError(f"limits: missing surface(s) {', '.join(missing)}")
        return self


# --------------------------------------------------------------------------- [interdiction]
class Asset(StrictModel):
    """A strike asset: air force, artillery or rocket battery."""

    id: str = Field(min_length=1)
    kind: Literal["air", "artillery", "rocket"]
    base: str = Field(min_length=1, description="Node the asset operates from.")
    range_km: float = Field(gt=0, le=2000)
    strikes_per_day: int = Field(ge=0, le=100)
    hit_probability: float = Field(ge=0, le=1)
    repair_days: int = Field(ge=1, le=365)
    grounded_when_precipitating: bool | None = Field(default=None,
                                                     description="Default: true for air, false otherwise.")
    start: dt.date | None = None
    end: dt.date | None = None
    targeting: Literal["random", "optimal"] = Field(
        default="random",
        description="How strikes pick their routes: at random in proportion to capacity, or the day's optimal "
                    "routes of the claim corridor within range (max-flow interdiction, Wood 1993).")

    @property
    def grounded_in_weather(self) -> bool:
        """Whether precipitation or a storm stops this asset (the air force by default)."""
        return self.kind == "air" if self.grounded_when_precipitating is None else self.grounded_when_precipitating


class Checkpoint(StrictModel):
    """An army checkpoint at a town's single entrance: it stops convoys, lets civilians through."""

    town: str = Field(min_length=1)
    stop_probability: float = Field(default=0.9, ge=0, le=1)
    start: dt.date | None = Field(default=None, description="Default: from the town's capture, or day 1 if army.")


class Capture(StrictModel):
    """A scripted capture of a town by the army on a date (background s.13)."""

    town: str = Field(min_length=1)
    date: dt.date


class SettlementPolicy(StrictModel):
    """Carrot and stick: a besieged town short of supply long enough settles with a daily probability."""

    shortage_days: int = Field(default=14, ge=1, le=3650)
    daily_probability: float = Field(default=0.05, ge=0, le=1)


class InterdictionConfig(StrictModel):
    """``[interdiction]``: strike assets, checkpoints, captures and siege lines."""

    assets: list[Asset] = Field(default_factory=empty_list)
    convoy_hit_probability: float = Field(default=0.5, ge=0, le=1,
                                          description="Chance a convoy on an interdicted route is hit.")
    checkpoints: list[Checkpoint] = Field(default_factory=empty_list)
    captures: list[Capture] = Field(default_factory=empty_list)
    capture_after_cut_days: int | None = Field(default=None, ge=1, le=3650,
                                               description="Capture a town cut off this long (None: never).")
    siege_lines: list[str] = Field(default_factory=empty_list, description="Route ids closed by siege lines.")
    settlement: SettlementPolicy = Field(default_factory=SettlementPolicy)


# --------------------------------------------------------------------------- [engine]
class EngineConfig(StrictModel):
    """``[engine]``: convoy size and behaviour."""

    convoy_t: float = Field(default=10.0, gt=0, le=10_000, description="Tonnes per convoy [E]: a few pickups.")
    closed_route_policy: Literal["wait", "reroute", "turn_back"] = "reroute"
    max_wait_days: int = Field(default=3, ge=0, le=365)
    speeds_kph: dict[Surface, Speed] = Field(
        default_factory=_default_speeds,
        description="Default speeds: pickups 15-25 km/h on tracks, mules 3-4 km/h (background s.13) [E].")


# --------------------------------------------------------------------------- [claim]
class ClaimConfig(StrictModel):
    """``[claim]``: the 70 percent question (background s.9)."""

    threshold: float = Field(default=0.70, ge=0, le=1)
    corridor: str = Field(default="arsal", min_length=1)
    metric: Literal["connectivity", "paths", "count", "capacity"] = Field(
        default="connectivity",
        description="The primary reading (README, 'Which reading'): supply lost by max flow; 'paths' counts "
                    "end-to-end supply routes cut; 'count' and 'capacity' count legs.")
    rule: Literal["half_days", "window_mean", "any_day"] = Field(
        default="half_days",
        description="When the claim holds in a winter: the share at the threshold on at least "
                    "min_fraction_of_days of the window's days; or its window mean at the threshold; "
                    "or on at least one day.")
    window_start: dt.date | None = Field(default=None, ge=dt.date(1900, 1, 1), le=dt.date(9000, 12, 31),
                                         description="Default: the first 1 Dec on or after start.")
    window_end: dt.date | None = Field(default=None, ge=dt.date(1900, 1, 1), le=dt.date(9001, 12, 31),
                                       description="Default: the last day of the following February.")
    min_fraction_of_days: float = Field(default=0.5, ge=0, le=1)


# --------------------------------------------------------------------------- the whole scenario
class Scenario(ShortRepr, StrictModel):
    """A validated scenario. Build it with :func:`load_scenario` or :func:`scenario_from_dict`."""

    scenario: ScenarioMeta
    nodes: list[Node] = Field(default_factory=empty_list)
    routes: list[Route] = Field(default_factory=empty_list)
    network: NetworkSource | None = Field(default=None, exclude=True, description="Where the nodes and routes were read from (they are in the dump, the section is not).")
    weather: WeatherConfig = Field(default_factory=WeatherConfig)
    snow: SnowConfig = Field(default_factory=SnowConfig)
    interdiction: InterdictionConfig | None = None
    engine: EngineConfig = Field(default_factory=EngineConfig)
    claim: ClaimConfig = Field(default_factory=ClaimConfig)
    source_path: str | None = Field(default=None, exclude=True, description="Where it was loaded from.")

    def node(self, node_id: str) -> Node:
        """The node with this id."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    @property
    def dates(self) -> list[dt.date]:
        """Every simulated date."""
        return self.scenario.dates

    def claim_window(self) -> tuple[dt.date, dt.date]:
        """The claim window, defaults resolved (1 Dec to end of February)."""
        start = self.scenario.start
        ws = self.claim.window_start
        if ws is None:
            ws = dt.date(start.year, 12, 1)
            if ws < start:
                ws = dt.date(start.year + 1, 12, 1)
        we = self.claim.window_end or (dt.date(ws.year + 1, 3, 1) - dt.timedelta(days=1))
        return ws, we

    def with_updates(self, updates: dict[str, Any]) -> Scenario:
        """A copy with dotted-path updates (``{"weather.lapse_rate_c_per_km": 6.0}``), re-validated."""
        data = self.model_dump(by_alias=True, exclude_none=True)
        for path, value in updates.items():
            _set_path(data, path, value)
        # the dump's file paths were resolved when this scenario loaded: resolving them again against
        # its folder would double a relative folder (obs/x.toml -> obs/obs/days.csv)
        scn = Scenario.from_document(data, self.source_path or "<dict>", None)
        return scn.model_copy(update={"network": self.network}) if self.network is not None else scn

    @classmethod
    def from_document(cls, data: dict[str, Any], source: str = "<dict>", base_dir: Path | None = None) -> Scenario:
        """Validate a document whose network is given inline: fields, referenced files, cross references.

        ``source`` names the document in error messages; relative file paths resolve against ``base_dir``.
        A town that no source reaches is a warning (:class:`~qalamoun_sim.scenario.checks.UnreachableTownWarning`).

        Raises
        ------
        ScenarioError
            On any invalid field, naming ``source`` and the field path.
        """
        try:
            scn = cls.model_validate(data)
        except ValidationError as exc:
            field, message = first_error(exc)
            raise ScenarioError(source, field, message) from None
        except (TypeError, ValueError) as exc:  # pragma: no cover - pydantic wraps these; belt and braces
            raise ScenarioError(source, None, str(exc)) from None
        if scn.weather.replay_csv:
            csv = Path(scn.weather.replay_csv)
            if not csv.is_absolute() and base_dir is not None:
                csv = base_dir / csv
            if not path_exists(csv, source, "weather.replay_csv"):
                raise ScenarioError(source, "weather.replay_csv", f"file not found: {csv}")
            from .replay import read_replay_csv  # read only by a scenario that names a file

            read_replay_csv(csv, scn.dates)  # every row checked now, not at run time
            scn = scn.model_copy(update={"weather": scn.weather.model_copy(update={"replay_csv": str(csv)})})
        if scn.weather.observed is not None:
            scn = _with_observed_path(scn, source, base_dir)
        scn = scn.model_copy(update={"source_path": source})
        check_references(scn, source)
        warn_unreachable(scn, source)
        return scn


def _with_observed_path(scn: Scenario, source: str, base_dir: Path | None) -> Scenario:
    """The observed-days file resolved against ``base_dir`` and read once (its every row checked now)."""
    obs = scn.weather.observed
    assert obs is not None
    csv = Path(obs.csv)
    if not csv.is_absolute() and base_dir is not None:
        csv = base_dir / csv
    if not path_exists(csv, source, "weather.observed.csv"):
        raise ScenarioError(source, "weather.observed.csv", f"file not found: {csv}")
    from .observed import read_observed_csv  # read only by a scenario that names a file

    read_observed_csv(csv, scn.dates)
    observed = obs.model_copy(update={"csv": str(csv)})
    return scn.model_copy(update={"weather": scn.weather.model_copy(update={"observed": observed})})


def _set_path(data: dict, path: str, value: Any) -> None:
    """Set ``a.b[2].c`` in nested dicts/lists."""
    cur: Any = data
    parts = path.replace("]", "").replace("[", ".").split(".")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        key: Any = int(part) if part.isdigit() else part
        if last:
            cur[key] = value
        else:
            if isinstance(cur, dict) and key not in cur:
                cur[key] = {}
            cur = cur[key]
