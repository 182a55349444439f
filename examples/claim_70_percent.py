"""The 70 percent claim: does snow cut more than 70 percent of the Arsal corridor this winter?

The verdict comes straight from the vectorized exogenous state (weather, snow, strikes), so a thousand
replications take seconds; no convoy is simulated. The bundled snow-only scenario (no army at all)
is compared with the full one: the share cut by snow is the same, the total is not.

    python examples/claim_70_percent.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import qalamoun_sim as qs
from qalamoun_sim.cli import format_claim
from qalamoun_sim.plotting import plot_claim_distribution, plot_share_cut


def main(days: int | None = None, replications: int = 1000, out: str | Path = "results/examples/claim",
         seed: int = 2013) -> dict[str, Any]:
    """The claim verdict for the default scenario, with two figures.

    Returns
    -------
    dict
        The verdict (``claim_probability``, ``snow_cut_share`` ...; see ``qalamoun-sim claim --json``),
        plus ``snow_only_total_share_p50`` (the median total share without interdiction) and ``figures``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    scn = qs.load_scenario()
    snow_only = qs.load_scenario(qs.default_scenario_path().parent / "snow_only.toml")
    if days is not None:
        scn = scn.with_updates({"scenario.days": days})
        snow_only = snow_only.with_updates({"scenario.days": days})

    shares = qs.claim_shares(scn, replications, seed)          # (replications, days) shares by kind and metric
    verdict = qs.claim_verdict(shares)
    print(format_claim(verdict))

    alone = qs.claim_verdict(qs.claim_shares(snow_only, replications, seed))
    m = scn.claim.metric
    print(f"\nwithout the army the total share cut is the snow share: p50 {alone['total_cut_share'][m]['p50']:.2f} "
          f"(with it {verdict['total_cut_share'][m]['p50']:.2f})")

    figures = []
    for name, fig in (("claim_share_cut.png", plot_share_cut(shares)),
                      ("claim_distribution.png", plot_claim_distribution(shares))):
        fig.savefig(out / name, dpi=150)
        figures.append(out / name)
    return {**verdict, "snow_only_total_share_p50": alone["total_cut_share"][m]["p50"], "figures": figures}


if __name__ == "__main__":
    main()
