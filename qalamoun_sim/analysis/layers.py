"""GIS layers with results: the network's nodes and routes (:mod:`qalamoun_sim.network.gis`) with what a
results folder and a criticality ranking say about each.

Route columns from a results folder (``run --out``, its ``routes`` table; shares over every day and
replication, and over the claim window's days):

* ``snow_closed_share`` / ``window_snow_closed_share``: share of days snow closes the route
  (state ``snow`` or ``both``);
* ``interdicted_share`` / ``window_interdicted_share``: share of days interdiction closes a route snow
  left open (state ``interdicted``), as the claim counts it;
* ``mean_flow_tpd``: tonnes of route capacity used a day, the mean over days and replications.

Node columns (towns only) from its ``towns`` table: ``delivered_t``, ``shortfall_t``,
``days_without_stock``, ``p_captured``, ``p_settled`` (means over replications, as ``run`` prints them).

Route columns from a criticality ranking (:func:`~qalamoun_sim.analysis.critical.route_criticality`, or
the ``critical.csv`` that ``critical --out`` writes): ``criticality_rank``, ``max_flow_loss_tpd``,
``max_flow_loss_share``, ``delivered_loss_t``, ``delivered_loss_share``, ``captures_added``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ResultsError
from ..network.gis import Columns, geojson_layers, write_geojson, write_geopackage
from ..network.routes import RouteNetwork
from ..scenario import Scenario
from .claim import window_mask

__all__ = ["result_columns", "criticality_columns", "read_criticality", "network_layers", "write_layers",
           "ROUTE_RESULT_COLUMNS", "TOWN_RESULT_COLUMNS", "CRITICALITY_COLUMNS"]

#: Route columns from a results folder.
ROUTE_RESULT_COLUMNS: tuple[str, ...] = ("snow_closed_share", "interdicted_share", "window_snow_closed_share",
                                         "window_interdicted_share", "mean_flow_tpd")
#: Town columns from a results folder (:meth:`~qalamoun_sim.ensemble.Ensemble.town_report`).
TOWN_RESULT_COLUMNS: tuple[str, ...] = ("delivered_t", "shortfall_t", "days_without_stock", "p_captured", "p_settled")
#: Criticality columns: the layer's name and the ranking's.
CRITICALITY_COLUMNS: dict[str, str] = {"criticality_rank": "rank", "max_flow_loss_tpd": "max_flow_loss_tpd",
                                       "max_flow_loss_share": "max_flow_loss_share",
                                       "delivered_loss_t": "delivered_loss_t",
                                       "delivered_loss_share": "delivered_loss_share",
                                       "captures_added": "captures_added"}


def _column(frame: pd.DataFrame, key: str, value: str) -> dict[str, Any]:
    """``{id: value}``, numpy numbers as Python's (an integer column stays integer), missing as None."""
    return {str(k): (None if pd.isna(v) else v.item() if hasattr(v, "item") else v)
            for k, v in zip(frame[key], frame[value], strict=True)}


def result_columns(ensemble: Any) -> tuple[Columns, Columns]:
    """Node and route columns from an :class:`~qalamoun_sim.ensemble.Ensemble` (a results folder).

    Returns
    -------
    node_columns, route_columns : dict
        ``{column: {id: value}}`` (see the module's docstring).
    """
    scn = ensemble.scenario
    routes = ensemble.table("routes", columns=["day", "route", "state", "flow_t"])
    state = routes["state"].astype(str)
    window = window_mask(scn, scn.dates)
    in_window = window[routes["day"].to_numpy(dtype=int)] if window.any() else np.zeros(len(routes), dtype=bool)
    frame = pd.DataFrame({"route": routes["route"].astype(str), "snow": state.isin(["snow", "both"]).to_numpy(),
                          "interdicted": (state == "interdicted").to_numpy(), "flow": routes["flow_t"].to_numpy(),
                          "window": in_window})
    whole = frame.groupby("route", sort=False).agg(snow_closed_share=("snow", "mean"),
                                                   interdicted_share=("interdicted", "mean"),
                                                   mean_flow_tpd=("flow", "mean")).reset_index()
    winter = frame[frame["window"]].groupby("route", sort=False).agg(
        window_snow_closed_share=("snow", "mean"), window_interdicted_share=("interdicted", "mean")).reset_index()
    table = whole.merge(winter, on="route", how="left")
    route_cols = {c: _column(table, "route", c) for c in ROUTE_RESULT_COLUMNS}
    towns = ensemble.town_report().reset_index()
    key = "town" if "town" in towns.columns else towns.columns[0]
    node_cols = {c: _column(towns, key, c) for c in TOWN_RESULT_COLUMNS if c in towns.columns}
    return node_cols, route_cols


def criticality_columns(table: pd.DataFrame) -> Columns:
    """Route columns from a criticality ranking (:func:`~qalamoun_sim.analysis.critical.route_criticality`)."""
    return {name: _column(table, "route", col) for name, col in CRITICALITY_COLUMNS.items() if col in table.columns}


def read_criticality(path: str | Path) -> pd.DataFrame:
    """A ranking written by ``critical --out DIR``: ``DIR/critical.csv``, or the CSV itself.

    Raises
    ------
    ResultsError
        Missing, unreadable, or without the ``route`` and ``max_flow_loss_tpd`` columns.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "critical.csv"
    try:
        table = pd.read_csv(path)
    except FileNotFoundError:
        raise ResultsError(f"{path}: not found (write it with 'qalamoun-sim critical SCENARIO --out DIR')") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise ResultsError(f"{path}: cannot read as CSV: {exc}") from None
    missing = [c for c in ("route", "max_flow_loss_tpd") if c not in table.columns]
    if missing:
        raise ResultsError(f"{path}: not a criticality table (no column {', '.join(missing)})")
    table["route"] = table["route"].astype(str)
    return table


def _check_routes(net: RouteNetwork, ids: set[str], what: str) -> None:
    unknown = sorted(ids - set(net.route_ids))
    if unknown:
        raise ResultsError(f"{what}: made for another network: route {unknown[0]!r} is not in it"
                           + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""))


def network_layers(scenario: Scenario | RouteNetwork, ensemble: Any = None,
                   criticality: pd.DataFrame | None = None) -> dict[str, dict[str, Any]]:
    """The ``nodes`` and ``routes`` layers (GeoJSON FeatureCollections) with the columns of a results folder
    (an :class:`~qalamoun_sim.ensemble.Ensemble`) and of a criticality ranking, where given.

    Raises
    ------
    ResultsError
        Results or a ranking whose routes are not the network's.
    """
    net = scenario if isinstance(scenario, RouteNetwork) else RouteNetwork.from_scenario(scenario)
    node_cols: dict[str, Any] = {}
    route_cols: dict[str, Any] = {}
    if ensemble is not None:
        nodes, routes = result_columns(ensemble)
        _check_routes(net, set(routes["mean_flow_tpd"]), str(getattr(ensemble, "folder", None) or "results"))
        node_cols.update(nodes)
        route_cols.update(routes)
    if criticality is not None:
        _check_routes(net, set(criticality["route"].astype(str)), "criticality table")
        route_cols.update(criticality_columns(criticality))
    return geojson_layers(net, node_cols, route_cols)


def write_layers(layers: dict[str, dict[str, Any]], out: str | Path) -> list[Path]:
    """Write layers as one GeoPackage (``out`` ends in ``.gpkg``) or as GeoJSON files in the folder ``out``."""
    out = Path(out)
    if out.suffix.lower() == ".gpkg":
        return [write_geopackage(layers, out)]
    return list(write_geojson(layers, out).values())
