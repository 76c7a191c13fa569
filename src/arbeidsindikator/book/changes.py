"""What changed since the last publication (issue 15): two publications compared, no book needed.

Inputs are two :class:`~arbeidsindikator.book.archive.Publication` objects (archive folders, or
the live build). The report separates *new data* (months added and dropped, persons and rows
side by side) from *re-estimation* (coefficient changes against their sampling error, revisions
of every value both publications hold). Values are compared where both publications have them:
same month, organisational level, unit, breakdown and outcome. jobb values are shown in
percentage points, hours in hours per week.

Sampling error of a coefficient change. The two fits share the months they have in common, so
``√(se_old² + se_new²)`` would be far too wide. We treat each estimate as a mean over its rows
(``Var β̂ ≈ σ²/N``, σ² from ``se²·N`` averaged over both fits): with ``n_c`` rows in common and
``n_a`` / ``n_d`` rows only in the new / old fit,
``Var(β̂_new − β̂_old) ≈ σ² [n_c (1/N_new − 1/N_old)² + n_a/N_new² + n_d/N_old²]``.
Rows are counted per month from the exports' national person counts; like the book's monthly
intervals this treats rows as independent (persons recur across months), so it is an
approximation, and with hundreds of coefficients about 5 % are flagged by chance alone.

Interval verdicts: a unit's indicator over a publication's whole period (person-weighted mean of
its monthly values, standard error from the monthly 95 % bounds, months independent) is
*above* or *below* zero when its 95 % interval excludes zero, else *not distinguishable*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # type hints only: archive calls this module, not the other way round
    from arbeidsindikator.book.archive import Publication

KEYS = ["BEHOLDNINGSMAANED", "ORG_NIVAA", "ORG_STED", "NEDBRYTNING", "UTFALL"]
LEVEL_NAMES = {1: "national", 2: "county", 3: "office"}
Z95 = 1.959963984540054
EPS = 1e-7  # hours or pp: below this a value counts as unchanged (CSV keeps 10 significant digits)


def _scale(outcome: pd.Series) -> np.ndarray:
    """Display factor: percentage points for jobb, hours for atid."""
    return np.where(outcome.astype(str).str.startswith("jobb"), 100.0, 1.0)


@dataclass
class ChangeReport:
    """Every table of the change report (see the module docstring)."""

    old_key: str
    new_key: str
    months: dict[str, list[str]]
    data: pd.DataFrame
    coefficients: pd.DataFrame
    revisions: pd.DataFrame
    revision_summary: pd.DataFrame
    largest: pd.DataFrame
    ranks: pd.DataFrame
    rank_summary: pd.DataFrame
    verdicts: pd.DataFrame
    national: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def month_changes(old: Publication, new: Publication) -> dict[str, list[str]]:
    o, n = set(old.months), set(new.months)
    return {"added": sorted(n - o), "dropped": sorted(o - n), "common": sorted(o & n)}


def data_side_by_side(old: Publication, new: Publication) -> pd.DataFrame:
    """Persons, rows and every exclusion count of the panel report, old beside new."""
    def flat(p: Publication) -> dict[str, Any]:
        d = p.meta["data"]
        out: dict[str, Any] = {"period": "–".join(p.meta["period"]), "months": len(p.months),
                               "persons": d["persons"], "person-months": d["person_months"]}
        out["last month with hours"] = d.get("report", {}).get("last_hours_month")

        def walk(prefix: str, v: Any) -> None:
            if isinstance(v, dict):
                for k, x in v.items():
                    walk(f"{prefix}{k}" if not prefix else f"{prefix}: {k}", x)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                out[prefix.replace("_", " ")] = v

        rep = {k: v for k, v in d.get("report", {}).items() if k not in ("decile_edges_G", "seconds")}
        walk("", rep)
        return out

    a, b = flat(old), flat(new)
    rows = []
    for k in list(dict.fromkeys([*a, *b])):
        va, vb = a.get(k), b.get(k)
        diff = vb - va if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else None
        rows.append({"quantity": k, "previous": va, "new": vb, "change": diff})
    return pd.DataFrame(rows)


def _rows_per_month(pub: Publication) -> pd.DataFrame:
    """Rows with an observed outcome per month and outcome (national 'Alle' person counts)."""
    nat = pub.long[(pub.long["ORG_NIVAA"] == 1) & (pub.long["NEDBRYTNING"] == "Alle")]
    return nat.pivot_table(index="BEHOLDNINGSMAANED", columns="UTFALL", values="ANTALL_PERSONER", aggfunc="sum")


def coefficient_changes(old: Publication, new: Publication) -> pd.DataFrame:
    """Coefficient differences with the sampling error of the difference and a flag beyond 1.96 of it."""
    key = ["response_variable", "variable"]
    m = old.coefficients.merge(new.coefficients, on=key, how="outer", suffixes=("_old", "_new"), indicator=True)
    no, nn = _rows_per_month(old), _rows_per_month(new)
    counts = {}
    for outcome in m["response_variable"].unique():
        a = no[outcome] if outcome in no else pd.Series(dtype=float)
        b = nn[outcome] if outcome in nn else pd.Series(dtype=float)
        both = pd.concat([a.rename("o"), b.rename("n")], axis=1).fillna(0.0)
        common = np.minimum(both["o"], both["n"]).sum()
        counts[outcome] = (float(common), float((both["n"] - np.minimum(both["o"], both["n"])).sum()),
                           float((both["o"] - np.minimum(both["o"], both["n"])).sum()))
    nc = m["response_variable"].map(lambda o: counts[o][0])
    na = m["response_variable"].map(lambda o: counts[o][1])
    nd = m["response_variable"].map(lambda o: counts[o][2])
    n_old, n_new = nc + nd, nc + na
    sigma2 = (m["std_err_old"] ** 2 * n_old + m["std_err_new"] ** 2 * n_new) / 2
    var = sigma2 * (nc * (1 / n_new - 1 / n_old) ** 2 + na / n_new ** 2 + nd / n_old ** 2)
    out = pd.DataFrame({
        "response_variable": m["response_variable"], "variable": m["variable"],
        "coefficient_old": m["coefficient_old"], "coefficient_new": m["coefficient_new"],
        "change": m["coefficient_new"] - m["coefficient_old"],
        "std_err_old": m["std_err_old"], "std_err_new": m["std_err_new"],
        "se_change": np.sqrt(var),
    })
    out["z"] = out["change"] / out["se_change"].where(out["se_change"] > 0)
    out["beyond_sampling_error"] = out["z"].abs() > Z95
    out["status"] = m["_merge"].map({"both": "both", "left_only": "only previous", "right_only": "only new"}).astype(str)
    return out


def revisions(old: Publication, new: Publication) -> pd.DataFrame:
    """Every value either publication holds, joined on the keys: old, new and the revision."""
    cols = ["INDIKATOR", "INDIKATOR_SESONGJUSTERT", "ANTALL_PERSONER"]
    a = old.long[KEYS + cols]
    b = new.long[KEYS + cols]
    m = a.merge(b, on=KEYS, how="outer", suffixes=("_old", "_new"))
    f = _scale(m["UTFALL"])
    m["revision"] = (m["INDIKATOR_new"] - m["INDIKATOR_old"]) * f
    m["revision_adjusted"] = (m["INDIKATOR_SESONGJUSTERT_new"] - m["INDIKATOR_SESONGJUSTERT_old"]) * f
    has_o, has_n = m["INDIKATOR_old"].notna(), m["INDIKATOR_new"].notna()
    m["status"] = np.select([has_o & has_n, has_o & ~has_n, ~has_o & has_n],
                            ["revised" , "no longer published", "newly published"], "suppressed in both")
    m.loc[(m["status"] == "revised") & (m["revision"].abs() <= EPS), "status"] = "unchanged"
    m["level"] = m["ORG_NIVAA"].map(LEVEL_NAMES)
    return m


def revision_summary(rev: pd.DataFrame) -> pd.DataFrame:
    """Distribution of the revisions of values published by both, by level and outcome."""
    both = rev[rev["status"].isin(["revised", "unchanged"])]
    g = both.groupby(["level", "UTFALL"], sort=False)
    out = pd.DataFrame({
        "values compared": g.size(),
        "revised": g["revision"].apply(lambda s: int((s.abs() > EPS).sum())),
        "mean revision": g["revision"].mean(),
        "mean |revision|": g["revision"].apply(lambda s: s.abs().mean()),
        "median |revision|": g["revision"].apply(lambda s: s.abs().median()),
        "90th pct |revision|": g["revision"].apply(lambda s: s.abs().quantile(0.9)),
        "max |revision|": g["revision"].apply(lambda s: s.abs().max()),
    })
    st = rev.groupby(["level", "UTFALL"], sort=False)["status"]
    out["newly published"] = st.apply(lambda s: int((s == "newly published").sum()))
    out["no longer published"] = st.apply(lambda s: int((s == "no longer published").sum()))
    out = out.reset_index()
    out["unit"] = np.where(out["UTFALL"].str.startswith("jobb"), "pp", "hours/week")
    order = {v: i for i, v in enumerate(LEVEL_NAMES.values())}
    return out.sort_values(["level", "UTFALL"], key=lambda s: s.map(order) if s.name == "level" else s).reset_index(drop=True)


def _period_values(pub: Publication, levels: tuple[int, ...] = (1, 2, 3)) -> pd.DataFrame:
    """Each unit's indicator over the publication's period (person-weighted), its se and verdict."""
    d = pub.long[pub.long["ORG_NIVAA"].isin(levels) & (pub.long["NEDBRYTNING"] == "Alle")]
    d = d[d["INDIKATOR"].notna()]
    se = (d["OVRE_95"] - d["NEDRE_95"]) / (2 * Z95)
    w = d["ANTALL_PERSONER"].astype(float)
    work = pd.DataFrame({"ORG_NIVAA": d["ORG_NIVAA"], "ORG_STED": d["ORG_STED"], "UTFALL": d["UTFALL"],
                         "wi": w * d["INDIKATOR"], "w": w, "w2v": (w * se) ** 2})
    g = work.groupby(["ORG_NIVAA", "ORG_STED", "UTFALL"], sort=True)
    s = g[["wi", "w", "w2v"]].sum()
    out = pd.DataFrame({"indicator": s["wi"] / s["w"], "se": np.sqrt(s["w2v"]) / s["w"], "persons": s["w"]})
    lo, hi = out["indicator"] - Z95 * out["se"], out["indicator"] + Z95 * out["se"]
    out["verdict"] = np.select([lo > 0, hi < 0], ["above", "below"], "not distinguishable")
    return out.reset_index()


def rank_changes(old: Publication, new: Publication) -> pd.DataFrame:
    """County and office ranks (1 = highest indicator over each publication's period), old and new."""
    a = _period_values(old, (2, 3))
    b = _period_values(new, (2, 3))
    for t in (a, b):
        t["rank"] = t.groupby(["ORG_NIVAA", "UTFALL"])["indicator"].rank(ascending=False, method="min")
    m = a.merge(b, on=["ORG_NIVAA", "ORG_STED", "UTFALL"], how="outer", suffixes=("_old", "_new"))
    m["rank_change"] = m["rank_old"] - m["rank_new"]  # positive: moved up
    m["level"] = m["ORG_NIVAA"].map(LEVEL_NAMES)
    f = _scale(m["UTFALL"])
    m["indicator_old"] *= f
    m["indicator_new"] *= f
    return m[["level", "ORG_STED", "UTFALL", "indicator_old", "indicator_new", "rank_old", "rank_new", "rank_change"]]


def rank_summary(ranks: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (level, outcome), g in ranks.groupby(["level", "UTFALL"], sort=False):
        both = g.dropna(subset=["rank_old", "rank_new"])
        rho = both["rank_old"].corr(both["rank_new"], method="spearman") if len(both) > 2 else np.nan
        rows.append({"level": level, "UTFALL": outcome, "units": len(both),
                     "rank changed": int((both["rank_change"] != 0).sum()),
                     "max |rank change|": float(both["rank_change"].abs().max()) if len(both) else np.nan,
                     "Spearman (old, new)": rho})
    return pd.DataFrame(rows)


def verdict_changes(old: Publication, new: Publication) -> pd.DataFrame:
    """Units (national, counties, offices) whose interval verdict over the period changed."""
    a, b = _period_values(old), _period_values(new)
    m = a.merge(b, on=["ORG_NIVAA", "ORG_STED", "UTFALL"], how="inner", suffixes=("_old", "_new"))
    m = m[m["verdict_old"] != m["verdict_new"]].copy()
    f = _scale(m["UTFALL"])
    m["level"] = m["ORG_NIVAA"].map(LEVEL_NAMES)
    return pd.DataFrame({"level": m["level"], "ORG_STED": m["ORG_STED"], "UTFALL": m["UTFALL"],
                         "indicator_old": m["indicator_old"] * f, "verdict_old": m["verdict_old"],
                         "indicator_new": m["indicator_new"] * f, "verdict_new": m["verdict_new"]}).reset_index(drop=True)


def compare(old: Publication, new: Publication, n_largest: int = 20) -> ChangeReport:
    """The whole change report of ``new`` against ``old``."""
    months = month_changes(old, new)
    rev = revisions(old, new)
    both = rev[rev["status"].isin(["revised", "unchanged"])]
    min_n = int(new.meta.get("min_cell_count", 10))
    big = both[both["ANTALL_PERSONER_new"] >= min_n]
    largest = big.reindex(big["revision"].abs().sort_values(ascending=False).index).head(n_largest)
    largest = largest[["BEHOLDNINGSMAANED", "level", "ORG_STED", "NEDBRYTNING", "UTFALL", "INDIKATOR_old",
                       "INDIKATOR_new", "revision", "ANTALL_PERSONER_new"]]
    nat = rev[(rev["ORG_NIVAA"] == 1) & (rev["NEDBRYTNING"] == "Alle")]
    national = nat[["BEHOLDNINGSMAANED", "UTFALL", "INDIKATOR_old", "INDIKATOR_new", "INDIKATOR_SESONGJUSTERT_old",
                    "INDIKATOR_SESONGJUSTERT_new", "revision", "revision_adjusted"]].sort_values(["UTFALL", "BEHOLDNINGSMAANED"])
    coefs = coefficient_changes(old, new)
    ranks = rank_changes(old, new)
    verdicts = verdict_changes(old, new)
    summ = revision_summary(rev)
    nat_both = national.dropna(subset=["revision"])
    summary = {
        "months_added": len(months["added"]), "months_dropped": len(months["dropped"]),
        "months_common": len(months["common"]),
        "coefficients_compared": int((coefs["status"] == "both").sum()),
        "coefficients_beyond_sampling_error": int(coefs["beyond_sampling_error"].sum()),
        "values_compared": int(len(both)), "values_revised": int((both["revision"].abs() > EPS).sum()),
        "national_max_abs_revision": float(nat_both["revision"].abs().max()) if len(nat_both) else 0.0,
        "verdicts_changed": int(len(verdicts)),
        "ranks_changed": int((ranks["rank_change"].fillna(0) != 0).sum()),
    }
    return ChangeReport(old.key, new.key, months, data_side_by_side(old, new), coefs, rev, summ, largest, ranks,
                        rank_summary(ranks), verdicts, national, summary)


def national_figure(rep: ChangeReport) -> Any:
    """Old and new national curves (seasonally adjusted where available) for every outcome."""
    from matplotlib.figure import Figure  # no pyplot: leaves the caller's backend alone

    outcomes = list(dict.fromkeys(rep.national["UTFALL"]))
    fig = Figure(figsize=(10, 6.5))
    axes = fig.subplots(2, 2, sharex=True)
    for ax, o in zip(axes.ravel(), outcomes):
        d = rep.national[rep.national["UTFALL"] == o]
        x = pd.PeriodIndex(d["BEHOLDNINGSMAANED"], freq="M").to_timestamp()
        f = 100.0 if o.startswith("jobb") else 1.0
        for col, lab, style in (("old", "previous", "--"), ("new", "new", "-")):
            y = d[f"INDIKATOR_SESONGJUSTERT_{col}"].where(d[f"INDIKATOR_SESONGJUSTERT_{col}"].notna(), d[f"INDIKATOR_{col}"])
            ax.plot(x, y * f, style, label=lab, lw=1.4)
        ax.axhline(0, color="grey", lw=0.6)
        ax.set_title(f"{o} ({'pp' if f == 100 else 'hours/week'})", fontsize=10)
    axes.ravel()[0].legend(frameon=False)
    fig.suptitle("National indicator: previous and new publication (seasonally adjusted)", fontsize=11)
    fig.tight_layout()
    return fig


def _md_table(df: pd.DataFrame) -> str:
    """A pipe table (no dependency on tabulate); floats with 4 significant digits."""
    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return ""
        if isinstance(v, (float, np.floating)):
            return f"{v:.4g}"
        return str(v).replace("|", "\\|")

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def png_bytes(fig: Any) -> bytes:
    """A figure as PNG bytes without software/date metadata (deterministic)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    return buf.getvalue()


def _span(months: list[str]) -> str:
    return f"{months[0]}–{months[-1]}" if months else "none"


def summary_text(rep: ChangeReport) -> str:
    """The change report in one paragraph (Markdown): months added and dropped, coefficients
    beyond sampling error, values revised, the largest national revision, ranks and verdicts
    (what the changes chapter, 09, opens with)."""
    s, m = rep.summary, rep.months
    return (f"Compared with publication `{rep.old_key}`: **{len(m['added'])} month(s) added** ({_span(m['added'])}), "
            f"**{len(m['dropped'])} dropped** ({_span(m['dropped'])}), {len(m['common'])} in common. "
            f"Of {s['coefficients_compared']} coefficients, {s['coefficients_beyond_sampling_error']} moved more than "
            f"sampling error would explain. Of {s['values_compared']} indicator values published by both, "
            f"{s['values_revised']} were revised; the largest national revision is "
            f"{s['national_max_abs_revision']:.3g}. {s['ranks_changed']} county/office ranks changed and "
            f"{s['verdicts_changed']} units changed their interval verdict.")


def largest_coefficient_changes(rep: ChangeReport, n: int = 20) -> pd.DataFrame:
    """The ``n`` coefficients in both publications with the largest |change / its sampling error| (``z``)."""
    c = rep.coefficients[rep.coefficients["status"] == "both"]
    return c.reindex(c["z"].abs().sort_values(ascending=False).index).head(n)


def county_rank_movers(rep: ChangeReport, n: int = 15) -> pd.DataFrame:
    """The ``n`` counties whose rank moved most (by |rank change|; units without a change value left out)."""
    movers = rep.ranks.dropna(subset=["rank_change"])
    return movers[movers["level"] == "county"].sort_values("rank_change", key=abs, ascending=False).head(n)


def markdown(rep: ChangeReport) -> str:
    """A one-page summary in Markdown (the standalone report's ``changes.md``)."""
    s, m = rep.summary, rep.months
    lines = [
        f"# Changes from publication {rep.old_key} to {rep.new_key}", "",
        f"- Months added: {len(m['added'])} ({_span(m['added'])}); dropped: {len(m['dropped'])} ({_span(m['dropped'])}); "
        f"in common: {len(m['common'])}.",
        f"- Coefficients compared: {s['coefficients_compared']}; moved more than sampling error would explain "
        f"(|z| > 1.96): {s['coefficients_beyond_sampling_error']}.",
        f"- Indicator values published by both: {s['values_compared']}, of which revised: {s['values_revised']}; "
        f"largest national revision {s['national_max_abs_revision']:.3g} (hours/week or pp).",
        f"- County/office rank changes: {s['ranks_changed']}; units whose interval verdict changed: {s['verdicts_changed']}.",
        "", "## Data", "", _md_table(rep.data), "",
        "## Revisions by level and outcome", "", _md_table(rep.revision_summary), "",
        "## Ranks", "", _md_table(rep.rank_summary), "",
        "Files: `data.csv`, `coefficients.csv`, `revisions.csv`, `revision_summary.csv`, `largest_revisions.csv`, "
        "`ranks.csv`, `verdicts.csv`, `national.csv`, `national_old_new.png`.", "",
    ]
    return "\n".join(lines)


def write_report(rep: ChangeReport, folder: Path) -> dict[str, Path]:
    """Write the standalone change report (CSV tables, a figure, ``changes.md``, ``summary.json``)."""
    import json

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for name, df in (("data", rep.data), ("coefficients", rep.coefficients), ("revisions", rep.revisions),
                     ("revision_summary", rep.revision_summary), ("largest_revisions", rep.largest),
                     ("ranks", rep.ranks), ("rank_summary", rep.rank_summary), ("verdicts", rep.verdicts),
                     ("national", rep.national)):
        out[name] = folder / f"{name}.csv"
        df.to_csv(out[name], index=False, float_format="%.10g", lineterminator="\n")
    fig = national_figure(rep)
    out["figure"] = folder / "national_old_new.png"
    out["figure"].write_bytes(png_bytes(fig))
    out["summary"] = folder / "summary.json"
    out["summary"].write_text(json.dumps({"old": rep.old_key, "new": rep.new_key, "months": rep.months,
                                          **rep.summary}, indent=2) + "\n")
    out["markdown"] = folder / "changes.md"
    out["markdown"].write_text(markdown(rep), encoding="utf-8")
    return out
