"""The default climate at the reference elevation, derived from the sourced stations (issue 13).

Nothing here is guessed month by month: the monthly means are the Damascus station normals carried
up to the reference elevation by the lapse rate, the monthly precipitation is the Damascus monthly
regime scaled to an annual total at the reference elevation, and the storm figures are the
estimates [E] calibrated against the sourced snow figures of docs/background.md s.12 (which figure
calibrated which parameter: docs/background.md s.1 and s.12). Every figure keeps its tag.
"""

from __future__ import annotations

__all__ = ["DAMASCUS_ELEVATION_M", "DAMASCUS_MEAN_C", "DAMASCUS_PRECIP_MM", "REFERENCE_ELEVATION_M",
           "LAPSE_RATE_C_PER_KM", "REFERENCE_ANNUAL_PRECIP_MM", "MONTHLY_MEAN_C", "MONTHLY_PRECIP_MM",
           "STORMS_PER_MONTH", "OROGRAPHIC_GRADIENT_BELOW_PER_KM", "reference_means", "reference_precipitation",
           "gradient_below"]

#: Damascus International Airport (WMO 40080), 616 m [S: airport elevation, 2,020 ft]. The domain
#: notes quoted "Damascus (680 m, January 6-7 degC)": 680 m is the city's plateau, the normals are the airport's.
DAMASCUS_ELEVATION_M = 616.0
#: Daily mean temperature, Jan..Dec, 1981-2010 normals of Damascus International Airport [S] (the WMO
#: normals as tabulated by Wikipedia's Damascus climate box; January 6.1 degC, docs/background.md s.1: 6-7).
DAMASCUS_MEAN_C = (6.1, 7.7, 11.4, 16.2, 20.8, 25.0, 27.3, 27.0, 24.0, 19.0, 12.1, 7.5)
#: Monthly precipitation (mm), Jan..Dec, Damascus (WMO 40080), 225 mm a year [S: Deutscher
#: Wetterdienst climate table via wetter.de]. Only its monthly shares are used.
DAMASCUS_PRECIP_MM = (56.0, 36.0, 26.0, 16.0, 7.0, 0.0, 0.0, 0.0, 0.0, 8.0, 28.0, 47.0)

#: The reference elevation of the weather generator: the Qalamoun plateau and Arsal's outskirts [E].
REFERENCE_ELEVATION_M = 1500.0
#: Winter near-surface lapse rate, docs/background.md s.2 (4.5-6.5; the standard atmosphere's 6.5 is steeper) [E].
LAPSE_RATE_C_PER_KM = 5.5
#: Annual precipitation at the reference elevation [E], calibrated (docs/background.md s.12) within the
#: sourced range of the range's stations: Rankous (1650 m) 350-650 mm, Zabadani (1100 m) ~500 mm, much
#: drier toward the eastern lee (Deir Atiyah) [S, docs/background.md s.1, Sources [3]].
REFERENCE_ANNUAL_PRECIP_MM = 400.0


def reference_means(station_c: tuple[float, ...] = DAMASCUS_MEAN_C, station_m: float = DAMASCUS_ELEVATION_M,
                    reference_m: float = REFERENCE_ELEVATION_M, lapse: float = LAPSE_RATE_C_PER_KM) -> list[float]:
    """Monthly means carried from a station to the reference elevation: ``T - lapse x (z_ref - z_station) / 1000``.

    With the defaults the shift is 5.5 x 0.884 = 4.86 degC: January 6.1 - 4.86 = 1.24 degC at 1500 m
    (docs/background.md s.1: the estimate was +1 from the city's 680 m: 6.5 - 4.51 ~ 2.0).

    Examples
    --------
    >>> [round(t, 2) for t in reference_means()][:3]
    [1.24, 2.84, 6.54]
    """
    shift = lapse * (reference_m - station_m) / 1000.0
    return [round(t - shift, 2) for t in station_c]


def reference_precipitation(station_mm: tuple[float, ...] = DAMASCUS_PRECIP_MM,
                            annual_mm: float = REFERENCE_ANNUAL_PRECIP_MM) -> list[float]:
    """Monthly totals at the reference elevation: the station's monthly shares of its year times ``annual_mm``.

    Examples
    --------
    >>> reference_precipitation()[0]       # 400 x 56 / 224
    100.0
    >>> round(sum(reference_precipitation()), 6)
    400.0
    """
    total = sum(station_mm)
    return [round(annual_mm * p / total, 1) for p in station_mm]


def gradient_below(station_mm: tuple[float, ...] = DAMASCUS_PRECIP_MM, station_m: float = DAMASCUS_ELEVATION_M,
                   annual_mm: float = REFERENCE_ANNUAL_PRECIP_MM, reference_m: float = REFERENCE_ELEVATION_M) -> float:
    """The orographic gradient below the reference (per km) that brings ``annual_mm`` down to the station's year.

    ``(1 - 224 / 400) / 0.884 = 0.498`` per km, rounded to 0.5: Damascus, in the lee plain, gets 56 % of
    the plateau's precipitation, where the crest gradient (1 per km, ``orographic_gradient_per_km``) would give 12 %.

    Examples
    --------
    >>> round(gradient_below(), 3)
    0.498
    """
    return (1.0 - sum(station_mm) / annual_mm) / ((reference_m - station_m) / 1000.0)


#: Monthly mean temperature at 1500 m, Jan..Dec: Damascus minus 4.86 degC (see :func:`reference_means`):
#: 1.24, 2.84, 6.54, 11.34, 15.94, 20.14, 22.44, 22.14, 19.14, 14.14, 7.24, 2.64 degC. Dec/Jan/Feb
#: +2.6/+1.2/+2.8 against the earlier estimate +3/+1/+2 [E]: still an estimate, the plateau may be colder.
MONTHLY_MEAN_C = reference_means()
#: Monthly precipitation at 1500 m, Jan..Dec (mm): the Damascus regime scaled to 400 mm a year [E].
MONTHLY_PRECIP_MM = reference_precipitation()
#: Precipitation loss per km below the reference elevation (see :func:`gradient_below`) [S/E].
OROGRAPHIC_GRADIENT_BELOW_PER_KM = round(gradient_below(), 1)
#: Storm onsets per month, Jan..Dec [E]: winter cyclones cold enough to bring snow below the plateau,
#: calibrated with the storm cold anomaly (docs/background.md s.12) against the snowfall days at 700 m
#: and 1300-1600 m and the storm snow lines (docs/background.md s.12).
STORMS_PER_MONTH = [0.8, 0.7, 0.4, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.05, 0.3, 0.7]
