"""The planted truth: NAV contributions accumulated per unit while generating, and its reader.

Per chunk, the outcomes of the factual hours path minus those of the counterfactual path (same
random numbers, no planted contributions) are summed by county, office, programme, month,
service group, main group and county × month (:func:`_truth_chunk`); :func:`_truth_frames`
turns the sums into the ``truth/by_<dim>.parquet`` frames and :func:`load_truth` reads them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from arbeidsindikator.data.contract import FYLKER, HOVEDGRUPPER, INNSATSGRUPPER
from arbeidsindikator.data.extracts import TILTAK, index_to_month
from arbeidsindikator.panel.outcomes import HORIZONS
from arbeidsindikator.synthetic.simulate import _Chunk, _chunk_rows
from arbeidsindikator.synthetic.world import TILTAK_CODES, _Setup


_TRUTH_DIMS = ("fylke", "nav_kontor", "tiltak", "month", "innsatsgruppe", "hovedgruppe", "fylke_month")


def _truth_chunk(su: _Setup, ch: _Chunk, acc: dict[str, dict[str, np.ndarray]]) -> None:
    """Add this chunk's planted effects (factual − counterfactual outcomes) to the accumulators."""
    F = su.sim_first
    j0, j1 = su.start - F, su.end - F
    r, c, res = _chunk_rows(su, ch, counterfactual=True)
    county = su.geo.office_county[ch.office[r]]
    codes = {
        "fylke": county,
        "nav_kontor": ch.office[r],
        "tiltak": ch.PROG[r, j0 + c].astype(np.int64),
        "month": c,
        "innsatsgruppe": ch.IG[r, j0 + c].astype(np.int64),
        "hovedgruppe": ch.HG[r, j0 + c].astype(np.int64),
        "fylke_month": county * (j1 - j0 + 1) + c,
    }
    for dim, code in codes.items():
        a = acc[dim]
        size = len(a["n_rows"])
        a["n_rows"] += np.bincount(code, minlength=size)
        for o in HORIZONS:
            fa = res["actual"][o].to_numpy()
            fc = res["counterfactual"][o].to_numpy()
            obs = np.isfinite(fa)
            a[f"n_{o}"] += np.bincount(code[obs], minlength=size)
            a[f"{o}_actual"] += np.bincount(code[obs], weights=fa[obs], minlength=size)
            a[f"{o}_counterfactual"] += np.bincount(code[obs], weights=fc[obs], minlength=size)


def _truth_frames(su: _Setup, acc: dict[str, dict[str, np.ndarray]]) -> dict[str, pd.DataFrame]:
    months = [str(index_to_month(m)) for m in range(su.start, su.end + 1)]
    labels = {
        "fylke": {"fylke": list(FYLKER)},
        "nav_kontor": {"nav_kontor": su.geo.office_codes, "fylke": [FYLKER[c] for c in su.geo.office_county]},
        "tiltak": {"tiltak": [TILTAK[c] for c in TILTAK_CODES]},
        "month": {"month": months},
        "innsatsgruppe": {"innsatsgruppe": list(INNSATSGRUPPER)},
        "hovedgruppe": {"hovedgruppe": list(HOVEDGRUPPER)},
        "fylke_month": {"fylke": [f for f in FYLKER for _ in months], "month": months * len(FYLKER)},
    }
    out = {}
    for dim, a in acc.items():
        df = pd.DataFrame(labels[dim])
        df["n_rows"] = a["n_rows"][: len(df)]
        for o in HORIZONS:
            nn = a[f"n_{o}"][: len(df)]
            with np.errstate(invalid="ignore", divide="ignore"):
                act = a[f"{o}_actual"][: len(df)] / nn
                cf = a[f"{o}_counterfactual"][: len(df)] / nn
            df[f"{o}_effect"] = act - cf
            df[f"{o}_actual"] = act
            df[f"n_{o}"] = nn
        out[dim] = df
    return out


def load_truth(folder: str | Path) -> dict[str, Any]:
    """The planted truth of a synthetic extract folder (``folder`` or ``folder/truth``).

    Keys: ``by_<dim>`` frames (fylke, nav_kontor, tiltak, month, innsatsgruppe, hovedgruppe,
    fylke_month), ``parameters`` (dict), and Series of the realised atid3 effect for convenience:
    ``county_effect``, ``tiltak_effect``, ``nav_time_effect``, ``rows_per_month``.
    """
    folder = Path(folder)
    tdir = folder if (folder / "parameters.json").is_file() else folder / "truth"
    out: dict[str, Any] = {p.stem: pd.read_parquet(p) for p in sorted(tdir.glob("by_*.parquet"))}
    out["parameters"] = json.loads((tdir / "parameters.json").read_text(encoding="utf-8"))
    out["county_effect"] = out["by_fylke"].set_index("fylke")["atid3_effect"]
    out["tiltak_effect"] = out["by_tiltak"].set_index("tiltak")["atid3_effect"]
    m = out["by_month"]
    out["nav_time_effect"] = pd.Series(m["atid3_effect"].to_numpy(), index=pd.PeriodIndex(m["month"], freq="M"))
    out["rows_per_month"] = pd.Series(m["n_rows"].to_numpy(), index=pd.PeriodIndex(m["month"], freq="M"))
    return out
