"""GIS layers of a network: nodes as points, routes as lines along their geometry, with extra columns.

Two layers, ``nodes`` and ``routes``, as GeoJSON (one FeatureCollection per layer, a file each:
``nodes.geojson``, ``routes.geojson``) or as one GeoPackage with both (geopandas and pyogrio, the
``geo`` extra). Coordinates are longitude/latitude (EPSG:4326). A route's line is its ``geometry``
when it has one, else the straight line between its end nodes.

Results (share of days closed, mean flow, criticality) come in as plain columns, ``{column: {id:
value}}``: this layer does not read results folders (:mod:`qalamoun_sim.analysis.layers` does).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import QalamounError
from ..io import atomic_write, write_text
from .geometry import route_vertices

if TYPE_CHECKING:  # pragma: no cover - only for the annotations: routes.py imports this module
    from .routes import RouteNetwork

__all__ = ["LAYERS", "Columns", "geojson_layers", "write_geojson", "write_geopackage"]

#: The layers, in the order they are written.
LAYERS: tuple[str, ...] = ("nodes", "routes")

#: Extra columns of a layer: ``{column: {node or route id: value}}``; ids left out get null.
Columns = Mapping[str, Mapping[str, Any]]


def _extra(columns: Columns | None, ident: str) -> dict[str, Any]:
    return {name: values.get(ident) for name, values in (columns or {}).items()}


def _clash(columns: Columns | None, props: dict[str, Any], layer: str) -> None:
    taken = sorted(set(columns or {}) & set(props))
    if taken:
        raise ValueError(f"{layer} columns {taken} would replace the network's own attributes")


def geojson_layers(net: RouteNetwork, node_columns: Columns | None = None,
                   route_columns: Columns | None = None) -> dict[str, dict[str, Any]]:
    """One GeoJSON FeatureCollection per layer: ``{"nodes": ..., "routes": ...}``.

    Node features are Points with every node attribute; route features are LineStrings along the
    route's vertices with every route attribute (``from``, ``to`` ...; ``max_elevation_m``, ``speed_kph``
    and ``ploughed`` as the model uses them: the typed value, else its default, e.g. the profile's
    highest point or the higher end node), then the extra columns. A route's ``elevation_profile_m``
    is kept as a list.

    Examples
    --------
    >>> from qalamoun_sim.network import RouteNetwork
    >>> from qalamoun_sim.scenario import load_scenario
    >>> net = RouteNetwork.from_scenario(load_scenario())
    >>> layers = geojson_layers(net, route_columns={"mean_flow_tpd": {"arsal-jurd": 31.5}})
    >>> sorted(layers), layers["routes"]["features"][0]["properties"]["mean_flow_tpd"]
    (['nodes', 'routes'], 31.5)
    """
    nodes = []
    for n in net.nodes.values():
        props = n.model_dump(exclude={"lat", "lon"})
        _clash(node_columns, props, "node")
        nodes.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [n.lon, n.lat]},
                      "properties": {**props, **_extra(node_columns, n.id)}})
    routes = []
    for i, r in enumerate(net.routes):
        props = r.model_dump(by_alias=True, exclude={"geometry"})
        props.update(max_elevation_m=float(net.max_elevation_m[i]), speed_kph=float(net.speed_kph[i]),
                     ploughed=bool(net.ploughed[i]))
        _clash(route_columns, props, "route")
        line = [list(v) for v in route_vertices(r, net.nodes)]
        routes.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": line},
                       "properties": {**props, **_extra(route_columns, r.id)}})
    return {"nodes": {"type": "FeatureCollection", "features": nodes},
            "routes": {"type": "FeatureCollection", "features": routes}}


def write_geojson(layers: Mapping[str, dict[str, Any]], folder: str | Path) -> dict[str, Path]:
    """Write each layer as ``folder/<layer>.geojson`` (atomically, one file at a time); the paths by layer."""
    folder = Path(folder)
    if folder.suffix.lower() in (".geojson", ".json"):
        raise QalamounError(f"{folder}: GeoJSON layers go in a folder (nodes.geojson, routes.geojson); "
                            "give a folder, or a .gpkg file for one GeoPackage")
    if folder.exists() and not folder.is_dir():
        raise QalamounError(f"{folder}: exists and is not a folder")
    return {name: write_text(json.dumps(fc, indent=1), folder / f"{name}.geojson") for name, fc in layers.items()}


def _frame(fc: dict[str, Any]) -> Any:
    """A GeoDataFrame of a FeatureCollection; lists (a route's profile) as JSON text, which GeoPackage holds."""
    import geopandas as gpd
    from shapely.geometry import shape

    rows = [{k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in f["properties"].items()}
            for f in fc["features"]]
    frame = gpd.GeoDataFrame(rows, geometry=[shape(f["geometry"]) for f in fc["features"]], crs="EPSG:4326")
    for col in frame.columns:  # booleans with nulls (an extra column) as nullable booleans, which GDAL types
        if col != "geometry" and frame[col].dtype == object:
            values = frame[col].dropna()
            if len(values) and all(isinstance(v, bool) for v in values):
                frame[col] = frame[col].astype("boolean")
    return frame


def write_geopackage(layers: Mapping[str, dict[str, Any]], path: str | Path) -> Path:
    """Write the layers (:func:`geojson_layers`) as one GeoPackage, a table each, atomically.

    Raises
    ------
    QalamounError
        geopandas or pyogrio is not installed (the ``geo`` extra).
    """
    try:
        import geopandas  # noqa: F401
        import pyogrio  # noqa: F401
    except ImportError:
        raise QalamounError("geopandas and pyogrio are not installed: pip install 'qalamoun-sim[geo]'") from None
    frames = {name: _frame(fc) for name, fc in layers.items()}

    def write(tmp: Path) -> None:
        gpkg = tmp.with_name(tmp.name + ".gpkg")  # GDAL wants the suffix; renamed at once, removed on failure
        try:
            for name, frame in frames.items():
                frame.to_file(gpkg, layer=name, driver="GPKG", engine="pyogrio")
            os.replace(gpkg, tmp)
        finally:
            gpkg.unlink(missing_ok=True)

    return atomic_write(path, write)
