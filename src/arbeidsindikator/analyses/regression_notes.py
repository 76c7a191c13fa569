"""What the regression chapter shows beside the main models (issue 13, helper "growth").

* the pooled rare levels (:class:`arbeidsindikator.panel.covariates.PoolingRule`) of both
  horizons, and how much pooling moved the OLS models (refitted without pooling only when
  something was pooled);
* appendix D's with/without comparison: the book's model beside the same model with expected
  employment growth in the commuting region (shift-share, 20 equal intervals) and beside table
  4's model (61 duration categories plus growth): R², the coefficients that move, the growth
  coefficients (the report's figure 3) and the difference the choice makes to the indicator;
* the NAV-history source point: "> 60 months of the last 60" cannot occur.

Only the two OLS outcomes are refitted (a probit refit on production data costs minutes per
variant); the probits' convergence is shown in the fit table from the main models.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from arbeidsindikator.config import RunConfig
from arbeidsindikator.data.contract import GROWTH_COLUMN
from arbeidsindikator.panel.covariates import NO_POOLING, POOLING_COLUMNS, CovariateOptions
from arbeidsindikator.spec import OUTCOMES
from arbeidsindikator.pipeline import covariate_options, main_models, store_frame, store_panel_path

#: "Vi forklarer om lag 20 prosent av variasjonen ... for målene Atid3 og Atid12" (seed 002,
#: ch. 6 "Videre arbeid med kontrollvariabler"): the report's R² for both OLS models.
REPORTED_R2 = {"atid3": 0.20, "atid12": 0.20}
REPORTED_R2_SOURCE = "002, 'Videre arbeid med kontrollvariabler': about 20 %"

OLS_OUTCOMES = ("atid3", "atid12")


def fit_table(cfg: RunConfig) -> pd.DataFrame:
    """Per main model: family, rows used, R² beside the report's figure, converged."""
    rows = []
    for outcome, f in main_models(cfg).fits.items():
        rows.append({
            "outcome": outcome,
            "model": {"ols": "OLS", "probit": "probit (ML)", "lpm": "linear probability"}[f.family],
            "rows used": int(f.nobs),
            "R² (this build)": None if f.rsquared is None else round(float(f.rsquared), 3),
            "R² (the report)": REPORTED_R2.get(outcome),
            "converged": bool(f.converged),
        })
    return pd.DataFrame(rows)


def _by_month_and_county(cfg: RunConfig, outcome: str, diff_of: Any) -> tuple[pd.Series, pd.Series]:
    """Means of ``diff_of(obs rows)`` (one value per observed row of ``outcome``) by month and by county.

    From the horizon's codes (:func:`alternatives.coded`, shared with the refits): month and
    county as integer codes, never a frame of the store; the county means are indexed and
    sorted by name (as a groupby on the names).
    """
    from arbeidsindikator.analyses.alternatives import coded
    from arbeidsindikator.panel.covariates import horizon_of

    c = coded(cfg, horizon_of(outcome))
    obs = ~np.isnan(c.y[outcome])
    d = pd.Series(diff_of(obs))
    by_month = d.groupby(c.month[obs]).mean()
    by_month.index = c.months[by_month.index.to_numpy()]
    by_county = d.groupby(np.asarray(c.fylke.codes)[obs]).mean()
    names = np.asarray([str(x) for x in c.fylke.categories] + ["nan"], dtype=object)  # code -1: missing
    by_county.index = names[by_county.index.to_numpy()]
    return by_month, by_county.sort_index()


def _expected(cfg: RunConfig, outcome: str) -> np.ndarray:
    """The main model's expected values ``exp_<outcome>`` of every store row (one column read)."""
    from arbeidsindikator.pipeline.models import read_column

    return read_column(store_panel_path(cfg), f"exp_{outcome}")


def pooled_levels(cfg: RunConfig) -> pd.DataFrame:
    """The levels the main models pooled, both horizons (counts below the minimum cell size hidden)."""
    # recorded by the models stage (counted over the whole panel); no person-month is read here
    pooled = main_models(cfg).pooled
    t = pd.DataFrame([r for h in (3, 12) for r in pooled.get(h, [])], columns=list(POOLING_COLUMNS))
    k = cfg.min_cell_count
    for c in ("persons", "rows used"):
        t[c] = [f"< {k}" if v < k else f"{int(v):,}" for v in t[c]]
    return t


def _fit(cfg: RunConfig, outcome: str, opts: CovariateOptions) -> tuple[Any, np.ndarray]:
    """An OLS refit of ``outcome`` on the store's rows with other covariate options; its predictions.

    Bounded like the models stage: the covariates come from the horizon's compact codes, read
    from the store once per horizon in chunks (:func:`alternatives.coded`, pooling counted over
    the whole panel); the refits of a horizon share its blocks (issue 11: a block is made and
    pooled once, so a variant that changes the duration categories or adds growth costs only that
    block), one design at a time; no panel frame is held.
    """
    from arbeidsindikator.analyses.alternatives import coded
    from arbeidsindikator.estimation import fit
    from arbeidsindikator.panel.covariates import horizon_of
    from arbeidsindikator.pipeline.models import compact_design

    c = coded(cfg, horizon_of(outcome))
    X = c.covariates(opts)
    design = compact_design(X)
    del X
    res = fit(design, c.y[outcome], family="ols", outcome=outcome)
    return res, res.predict(design, unseen="nan")


def pooling_effect(cfg: RunConfig) -> dict[str, float]:
    """Largest change pooling made to an OLS coefficient and to a monthly mean expected value.

    Zero without refitting when nothing was pooled (the rule changes nothing then).
    """
    opts = covariate_options(cfg)
    mm = main_models(cfg)
    out = {"n_pooled": 0, "coef_max_change": 0.0, "expected_month_max_change": 0.0}
    n = sum(len(mm.pooled.get(h, [])) for h in (3, 12))
    out["n_pooled"] = n
    if n == 0 or not opts.pooling.active:
        return out
    off = dataclasses.replace(opts, pooling=NO_POOLING)
    for o in OLS_OUTCOMES:
        res, exp0 = _fit(cfg, o, off)
        common = mm.fits[o].params.index.intersection(res.params.index)
        out["coef_max_change"] = max(out["coef_max_change"],
                                     float((mm.fits[o].params[common] - res.params[common]).abs().max()))
        exp_main = _expected(cfg, o)
        d, _ = _by_month_and_county(cfg, o, lambda obs: exp_main[obs] - exp0[obs])
        del exp_main, exp0
        out["expected_month_max_change"] = max(out["expected_month_max_change"], float(d.abs().max()))
    return out


@dataclass
class GrowthComparison:
    """Appendix D's with/without comparison (module docstring); ``reason`` when it cannot be made."""

    available: bool
    reason: str = ""
    fits: pd.DataFrame | None = None  # variant × outcome: R², coefficients, rows
    movers: pd.DataFrame | None = None  # coefficients that move most (book's model → table 4's)
    growth_coefficients: pd.DataFrame | None = None  # g02..g20 in table 4's model, atid3 and atid12
    indicator: pd.DataFrame | None = None  # per outcome: max |difference| of the monthly / county indicator
    r2_gain: dict[str, float] = dataclasses.field(default_factory=dict)


VARIANTS = ("the book's model", "+ growth", "table 4's model (61 durations + growth)")


def growth_comparison(cfg: RunConfig, n_movers: int = 8) -> GrowthComparison:
    """Refit the OLS outcomes with growth, and as table 4 (61 durations + growth), beside the book's."""
    import pyarrow.parquet as pq

    path = store_panel_path(cfg)
    if not path.exists():
        main_models(cfg)
    if GROWTH_COLUMN not in pq.read_schema(path).names:
        return GrowthComparison(False, "the raw extracts hold no table sysselsettingsvekst (it is optional), so the "
                                       "model with expected employment growth cannot be fitted")
    base = covariate_options(cfg)
    opts = {VARIANTS[0]: base, VARIANTS[1]: dataclasses.replace(base, include_growth=True),
            VARIANTS[2]: dataclasses.replace(base, include_growth=True, duration_categories=61)}
    mm = main_models(cfg)
    fits, movers, gcoef, ind = [], [], {}, []
    r2_gain: dict[str, float] = {}
    for o in OLS_OUTCOMES:
        res_v: dict[str, Any] = {}
        exp_v: dict[str, np.ndarray] = {}
        for name, op in opts.items():
            if name == VARIANTS[0] and not base.include_growth:
                res_v[name], exp_v[name] = mm.fits[o], _expected(cfg, o)
            else:
                res_v[name], exp_v[name] = _fit(cfg, o, op)
            r = res_v[name]
            fits.append({"model": name, "outcome": o, "R²": round(float(r.rsquared), 4),
                         "coefficients": int(len(r.params)), "rows used": int(r.nobs)})
        r2_gain[o] = float(res_v[VARIANTS[2]].rsquared - res_v[VARIANTS[0]].rsquared)
        a, b = res_v[VARIANTS[0]].params, res_v[VARIANTS[2]].params
        common = a.index.intersection(b.index).drop("const", errors="ignore")
        common = [c for c in common if not c.startswith("nav_varighet[")]  # the duration block is redefined
        d = (b[common] - a[common])
        top = d.abs().sort_values(ascending=False).head(n_movers).index
        movers += [{"outcome": o, "coefficient": c, "book's model": round(float(a[c]), 3),
                    "table 4's model": round(float(b[c]), 3), "change": round(float(d[c]), 3)} for c in top]
        g = b[[c for c in b.index if c.startswith(f"{GROWTH_COLUMN}[")]]
        gcoef[o] = g.round(3)
        # indicator of the book's model minus table 4's: the actual values cancel, I_A − I_B = mean(Ê_B − Ê_A)
        by_month, by_county = _by_month_and_county(cfg, o, lambda obs: exp_v[VARIANTS[2]][obs] - exp_v[VARIANTS[0]][obs])
        del exp_v
        ind.append({"outcome": o, "largest monthly difference (hours/week)": round(float(by_month.abs().max()), 3),
                    "month of the largest": str(pd.Period(by_month.abs().idxmax(), freq="M")),
                    "largest county difference (hours/week)": round(float(by_county.abs().max()), 3),
                    "county of the largest": str(by_county.abs().idxmax())})
    g = pd.DataFrame({f"{o} (this build)": v for o, v in gcoef.items()})
    g.index = [i.removeprefix(f"{GROWTH_COLUMN}[").rstrip("]") for i in g.index]
    pub = published_growth()
    g = g.join(pub, how="outer").rename_axis("growth interval").reset_index()
    return GrowthComparison(True, "", pd.DataFrame(fits), pd.DataFrame(movers), g, pd.DataFrame(ind), r2_gain)


def history_note(cfg: RunConfig) -> dict[str, float]:
    """NAV history counts months registered in t−60..t−1: 0–60, so table 4's "> 60" is empty here.

    Returns the share of person-months in "> 60" (0 by the definition), and the share registered
    in all 60 months — those table 4's "> 60" would hold if NAV counted the 61 months t−60..t.
    """
    from arbeidsindikator.data.reference import published_coefficients

    df = store_frame(cfg, ["nav_historikk"], memo=False)
    h = df["nav_historikk"].to_numpy()
    pub = published_coefficients(["nav_historikk[>60]"])
    return {"share_over_60": float((h > 60).mean()), "share_all_60": float((h == 60).mean()),
            "max_history": int(h.max()) if len(h) else 0,
            "published_over60_atid3": float(pub.loc["nav_historikk[>60]", "atid3"])}


def published_growth() -> pd.DataFrame:
    """Table 4's growth coefficients ("kat_2" … "kat_20", reference "Referanse") as g02 … g20."""
    from arbeidsindikator.data.reference import load_table4

    t4 = load_table4()
    t = t4[(t4["block"] == "sysselsettingsvekst") & ~t4["is_reference"].astype(bool)]
    idx = [f"g{int(str(c).removeprefix('kat_')):02d}" for c in t["category"]]
    return pd.DataFrame({f"{o} (table 4)": t[o].to_numpy(dtype=float) for o in OLS_OUTCOMES}, index=idx)
