"""The parameters ``explore`` varies and their ranges: the estimates of docs/background.md, or a ranges file.

A parameter is a dotted scenario path (``weather.lapse_rate_c_per_km``) or one of the derived knobs
of :data:`qalamoun_sim.analysis.sweep.DERIVED` (``climate.warming_c``, ``corridor.elevation_shift_m``,
``climate.precip_scale``, ``climate.storm_rate_scale``). :data:`DEFAULT_RANGES` lists every estimate
that moves the snow on the Arsal tracks, each with the range it has in the domain notes (or, where
they give none, the reasoning written beside it). A ranges file overrides them::

    [explore]
    defaults = true          # keep the default parameters not named below (false: only these)

    [[explore.parameters]]
    path = "climate.warming_c"
    low = -1.0
    high = 1.0

Every range is checked against the scenario's schema at both ends, so a value the schema refuses
never reaches a worker; bad input is one :class:`~qalamoun_sim.errors.ScenarioError` naming the
file and the field (``ranges.toml: explore.parameters[1].high: ...``).
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from ..errors import ScenarioError
from ..scenario import Scenario
from ..scenario.messages import first_error
from ..scenario.schema import StrictModel
from .sweep import DERIVED, apply_param

__all__ = ["Parameter", "DEFAULT_RANGES", "default_parameters", "load_ranges", "check_parameter", "parameter_paths"]


@dataclass(frozen=True)
class Parameter:
    """A parameter to vary: its path, its range and where the range comes from.

    ``integer`` parameters (a count of days) take whole values, each equally likely.
    """

    path: str
    low: float
    high: float
    integer: bool = False
    note: str = ""

    def record(self) -> dict[str, Any]:
        """JSON-ready: path, low, high, integer, note."""
        return {"path": self.path, "low": self.low, "high": self.high, "integer": self.integer, "note": self.note}


#: path, low, high, source of the range ([S] stated in a source, [E] estimate; s.N: the section of docs/background.md).
DEFAULT_RANGES: tuple[tuple[str, float, float, str], ...] = (
    ("climate.warming_c", -1.5, 1.5,
     "[E] the 1500 m normals are Damascus's (616 m) carried up by the lapse rate: 4.5-6.5 degC/km over 884 m "
     "moves them +-0.9 degC, Damascus's January 6-7 degC a further +-0.5 (s.1, s.2)"),
    ("corridor.elevation_shift_m", -150.0, 150.0,
     "[E] smuggling-track saddles at about 1800-2100 m (s.13); the scenario's crests 1800-2150 m, each +-150 m"),
    ("climate.precip_scale", 0.8, 1.6,
     "[E] 400 mm a year at 1500 m, within Rankous's 350-650 mm [S] with a drier lee (s.1): 320-640 mm"),
    ("weather.orographic_gradient_per_km", 0.5, 2.0,
     "[E] storm depths 10-40 cm at 1300-1600 m against 40-100+ cm above 2000 m, partly drift (s.2)"),
    ("weather.lapse_rate_c_per_km", 4.5, 6.5, "[E] winter near-surface lapse rate 4.5-6.5 degC/km (s.2)"),
    ("snow.melt_factor_mm_per_c_day", 3.0, 6.0, "[S/E] degree-day factor 3-6 mm/degC/day (s.4)"),
    ("snow.rain_snow_threshold_c", 0.5, 2.5,
     "[S] 50 % snow at 1.0 degC in the NH mean, 95 % of stations -0.4..2.4, continental warmer (s.3)"),
    ("snow.new_snow_density_kg_m3", 70.0, 120.0, "[S] new-snow density 70-120 kg/m3 (s.4)"),
    ("snow.settling_days", 4.0, 10.0,
     "[S/E] settling time constant: 100 h in CLASS [S] to an earlier estimate's 5-10 days [E] (s.4)"),
    ("snow.limits.track.closed_cm", 30.0, 40.0,
     "[E] tracks closed at 30-40 cm of undisturbed snow (s.5), below the 45 cm that traffic breaks"),
    ("snow.limits.track.broken_after_days", 5, 9,
     "[E] days after the last snow before traffic breaks a track open, calibrated to crest tracks closed "
     "1-3 weeks after a major storm (s.5, s.12): 7 +-2"),
    ("weather.storm_precip_mm", 4.0, 9.0,
     "[E] mean storm precipitation a day, calibrated to single storms of 10-40 cm at 1300-1600 m (s.12): "
     "-33 % / +50 % of 6 mm"),
    ("weather.storm_cold_anomaly_c", 1.7, 3.9,
     "[E] calibrated to storm snow lines of 1000-1400 m (s.12): 400 m is 2.2 degC at 5.5 degC/km"),
    ("climate.storm_rate_scale", 0.7, 1.4,
     "[E] storm onsets a month scaled: 10-20 snowfall days a year at 1300-1600 m (s.12)"),
    ("weather.storm_days", 2, 4, "[E] storm duration; Alexa lasted 10-15 Dec 2013, the worst in 60 years (s.1)"),
    ("weather.anomaly_sd_c", 2.5, 3.5, "[E] daily anomalies: minima -3..-5, maxima 6..8 degC at 1500 m (s.1)"),
)


class _Range(StrictModel):
    path: str = Field(min_length=1)
    low: float
    high: float
    note: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        if self.high <= self.low:
            raise ValueError(f"high: must be above low (got low {self.low:g}, high {self.high:g})")
        return self


class _Section(StrictModel):
    defaults: bool = True
    parameters: list[_Range] = Field(default_factory=list)


class _Document(StrictModel):
    explore: _Section


def parameter_paths(scenario: Scenario) -> list[str]:
    """Every numeric scenario path and derived knob a parameter may name (for suggestions)."""
    out = list(DERIVED)

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{prefix}.{k}" if prefix else str(k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{prefix}[{i}]")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out.append(prefix)

    walk(scenario.model_dump(by_alias=True), "")
    return out


def _current(scenario: Scenario, path: str) -> Any:
    """The scenario's value at a dotted path; KeyError when there is none."""
    cur: Any = scenario.model_dump(by_alias=True)
    for part in path.replace("]", "").replace("[", ".").split("."):
        try:
            cur = cur[int(part)] if isinstance(cur, list) else cur[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise KeyError(path) from None
    if isinstance(cur, dict | list):
        raise KeyError(path)
    return cur


def check_parameter(scenario: Scenario, param: Parameter, source: str, field: str) -> Parameter:
    """``param`` checked against the scenario: a known path, both ends accepted by the schema.

    Returns the parameter with ``integer`` set from the scenario's value (an ``int`` field).

    Raises
    ------
    ScenarioError
        ``source: field.path: unknown parameter ...`` or ``source: field.low|high: ... outside ...``.
    """
    integer = param.integer
    if param.path not in DERIVED:
        try:
            value = _current(scenario, param.path)
        except KeyError:
            close = difflib.get_close_matches(param.path, parameter_paths(scenario), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ScenarioError(source, f"{field}.path", f"unknown parameter '{param.path}'{hint}") from None
        integer = isinstance(value, int) and not isinstance(value, bool)
    if integer and (param.low != int(param.low) or param.high != int(param.high)):
        raise ScenarioError(source, f"{field}.low", f"{param.path} takes whole numbers, got "
                                                    f"{param.low:g} .. {param.high:g}")
    for end in ("low", "high"):
        value = getattr(param, end)
        try:
            apply_param(scenario, param.path, int(value) if integer else float(value))
        except ScenarioError as exc:
            where = f"{exc.field}: " if exc.field else ""
            raise ScenarioError(source, f"{field}.{end}",
                                f"{value:g} is outside what the scenario allows ({where}{exc.message})") from None
    return Parameter(param.path, param.low, param.high, integer, param.note)


def default_parameters(scenario: Scenario) -> list[Parameter]:
    """:data:`DEFAULT_RANGES` checked against ``scenario`` (its schema's bounds and integer fields)."""
    return [check_parameter(scenario, Parameter(p, lo, hi, note=note), "explore defaults", p)
            for p, lo, hi, note in DEFAULT_RANGES]


def _read(path: Path) -> dict[str, Any]:
    source = str(path)
    if not path.is_file():
        raise ScenarioError(source, None, "file not found" if not path.exists() else "is not a file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, None, f"TOML syntax: {exc}") from None
    except UnicodeDecodeError:
        raise ScenarioError(source, None, "not a UTF-8 text file") from None
    except OSError as exc:
        raise ScenarioError(source, None, f"cannot read: {exc.strerror or exc}") from None


def load_ranges(path: str | Path | None, scenario: Scenario) -> list[Parameter]:
    """The parameters to explore: the defaults, overridden (or replaced) by a ranges file's ``[explore]``.

    A parameter the file names replaces the default of the same path, in the default's place; new
    ones follow in the file's order.

    Raises
    ------
    ScenarioError
        A missing file, TOML syntax, an unknown key or parameter, ``low >= high``, or an end the
        scenario's schema refuses; naming the file and the field.
    """
    defaults = default_parameters(scenario)
    if path is None:
        return defaults
    source = str(path)
    try:
        doc = _Document.model_validate(_read(Path(path)))
    except ValidationError as exc:
        field, message = first_error(exc)
        raise ScenarioError(source, field, message) from None
    given: dict[str, Parameter] = {}
    for i, r in enumerate(doc.explore.parameters):
        field = f"explore.parameters[{i}]"
        if r.path in given:
            raise ScenarioError(source, f"{field}.path", f"'{r.path}' is given twice")
        given[r.path] = check_parameter(scenario, Parameter(r.path, r.low, r.high, note=r.note or "ranges file"),
                                        source, field)
    if not doc.explore.defaults:
        if not given:
            raise ScenarioError(source, "explore.parameters", "no parameter to explore (defaults = false)")
        return list(given.values())
    out = [given.pop(p.path, p) for p in defaults]
    return out + list(given.values())
