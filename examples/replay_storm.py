"""Replay a storm like Alexa (10-15 December 2013) from a weather CSV and watch the passes close.

docs/background.md s.9 and Sources [6]: snow began late on 10 Dec at 1400 m; the snow line was ~1300 m on 11 Dec,
falling to 800 m and ~750 m on 12 Dec; temperatures 8-10 degC below normal; 30-60 cm at
1300-1600 m and a metre or more on the crest [E]. The CSV below encodes that at the scenario's
reference elevation (1500 m): with the 5.5 degC/km lapse rate and a 1.5 degC rain/snow threshold, a snow
line at 1300 m means about +0.4 degC at 1500 m, one at 750 m about -2.6 degC. The precipitation
(85 mm of water over the storm at 1500 m, nearly twice that at 2400 m by the orographic gradient)
leaves, once the new snow has settled, some 40-45 cm at 1500 m and 75-85 cm on the crest (2100-2400 m).
Before and after, a dry, ordinary December.

The scenario reads the file through ``[weather] replay_csv``; every replication then sees the same
weather (strikes and convoys still vary).

    python examples/replay_storm.py
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

import qalamoun_sim as qs
from qalamoun_sim.plotting import plot_share_cut, plot_snow_depth

START = dt.date(2013, 12, 1)
HIGH_TRAIL = "arsal-crest_high-trail"   # the mule trail over the 2400 m crest
# Alexa at 1500 m [E, docs/background.md s.9]: (temperature degC, precipitation mm)
ALEXA = {
    dt.date(2013, 12, 10): (1.0, 10.0),   # snow begins late in the day at 1400 m
    dt.date(2013, 12, 11): (0.4, 28.0),   # snow line ~1300 m
    dt.date(2013, 12, 12): (-2.6, 25.0),  # snow line ~750 m
    dt.date(2013, 12, 13): (-4.0, 15.0),
    dt.date(2013, 12, 14): (-4.5, 7.0),
    dt.date(2013, 12, 15): (-3.0, 0.0),   # storm over, cold
}
NORMAL_C = 2.6                           # December mean at 1500 m: Damascus carried up (scenario/normals.py)


def write_storm_csv(path: str | Path, start: dt.date = START, days: int = 45) -> Path:
    """A weather CSV (date, temperature_c, precipitation_mm, storm) with Alexa in an ordinary December."""
    rows = []
    for i in range(days):
        d = start + dt.timedelta(days=i)
        after = (d - dt.date(2013, 12, 15)).days
        temp, precip = ALEXA.get(d, (NORMAL_C if after <= 0 else min(NORMAL_C, -3.0 + 1.2 * after), 0.0))
        rows.append({"date": d.isoformat(), "temperature_c": temp, "precipitation_mm": precip,
                     "storm": int(d in ALEXA)})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def main(days: int = 45, replications: int = 1, out: str | Path = "results/examples/storm",
         seed: int = 1) -> dict[str, Any]:
    """Replay Alexa on the default network from 1 December.

    Returns
    -------
    dict
        ``closed_dates`` (dates the high crest trail is closed by snow), ``max_depth_cm`` (deepest snow on
        it), ``share_cut_by_snow`` (the Arsal corridor's capacity share cut by snow, by date, replication 0),
        ``delivered_t`` and ``figures``.
    """
    out = Path(out)
    csv = write_storm_csv(out / "alexa_2013.csv", START, days)
    scn = qs.load_scenario().with_updates({"scenario.start": START, "scenario.days": days,
                                           "weather.replay_csv": str(csv.resolve())})
    ens = qs.run_ensemble(scn, replications, seed)
    routes = ens.table("routes")
    trail = routes[(routes["replication"] == 0) & (routes["route"].astype(str) == HIGH_TRAIL)]
    closed = trail[trail["state"].astype(str).isin(["snow", "both"])]
    closed_dates = [START + dt.timedelta(days=int(d)) for d in closed["day"]]
    max_depth = float(trail["snow_depth_cm"].max())

    shares = qs.claim_shares(scn, 1, seed)
    by_date = dict(zip(scn.dates, shares.daily["snow"]["capacity"][0].round(3).tolist(), strict=True))
    print(f"{HIGH_TRAIL}: closed by snow on {len(closed_dates)} days, "
          f"{closed_dates[0] if closed_dates else '-'} to {closed_dates[-1] if closed_dates else '-'}; "
          f"deepest {max_depth:.0f} cm")
    for d in (dt.date(2013, 12, 9), dt.date(2013, 12, 12), dt.date(2013, 12, 20)):
        if d in by_date:
            print(f"  {d}: {by_date[d]:.0%} of the Arsal corridor's capacity cut by snow")

    figures = []
    for name, fig in (("storm_snow_depth.png", plot_snow_depth(ens)), ("storm_share_cut.png", plot_share_cut(ens))):
        fig.savefig(out / name, dpi=150)
        figures.append(out / name)
    delivered = float(ens.summary()["delivered_t"].sum()) / replications
    return {"closed_dates": closed_dates, "max_depth_cm": max_depth, "share_cut_by_snow": by_date,
            "delivered_t": delivered, "figures": figures}


if __name__ == "__main__":
    main()
