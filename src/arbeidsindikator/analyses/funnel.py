"""Funnel plots, overdispersion and empirical-Bayes shrinkage for small units (issue 14).

Spiegelhalter (2005), *Handling over-dispersion of performance indicators*, Qual Saf Health Care
14:347–351, as NHS England's SHMI and the R package FunnelPlotR apply it:

* z-scores ``z_i = (y_i − θ₀)/s_i`` of unit indicators ``y_i`` with standard errors ``s_i``
  (here the person-clustered analytic ones) around the target θ₀ (the national period value);
* z-scores winsorised at their 10th and 90th percentiles (``winsor``), then
  ``φ̂ = Σ z_i² / I``; the test of no overdispersion compares ``I φ̂`` with χ²(I − 1);
* **multiplicative** limits ``θ₀ ± z_α √φ̂ s`` (when φ̂ > 1);
* **additive** (random-effects, DerSimonian–Laird) limits ``θ₀ ± z_α √(s² + τ̂²)`` with
  ``τ̂² = max(0, (I φ̂ − (I − 1)) / (Σ w_i − Σ w_i²/Σ w_i))``, ``w_i = 1/s_i²``;
* limits at 95 % (z = 1.960) and 99.8 % (z = 3.090).

Winsorising makes φ̂ robust to a few outlying units but biases it low when there is no
overdispersion (≈ 0.67 for normal z-scores at 10 %); τ̂² is then 0 and the additive limits
equal the plain ones, which is the conservative direction for flagging.

The funnel is drawn against the number of persons n with ``s(n) = σ₁/√n``, ``σ₁²`` the median
of ``s_i² n_i``; flags use each unit's own ``s_i``. Empirical-Bayes shrinkage pulls a unit
towards θ₀ by ``τ̂²/(τ̂² + s_i²)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

Z_FUNNEL = {0.95: 1.959963984540054, 0.998: 3.090232306167813}


@dataclass
class FunnelResult:
    """Units with z-scores, limits, flags and shrunken values; the overdispersion estimates."""

    units: pd.DataFrame
    target: float
    phi: float
    tau2: float
    p_overdispersion: float
    sigma1: float
    winsor: float


def winsorise(z: np.ndarray, q: float) -> np.ndarray:
    """Clip at the q-th and (1 − q)-th sample percentiles (linear interpolation, as R's quantile type 7)."""
    if q <= 0:
        return z
    lo, hi = np.quantile(z, [q, 1 - q])
    return np.clip(z, lo, hi)


def overdispersion(y: np.ndarray, s: np.ndarray, target: float, winsor: float = 0.1) -> tuple[float, float, float]:
    """φ̂, τ̂² and the p-value of ``I φ̂`` against χ²(I − 1) (Spiegelhalter 2005)."""
    z = winsorise((y - target) / s, winsor)
    I = z.size
    phi = float(np.sum(z**2) / I)
    w = 1 / s**2
    tau2 = max(0.0, (I * phi - (I - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    p = float(stats.chi2.sf(I * phi, I - 1))
    return phi, tau2, p


def funnel(units: pd.DataFrame, target: float | None = None, winsor: float = 0.1, min_persons: int = 1) -> FunnelResult:
    """Funnel analysis of ``units`` (columns unit, persons, indicator, se).

    ``target`` defaults to the person-month (or person) weighted mean of the units. Units with
    fewer than ``min_persons`` persons or no standard error are kept but not analysed
    (``analysed`` False).
    """
    u = units.copy()
    ok = (u["persons"] >= min_persons) & np.isfinite(u["se"]) & (u["se"] > 0) & np.isfinite(u["indicator"])
    u["analysed"] = ok
    a = u[ok]
    weight = a["n"] if "n" in a else a["persons"]
    theta0 = float(np.average(a["indicator"], weights=weight)) if target is None else float(target)
    y, s = a["indicator"].to_numpy(float), a["se"].to_numpy(float)
    phi, tau2, p = overdispersion(y, s, theta0, winsor)
    sigma1 = float(np.sqrt(np.median(s**2 * a["persons"].to_numpy(float))))
    u["z"] = (u["indicator"] - theta0) / u["se"]
    for lv, z in Z_FUNNEL.items():
        tag = f"{lv * 100:g}"
        u[f"lower_{tag}"] = theta0 - z * u["se"]
        u[f"upper_{tag}"] = theta0 + z * u["se"]
        m = np.sqrt(max(phi, 1.0))
        u[f"lower_{tag}_mult"] = theta0 - z * m * u["se"]
        u[f"upper_{tag}_mult"] = theta0 + z * m * u["se"]
        half = z * np.sqrt(u["se"] ** 2 + tau2)
        u[f"lower_{tag}_add"] = theta0 - half
        u[f"upper_{tag}_add"] = theta0 + half
    shrink = tau2 / (tau2 + u["se"] ** 2) if tau2 > 0 else 0.0 * u["se"]
    u["shrinkage_weight"] = shrink
    u["shrunken"] = theta0 + shrink * (u["indicator"] - theta0)
    u["shrunken_se"] = np.sqrt(shrink * u["se"] ** 2)
    u["flag"] = flags(u, "add")
    u["flag_unadjusted"] = flags(u, "")
    u.loc[~ok, ["flag", "flag_unadjusted"]] = "not analysed"
    return FunnelResult(units=u, target=theta0, phi=phi, tau2=tau2, p_overdispersion=p, sigma1=sigma1, winsor=winsor)


def flags(u: pd.DataFrame, kind: str = "add") -> pd.Series:
    """'above 99.8 %', 'above 95 %', 'within', 'below 95 %', 'below 99.8 %' against the chosen limits."""
    sfx = f"_{kind}" if kind else ""
    y = u["indicator"]
    out = np.where(y > u[f"upper_99.8{sfx}"], "above 99.8 %",
          np.where(y > u[f"upper_95{sfx}"], "above 95 %",
          np.where(y < u[f"lower_99.8{sfx}"], "below 99.8 %",
          np.where(y < u[f"lower_95{sfx}"], "below 95 %", "within"))))
    return pd.Series(out, index=u.index)


def funnel_curve(res: FunnelResult, n: np.ndarray) -> pd.DataFrame:
    """Limits as functions of persons n (for drawing): plain, multiplicative and additive."""
    s = res.sigma1 / np.sqrt(n)
    out = {"persons": n}
    for lv, z in Z_FUNNEL.items():
        tag = f"{lv * 100:g}"
        out[f"half_{tag}"] = z * s
        out[f"half_{tag}_mult"] = z * np.sqrt(max(res.phi, 1.0)) * s
        out[f"half_{tag}_add"] = z * np.sqrt(s**2 + res.tau2)
    return pd.DataFrame(out)


def unit_table(intervals: pd.DataFrame, outcome: str, grouping: str, method: str = "analytic_person",
               statistic: str = "period") -> pd.DataFrame:
    """unit, persons, n, indicator, se and 95 % bounds of one statistic from an interval table."""
    t = intervals[(intervals["outcome"] == outcome) & (intervals["grouping"] == grouping)
                  & (intervals["method"] == method) & (intervals["statistic"] == statistic)]
    return t[["unit", "persons", "n", "indicator", "se", "lower_95", "upper_95"]].reset_index(drop=True)


def office_view(intervals: pd.DataFrame, outcomes: tuple[str, ...], grouping: str = "office",
                method: str = "analytic_person", winsor: float = 0.1, min_persons: int = 1) -> tuple[pd.DataFrame, dict[str, FunnelResult]]:
    """Every unit with indicator, 95 % interval, persons, shrunken value and funnel flag, per outcome.

    jobb outcomes in percentage points. Returns the table (one row per unit × outcome) and the
    funnel results.
    """
    rows, results = [], {}
    for o in outcomes:
        t = unit_table(intervals, o, grouping, method)
        if t.empty:
            continue
        res = funnel(t, winsor=winsor, min_persons=min_persons)
        results[o] = res
        f = 100.0 if o.startswith("jobb") else 1.0
        u = res.units
        rows.append(pd.DataFrame({
            "outcome": o, "unit": u["unit"], "persons": u["persons"].astype(int), "person_months": u["n"].astype(int),
            "indicator": u["indicator"] * f, "lower_95": t["lower_95"] * f,
            "upper_95": t["upper_95"] * f, "shrunken": u["shrunken"] * f, "z": u["z"],
            "flag (adjusted for overdispersion)": u["flag"], "flag (unadjusted)": u["flag_unadjusted"],
        }))
    return (pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()), results


def differing_units(view: pd.DataFrame, level: str = "99.8") -> pd.DataFrame:
    """Units outside the overdispersion-adjusted limits at ``level`` ('95' or '99.8')."""
    col = "flag (adjusted for overdispersion)"
    bad = view[col].isin([f"above {level} %", f"below {level} %"] + (["above 99.8 %", "below 99.8 %"] if level == "95" else []))
    return view[bad].sort_values(["outcome", "z"]).reset_index(drop=True)


def funnel_plot(res: FunnelResult, outcome: str, unit_label: str = "office"):  # type: ignore[no-untyped-def]
    """Funnel plot: unit indicators against persons with 95 % / 99.8 % limits (plain and additive)."""
    import matplotlib.pyplot as plt

    u = res.units[res.units["analysed"]]
    f = 100.0 if outcome.startswith("jobb") else 1.0
    fig, ax = plt.subplots(figsize=(7, 4.2))
    n = np.geomspace(max(u["persons"].min() * 0.8, 1), u["persons"].max() * 1.2, 200)
    c = funnel_curve(res, n)
    t = res.target * f
    for tag, ls in (("95", "--"), ("99.8", "-")):
        ax.plot(n, t + f * c[f"half_{tag}"], color="grey", ls=ls, lw=0.8, label=f"{tag} % (no overdispersion)")
        ax.plot(n, t - f * c[f"half_{tag}"], color="grey", ls=ls, lw=0.8)
        ax.plot(n, t + f * c[f"half_{tag}_add"], color="C3", ls=ls, lw=1.0, label=f"{tag} % (additive, τ̂²)")
        ax.plot(n, t - f * c[f"half_{tag}_add"], color="C3", ls=ls, lw=1.0)
    out = u["flag"] != "within"
    ax.scatter(u["persons"][~out], u["indicator"][~out] * f, s=12, color="C0", alpha=0.7, label=f"{unit_label}s")
    ax.scatter(u["persons"][out], u["indicator"][out] * f, s=16, color="C3", label="outside adjusted 95 %")
    ax.axhline(t, color="black", lw=0.6)
    ax.set_xscale("log")
    ax.set_xlabel("persons (whole period)")
    ax.set_ylabel("indicator" + (" (pp)" if f == 100 else " (hours/week)"))
    ax.set_title(f"{outcome}: {unit_label} indicators, φ̂ = {res.phi:.2f}, τ̂ = {np.sqrt(res.tau2) * f:.3g}")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


def shrinkage_plot(res: FunnelResult, outcome: str):  # type: ignore[no-untyped-def]
    """Raw against shrunken unit indicators (empirical Bayes), point size by persons."""
    import matplotlib.pyplot as plt

    u = res.units[res.units["analysed"]]
    f = 100.0 if outcome.startswith("jobb") else 1.0
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    ax.scatter(u["indicator"] * f, u["shrunken"] * f, s=np.clip(u["persons"] / u["persons"].max() * 60, 4, 60), alpha=0.7)
    lim = [min(u["indicator"].min(), u["shrunken"].min()) * f, max(u["indicator"].max(), u["shrunken"].max()) * f]
    ax.plot(lim, lim, color="grey", lw=0.6, ls="--")
    ax.axhline(res.target * f, color="black", lw=0.5)
    ax.set_xlabel("raw indicator")
    ax.set_ylabel("shrunken indicator")
    ax.set_title(f"{outcome}: empirical-Bayes shrinkage")
    fig.tight_layout()
    return fig
