"""Labelled arrays (environment/labelled.py): the state, a run's and an ensemble's tables as xarray Datasets."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

xr = pytest.importorskip("xarray")

import qalamoun_sim as qs  # noqa: E402
from qalamoun_sim.environment.labelled import state_dataset  # noqa: E402


@pytest.fixture(scope="module")
def scenario() -> qs.Scenario:
    return qs.synthetic_scenario(40, days=30, seed=1)


@pytest.fixture(scope="module")
def state(scenario: qs.Scenario) -> qs.ExogenousState:
    return qs.compute_state(scenario, [2, 5, 7], seed=3)


def test_state_dims_coords_and_values(state: qs.ExogenousState) -> None:
    ds = state.to_xarray(scenario="tiny", seed=3)
    assert ds["snow_capacity_factor"].dims == ("realization", "time", "route")
    assert ds["snow_depth_cm"].dims == ("realization", "time", "elevation")
    assert ds["temperature_c"].dims == ("realization", "time")
    assert list(ds["realization"].values) == [2, 5, 7]
    assert list(ds["route"].values) == list(state.route_ids)
    assert np.array_equal(ds["elevation"].values, state.band_elevations_m)
    assert pd.Timestamp(ds["time"].values[0]).date() == state.dates[0]
    assert list(ds["day"].values) == list(range(state.n_days))
    for name, arr in (("snow_capacity_factor", state.snow_capacity_factor), ("interdicted", state.interdicted),
                      ("snow_depth_cm", state.band_depth_cm), ("capacity_factor", state.capacity_factor),
                      ("state", state.state_code), ("precipitation_mm", state.precipitation_mm)):
        assert np.array_equal(ds[name].values, arr), name
    assert ds.attrs["scenario"] == "tiny" and ds.attrs["seed"] == 3
    assert ds["snow_depth_cm"].attrs["units"] == "cm" and ds["elevation"].attrs["units"] == "m"
    assert ds["state"].attrs["flag_meanings"] == "open snow interdicted both"


def test_state_dataset_shares_the_arrays(state: qs.ExogenousState) -> None:
    ds = state_dataset(state)
    assert np.shares_memory(ds["snow_depth_cm"].values, state.band_depth_cm)
    assert np.shares_memory(ds["snow_capacity_factor"].values, state.snow_capacity_factor)


def test_state_netcdf_round_trip(state: qs.ExogenousState, tmp_path) -> None:
    pytest.importorskip("scipy")
    ds = state.to_xarray(seed=3)
    path = tmp_path / "state.nc"
    ds.to_netcdf(path, engine="scipy")
    with xr.open_dataset(path, engine="scipy") as back:
        assert np.array_equal(back["snow_capacity_factor"].values, state.snow_capacity_factor)
        assert np.array_equal(back["interdicted"].values, state.interdicted)
        assert list(back["route"].values) == list(state.route_ids)
        assert pd.Timestamp(back["time"].values[-1]).date() == state.dates[-1]
        assert back["snow_depth_cm"].attrs["units"] == "cm"


@pytest.mark.skipif(importlib.util.find_spec("h5netcdf") is None or importlib.util.find_spec("h5py") is None,
                    reason="h5netcdf (the netcdf extra) not installed")
def test_state_netcdf4_round_trip(state: qs.ExogenousState, tmp_path) -> None:
    path = tmp_path / "state.nc"
    state.to_xarray().to_netcdf(path, engine="h5netcdf")
    with xr.open_dataset(path, engine="h5netcdf") as back:
        assert np.array_equal(back["route_depth_cm"].values, state.route_depth_cm)


def test_run_to_xarray_matches_tables(scenario: qs.Scenario) -> None:
    run = qs.simulate_replication(scenario, replication=1, seed=4)
    ds = run.to_xarray()
    assert {"time", "route", "town", "elevation"} <= set(ds.dims) and "realization" not in ds.dims
    t = run.towns.assign(town=run.towns["town"].astype(str))
    row = t.iloc[len(t) // 2]
    assert ds["stock_t"].sel(town=row["town"]).isel(time=int(row["day"])).item() == row["stock_t"]
    assert list(ds["town"].values) == list(dict.fromkeys(t["town"]))
    w = run.weather  # long: a row per day and band
    grid = w.pivot(index="day", columns="elevation_m", values="snow_depth_cm")
    assert list(ds["elevation"].values) == list(grid.columns)
    assert np.array_equal(ds["snow_depth_cm"].values, grid.to_numpy())
    assert ds["temperature_c"].dims == ("time",)
    assert np.array_equal(ds["temperature_c"].values, w.drop_duplicates("day")["temperature_c"].to_numpy())
    r = run.routes
    states = ds["state"].values.ravel()
    assert sorted(np.unique(states)) == sorted({("open", "snow", "interdicted", "both").index(s)
                                                for s in r["state"].astype(str)})
    assert ds.attrs["replication"] == 1 and ds.attrs["seed"] == 4


def test_ensemble_to_xarray(scenario: qs.Scenario, tmp_path) -> None:
    ens = qs.run_ensemble(scenario, 3, seed=2, out=tmp_path / "r")
    back = qs.Ensemble(tmp_path / "r")
    towns = back.to_xarray("towns")
    assert towns["delivered_t"].dims == ("realization", "time", "town")
    df = back.table("towns")
    total = float(df["delivered_t"].sum())
    assert float(towns["delivered_t"].sum()) == pytest.approx(total)
    assert towns.attrs["replications"] == 3
    full = ens.to_xarray()
    assert {"realization", "time", "route", "town", "elevation"} <= set(full.dims)
    with pytest.raises(KeyError, match="not gridded"):
        back.to_xarray("convoys")


def test_reprs_are_short(scenario: qs.Scenario, state: qs.ExogenousState, tmp_path) -> None:
    assert len(repr(state)) < 300 and "3 replications" in repr(state)
    run = qs.simulate_replication(scenario, replication=0, seed=1)
    assert len(repr(run)) < 300
    ens = qs.run_ensemble(scenario, 2, seed=1)
    assert "in memory" in repr(ens) and "2 replications" in repr(ens) and len(repr(ens)) < 300


def test_import_does_not_load_xarray() -> None:
    code = "import sys, qalamoun_sim as qs; qs.compute_state; print('xarray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_write_dataset_netcdf_atomic_and_zarr_needs_its_extra(state: qs.ExogenousState, tmp_path) -> None:
    from qalamoun_sim.environment.labelled import write_dataset
    from qalamoun_sim.errors import QalamounError

    path = write_dataset(state.to_xarray(), tmp_path / "s.nc")
    assert [p.name for p in tmp_path.iterdir()] == ["s.nc"]
    with xr.open_dataset(path) as back:
        assert np.array_equal(back["route_depth_cm"].values, state.route_depth_cm)
    if importlib.util.find_spec("zarr") is None:
        with pytest.raises(QalamounError, match=r"qalamoun-sim\[zarr\]"):
            write_dataset(state.to_xarray(), tmp_path / "s.zarr")


def test_export_command(scenario: qs.Scenario, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import run_main

    qs.run_ensemble(scenario, 2, seed=5, out=tmp_path / "r")
    rc, out, err = run_main(capsys, "export", str(tmp_path / "r"), "--out", str(tmp_path / "r.nc"), "--table", "towns")
    assert rc == 0, err
    with xr.open_dataset(tmp_path / "r.nc") as back:
        assert back["stock_t"].dims == ("realization", "time", "town") and "route" not in back.dims
        want = qs.Ensemble(tmp_path / "r").table("towns")["stock_t"].sum()
        assert float(back["stock_t"].sum()) == pytest.approx(float(want))
        assert back.attrs["seed"] == 5
