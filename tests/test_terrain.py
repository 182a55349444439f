"""Elevation profiles from a DEM: a synthetic GeoTIFF with a ridge of known height, sampled along routes."""

from __future__ import annotations

import json
import math
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import run_main

from qalamoun_sim.errors import ScenarioError
from qalamoun_sim.network.geometry import _haversine_km, line_length_m, points_along
from qalamoun_sim.network.terrain import profile_table, profiled_scenario, sample_profiles
from qalamoun_sim.scenario import Scenario, load_scenario, scenario_from_dict

rasterio = pytest.importorskip("rasterio")
from rasterio.transform import Affine  # noqa: E402
from rasterio.warp import transform as warp  # noqa: E402

RIDGE_LON, CREST_M, BASE_M, WIDTH_DEG = 36.30, 2400.0, 1200.0, 0.02
LAT = 34.05


def ridge(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """A north-south Gaussian ridge: 2400 m on its crest at 36.30 E, 1200 m far from it."""
    return BASE_M + (CREST_M - BASE_M) * np.exp(-(((np.asarray(lon) - RIDGE_LON) / WIDTH_DEG) ** 2))


def write_dem(path: Path, crs: str = "EPSG:4326", cell: float = 0.001, nodata: float | None = None,
              hole: tuple[float, float] | None = None,
              bounds: tuple[float, float, float, float] = (36.0, 33.9, 36.6, 34.2)) -> float:
    """A float32 GeoTIFF of :func:`ridge` over ``bounds`` (west, south, east, north; cell in degrees, or
    metres in a projected CRS); ``hole``: a band of longitudes set to ``nodata``. Returns the cell's width
    in degrees."""
    west, south, east, north = bounds
    if crs != "EPSG:4326":
        xs, ys = warp("EPSG:4326", crs, [west, east, west, east], [south, south, north, north])
        west, east, south, north = min(xs), max(xs), min(ys), max(ys)
    width, height = int(round((east - west) / cell)), int(round((north - south) / cell))
    tf = Affine((east - west) / width, 0.0, west, 0.0, -(north - south) / height, north)
    cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    x, y = tf.a * cols.ravel() + tf.b * rows.ravel() + tf.c, tf.d * cols.ravel() + tf.e * rows.ravel() + tf.f
    lon, lat = (x, y) if crs == "EPSG:4326" else warp(crs, "EPSG:4326", list(x), list(y))
    lon, lat = np.asarray(lon), np.asarray(lat)
    z = ridge(lon, lat)
    if hole is not None:
        z[(lon >= hole[0]) & (lon <= hole[1])] = nodata
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32",
                       crs=crs, transform=tf, nodata=nodata) as ds:
        ds.write(z.reshape(height, width).astype("float32"), 1)
    return cell if crs == "EPSG:4326" else cell / (111_320 * math.cos(math.radians(LAT)))


def one_cell_drop(cell_deg: float) -> float:
    """How much the ridge falls one cell off its crest: the sampled crest's tolerance."""
    return float(CREST_M - ridge(np.array([RIDGE_LON + cell_deg]), np.array([LAT]))[0])


def scenario(routes: list[dict[str, Any]] | None = None) -> Scenario:
    """West (36.10 E) and east (36.50 E) of the ridge, and a second western place north of the first."""
    def place(nid: str, kind: str, lon: float, lat: float = LAT, **kw: Any) -> dict[str, Any]:
        return {"id": nid, "kind": kind, "side": "militant", "elevation_m": 1200, "lat": lat, "lon": lon, **kw}

    base = [{"id": "over", "from": "w", "to": "e", "length_km": 40, "surface": "track", "capacity_tpd": 40,
             "max_elevation_m": 1800, "corridor": "c"},
            {"id": "straight", "from": "w", "to": "n", "length_km": 12, "surface": "trail", "capacity_tpd": 5,
             "corridor": "c"},
            {"id": "bent", "from": "w", "to": "n", "length_km": 40, "surface": "trail", "capacity_tpd": 5,
             "geometry": [[36.10, LAT], [36.40, LAT + 0.05], [36.10, LAT + 0.1]], "corridor": "c"}]
    return scenario_from_dict({
        "scenario": {"name": "ridge", "start": "2013-12-01", "days": 5},
        "nodes": [place("w", "source", 36.10, corridor="c", supply_tpd=50), place("e", "town", 36.50),
                  place("n", "town", 36.10, LAT + 0.1)],
        "routes": routes or base})


@pytest.fixture
def dem(tmp_path: Path) -> Callable[..., tuple[Path, float]]:
    def make(**kw: Any) -> tuple[Path, float]:
        path = tmp_path / f"dem-{len(list(tmp_path.glob('*.tif')))}.tif"
        return path, write_dem(path, **kw)
    return make


# --------------------------------------------------------------------------- sampling
def test_points_along_every_step_both_ends_included() -> None:
    line = [(36.1, LAT), (36.4, LAT + 0.05), (36.1, LAT + 0.1)]
    lon, lat, d = points_along(line, 30.0)
    assert d[0] == 0 and d[-1] == pytest.approx(line_length_m(line))
    assert np.allclose(np.diff(d)[:-1], 30.0) and 0 < np.diff(d)[-1] <= 30.0
    assert (lon[0], lat[0]) == line[0] and (lon[-1], lat[-1]) == pytest.approx(line[-1])
    hops = [_haversine_km(lat[i], lon[i], lat[i + 1], lon[i + 1]) * 1000 for i in range(len(d) - 1)]
    assert max(hops) <= 30.0 * 1.001  # no step longer than asked (a chord in degrees: within 0.1 %), bend too


@pytest.mark.parametrize("crs,cell", [("EPSG:4326", 0.001), ("EPSG:32637", 90.0)])
@pytest.mark.parametrize("method", ["bilinear", "nearest"])
def test_the_planted_ridge_is_found_within_a_cells_height(dem: Callable[..., tuple[Path, float]], crs: str,
                                                          cell: float, method: str) -> None:
    path, cell_deg = dem(crs=crs, cell=cell)
    profiles = {p.route: p for p in sample_profiles(scenario(), path, 30.0, method)}  # type: ignore[arg-type]
    over = profiles["over"]
    assert abs(over.sampled_max_m - CREST_M) <= one_cell_drop(cell_deg) + 1e-3
    crest_km = _haversine_km(LAT, 36.10, LAT, RIDGE_LON)
    assert over.crest_km == pytest.approx(crest_km, abs=2 * cell_deg * 111.32 * math.cos(math.radians(LAT)))
    assert over.elevation_m[0] == pytest.approx(BASE_M, abs=1) and over.skipped == 0
    assert over.difference_m == pytest.approx(over.sampled_max_m - 1800)  # typed 1800 m


def test_a_bent_route_is_sampled_along_its_bend(dem: Callable[..., tuple[Path, float]]) -> None:
    path, cell_deg = dem()
    profiles = {p.route: p for p in sample_profiles(scenario(), path)}
    assert profiles["straight"].sampled_max_m == pytest.approx(BASE_M, abs=1)   # stays west of the ridge
    assert abs(profiles["bent"].sampled_max_m - CREST_M) <= one_cell_drop(cell_deg) + 1e-3  # crosses it twice
    bend = [[36.10, LAT], [36.40, LAT + 0.05], [36.10, LAT + 0.1]]
    assert profiles["bent"].distance_m[-1] == pytest.approx(line_length_m([tuple(v) for v in bend]))  # type: ignore[misc]
    high = profiles["bent"].elevation_m > 2000
    assert np.count_nonzero(np.diff(high.astype(int)) == 1) == 2  # up the ridge twice, once each way


def test_the_step_sets_the_samples(dem: Callable[..., tuple[Path, float]]) -> None:
    path, _ = dem()
    fine, coarse = (sample_profiles(scenario(), path, step)[0] for step in (30.0, 300.0))
    length = _haversine_km(LAT, 36.10, LAT, 36.50) * 1000
    assert len(fine.elevation_m) == math.ceil(length / 30) + 1 and len(coarse.elevation_m) == math.ceil(length / 300) + 1


def test_nodata_samples_are_skipped_and_counted(dem: Callable[..., tuple[Path, float]]) -> None:
    path, _ = dem(nodata=-9999.0, hole=(36.28, 36.32))
    over = sample_profiles(scenario(), path)[0]
    assert over.skipped > 0 and np.isnan(over.elevation_m).sum() == over.skipped
    assert np.nanmin(over.elevation_m) >= BASE_M - 1  # no -9999 leaks in, not even blended by bilinear
    assert over.sampled_max_m < CREST_M - 100          # the crest is in the hole


@pytest.mark.filterwarnings("ignore:.*towns not reachable")
def test_a_route_off_the_dem_is_an_error_naming_it(dem: Callable[..., tuple[Path, float]]) -> None:
    path, _ = dem()
    far = scenario([{"id": "far", "from": "w", "to": "e", "length_km": 40, "surface": "track", "capacity_tpd": 4,
                     "geometry": [[40.0, 30.0], [40.1, 30.0]]}])
    profiles = sample_profiles(far, path)
    assert profiles[0].skipped == len(profiles[0].elevation_m) and math.isnan(profile_table(profiles)[0]["difference_m"])
    with pytest.raises(ScenarioError, match=r"routes\[0\]: route 'far': every one of its \d+ samples falls outside"):
        profiled_scenario(far, profiles)


def test_profiles_fill_the_scenario(dem: Callable[..., tuple[Path, float]]) -> None:
    path, cell_deg = dem()
    scn = scenario()
    profiles = sample_profiles(scn, path)
    out = profiled_scenario(scn, profiles)
    for route, prof in zip(out.routes, profiles, strict=True):
        assert route.elevation_profile_m == [round(float(z), 1) for z in prof.elevation_m]
        assert route.max_elevation_m == max(route.elevation_profile_m)
    assert out.routes[2].geometry == scn.routes[2].geometry
    table = profile_table(profiles)
    assert [r["route"] for r in table][0] == "bent"   # typed: its ends, 1200 m; the terrain: 2400 m
    assert table[0]["typed_from"] == "end nodes" and table[0]["difference_m"] > 1100
    assert [r["typed_from"] for r in table if r["route"] == "over"] == ["max_elevation_m"]


def test_a_bad_dem_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="DEM not found"):
        sample_profiles(scenario(), tmp_path / "none.tif")
    text = tmp_path / "notes.tif"
    text.write_text("not a raster")
    with pytest.raises(ScenarioError, match="cannot read as a raster"):
        sample_profiles(scenario(), text)


# --------------------------------------------------------------------------- the command
def scenario_file(tmp_path: Path) -> Path:
    from qalamoun_sim.scenario.writer import write_scenario

    return write_scenario(scenario(), tmp_path / "ridge.toml")


def test_profile_command_reports_and_writes_a_scenario_that_loads(dem: Callable[..., tuple[Path, float]],
                                                                  tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = dem(crs="EPSG:32637", cell=90.0)
    src = scenario_file(tmp_path)
    out = tmp_path / "sub" / "profiled.toml"
    rc, text, err = run_main(capsys, "profile", str(src), "--dem", str(path), "--out", str(out), "--top", "2")
    assert rc == 0 and err == ""
    lines = text.splitlines()
    assert "EPSG:32637" in lines[0] and lines[0].endswith(" m):")
    samples = sum(len(p.elevation_m) for p in sample_profiles(scenario(), path))
    assert lines[1] == f"  3 routes, one sample every 30 m, {samples:,} samples (0 skipped)"
    assert lines[3].startswith("bent") and "end nodes" in lines[3] and "1 more routes" in lines[5]
    assert f"wrote {out}" in text
    scn = load_scenario(out)
    assert scn.routes[0].max_elevation_m == pytest.approx(CREST_M, abs=5)
    assert tomllib.loads(out.read_text())["routes"][2]["geometry"][1] == [36.40, LAT + 0.05]
    rc, text, _ = run_main(capsys, "profile", str(out), "--dem", str(path), "--json")
    doc = json.loads(text)
    assert rc == 0 and doc["dem"]["crs"] == "EPSG:32637" and doc["out"] is None
    assert max(abs(r["difference_m"]) for r in doc["routes"]) < 0.1  # profiled: typed = sampled


def test_profile_command_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    src = scenario_file(tmp_path)
    rc, out, err = run_main(capsys, "profile", str(src), "--dem", str(tmp_path / "nowhere.tif"))
    assert rc == 2 and out == "" and err == f"{tmp_path / 'nowhere.tif'}: DEM not found\n"
    rc, out, err = run_main(capsys, "profile", str(src), "--dem", str(src))
    assert rc == 2 and out == "" and len(err.splitlines()) == 1 and "cannot read as a raster" in err
    rc, out, err = run_main(capsys, "profile", str(src), "--dem", "x.tif", "--step-m", "0")
    assert rc == 2 and "--step-m" in err and len(err.splitlines()) == 1
    monkeypatch.setitem(sys.modules, "rasterio", None)  # as if the geo extra were not installed
    rc, out, err = run_main(capsys, "profile", str(src), "--dem", str(src))
    assert rc == 2 and err == "qalamoun-sim: rasterio is not installed: pip install 'qalamoun-sim[geo]'\n"


def test_profile_command_names_skipped_samples(dem: Callable[..., tuple[Path, float]], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = dem(nodata=-9999.0, hole=(36.28, 36.32))
    out = tmp_path / "p.toml"
    rc, text, err = run_main(capsys, "profile", str(scenario_file(tmp_path)), "--dem", str(path), "--out", str(out))
    assert rc == 0 and err.startswith("warning: ") and "2 routes have samples outside the DEM or on nodata" in err
    assert "over (" in err and "bent (" in err and len(err.splitlines()) == 1
    assert out.exists()



def test_a_scenario_with_weather_files_is_profiled_and_written_where_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    from qalamoun_sim.scenario.loader import default_scenario_path

    (tmp_path / "in").mkdir()
    for name in ("qalamoun_2013_14_observed.toml", "qalamoun_2013_14_observed.csv"):
        shutil.copy(default_scenario_path().parent / name, tmp_path / "in" / name)
    write_dem(tmp_path / "wide.tif", cell=0.005, bounds=(35.8, 33.4, 37.3, 34.6))  # the whole bundled network
    monkeypatch.chdir(tmp_path)  # relative paths, as a user types them
    csv = (tmp_path / "in" / "qalamoun_2013_14_observed.csv").resolve()
    for out, named in (("in/same.toml", '"qalamoun_2013_14_observed.csv"'), ("elsewhere/other.toml", f'"{csv}"')):
        rc, _, err = run_main(capsys, "profile", "in/qalamoun_2013_14_observed.toml", "--dem", "wide.tif",
                              "--out", out, "--json")
        assert rc == 0 and err == ""
        assert f"csv = {named}" in Path(out).read_text()  # beside it: relative; elsewhere: absolute
        again = load_scenario(out)
        assert again.weather.observed is not None and Path(again.weather.observed.csv).resolve() == csv
        assert all(r.max_elevation_m == max(r.elevation_profile_m or [-1]) for r in again.routes)
