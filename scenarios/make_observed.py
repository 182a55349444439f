"""Write qalamoun_2013_14_observed.toml: the reference scenario with the reported days of 2013-14 over its weather.

The network, the army and the claim are those of ``qalamoun_winter_2013.toml``; only the name and
``[weather.observed]`` differ (the reported days are in ``qalamoun_2013_14_observed.csv``, each row
naming its report). Run it after changing the reference scenario::

    python scenarios/make_observed.py

``tests/test_observed.py`` checks that the bundled file is what this script writes.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "qalamoun_sim" / "scenarios"
SOURCE = HERE / "qalamoun_winter_2013.toml"
TARGET = HERE / "qalamoun_2013_14_observed.toml"

HEADER = """\
# The winter of 2013-14 as reconstructed from dated reports: the reference network of
# qalamoun_winter_2013.toml (the same places, routes and army), with the weather of the reported
# days laid over the generator (docs/background.md s.9, Sources [9]; every figure tagged in the CSV's source column):
#   - 22 Nov 2013 first snows on the ridges around Arsal (UNHCR);
#   - 10-15 Dec storm Alexa: snow line 1400 m late on the 10th, ~1300 m on the 11th, ~750 m on the
#     12th; 8-10 degC below normal (Syria Direct, Guardian); amounts [E], docs/background.md s.9;
#   - 16 Dec - 20 Jan no rain in Lebanon (Daily Star, 21 Jan 2014);
#   - the season's total ~431 mm against an ~812 mm average (AFP; ACAPS 7 Feb 2014): the silent days'
#     precipitation is scaled so that the horizon's expected total is 431/812 of the climate's.
# Stochastic where the reports are silent (temperatures after Alexa, the days of Nov, early Dec and
# from 21 Jan). GENERATED from qalamoun_winter_2013.toml by scenarios/make_observed.py: edit that file
# and rerun rather than editing this one.
"""

OBSERVED = """
[weather.observed]
csv = "qalamoun_2013_14_observed.csv"
season_precip_fraction = 0.531   # 431 mm / 812 mm: Lebanon's driest season in ~80 years (AFP via khazen.org) [S]
"""


def render(reference: str) -> str:
    """The observed scenario's text from the reference scenario's."""
    body = reference.split("[scenario]", 1)[1]
    body = body.replace('name = "Qalamoun winter 2013-14 (illustrative)"',
                        'name = "Qalamoun winter 2013-14 as reconstructed from reports (illustrative)"', 1)
    return HEADER + "\n[scenario]" + body.rstrip() + "\n" + OBSERVED


if __name__ == "__main__":
    TARGET.write_text(render(SOURCE.read_text()))
    print(f"wrote {TARGET}")
