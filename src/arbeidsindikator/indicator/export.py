"""Export of indicator tables in NAV's published long format (digest Part 3), CSV and Excel.

One row per month × organisational level × unit × breakdown × outcome, with the columns NAV's
analysis repositories query: ``BEHOLDNINGSMAANED, ORG_NIVAA (1 national, 2 county, 3 office),
ORG_STED, NEDBRYTNING, UTFALL, faktisk, forventet, INDIKATOR, ANTALL_PERSONER`` plus the 95 %
interval bounds, the seasonally adjusted indicator and a suppression flag. jobb values are
fractions, as NAV stores them. Cells below the minimum count, and the complementary cells
:mod:`arbeidsindikator.indicator.disclosure` picks so that none of them can be recovered from
the published totals and margins, lose every value and their count (``PRIKKET`` = True); the
rows stay, so nothing is dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from arbeidsindikator.indicator import disclosure, indicator
from arbeidsindikator.indicator import seasonal
from arbeidsindikator.config import RunConfig
from arbeidsindikator.data.contract import OUTCOMES
from arbeidsindikator.io import atomic_write

ORG_LEVELS = {1: None, 2: "fylke", 3: "nav_kontor"}
BREAKDOWNS = {"Innsatsgruppe": "innsatsgruppe", "Tiltak": "tiltak"}
FLAG_BREAKDOWNS = {"Ungdomsgaranti": "ungdomsgaranti", "Landgruppe 3": "landgruppe3"}
#: Service-group names as NAV's published tables spell them (digest Part 3: new §14a names).
INNSATSGRUPPE_NAV = {
    "standard": "Gode muligheter",
    "situasjonsbestemt": "Trenger veiledning",
    "spesielt_tilpasset": "Trenger veiledning, nedsatt arbeidsevne",
    "behov_for_arbeidsevnevurdering": "Behov for arbeidsevnevurdering",
    "ikke_vurdert": "Ikke vurdert",
    "helserelatert": "Helserelatert arbeidsrettet oppfølging",
    "sykmeldt_uten_arbeidsgiver": "Sykmeldt uten arbeidsgiver",
}
LONG_COLUMNS = [
    "BEHOLDNINGSMAANED", "ORG_NIVAA", "ORG_STED", "NEDBRYTNING", "UTFALL", "faktisk", "forventet",
    "INDIKATOR", "INDIKATOR_SESONGJUSTERT", "NEDRE_95", "OVRE_95", "ANTALL_PERSONER", "PRIKKET",
]


def _one(df: pd.DataFrame, outcome: str, org_col: str | None, by: str | None, label: str, cfg: RunConfig) -> pd.DataFrame:
    keys = ([org_col] if org_col else []) + ([by] if by else [])
    return _one_table(indicator.monthly(df, outcome, keys or None), outcome, org_col, by, label, cfg)


def _one_table(table: pd.DataFrame, outcome: str, org_col: str | None, by: str | None, label: str, cfg: RunConfig) -> pd.DataFrame:
    """One series block of the long table from a monthly indicator table (panel or cube)."""
    keys = ([org_col] if org_col else []) + ([by] if by else [])
    t = table.reset_index()
    if by in FLAG_BREAKDOWNS.values():
        t = t[t[by].astype(bool)]
        t["NEDBRYTNING"] = label
    elif by:
        t = t[t[by].astype(str) != "ingen"]
        names = t[by].astype(str)
        if by == "innsatsgruppe":
            names = names.map(lambda v: INNSATSGRUPPE_NAV.get(v, v))
        t["NEDBRYTNING"] = label + " - " + names
    else:
        t["NEDBRYTNING"] = "Alle"
    adj = seasonal.adjust_frame(t, ["indicator"], keys, seasonal.windows_for(cfg, outcome))
    t["INDIKATOR_SESONGJUSTERT"] = np.where(adj["adjusted"], adj["indicator"], np.nan)
    return pd.DataFrame(
        {
            "BEHOLDNINGSMAANED": pd.DatetimeIndex(t["month"]).strftime("%Y-%m"),
            "ORG_STED": t[org_col].astype(str) if org_col else "Norge",
            "NEDBRYTNING": t["NEDBRYTNING"],
            "UTFALL": outcome,
            "faktisk": t["actual"],
            "forventet": t["expected"],
            "INDIKATOR": t["indicator"],
            "INDIKATOR_SESONGJUSTERT": t["INDIKATOR_SESONGJUSTERT"],
            "NEDRE_95": t["lower_resid"],
            "OVRE_95": t["upper_resid"],
            "ANTALL_PERSONER": t["n"].astype(int),
        }
    )


def long_format(df: pd.DataFrame, cfg: RunConfig, outcomes: Sequence[str] = OUTCOMES) -> pd.DataFrame:
    """All indicator series in NAV's long format, suppressed below ``cfg.min_cell_count``.

    ``df`` is the panel with expected values (:func:`pipeline.panel_with_expected`).
    """
    df = indicator.add_derived_groups(df)
    offices = df[["nav_kontor", "fylke"]].drop_duplicates()
    office_county = dict(zip(offices["nav_kontor"].astype(str), offices["fylke"].astype(str)))
    return long_format_from(lambda outcome, keys: indicator.monthly(df, outcome, keys or None), cfg, office_county,
                            outcomes)


def long_format_from(monthly, cfg: RunConfig, office_county: Mapping[str, str],
                     outcomes: Sequence[str] = OUTCOMES) -> pd.DataFrame:
    """The long table from ``monthly(outcome, keys)`` → monthly indicator table (panel or cube).

    ``office_county`` (office → county) lets the complementary suppression protect offices
    within their county."""
    parts = []
    for level, org_col in ORG_LEVELS.items():
        for outcome in outcomes:
            specs = [(None, "Alle")] + [(c, lab) for lab, c in BREAKDOWNS.items()] + [(c, lab) for lab, c in FLAG_BREAKDOWNS.items()]
            for by, label in specs:
                keys = ([org_col] if org_col else []) + ([by] if by else [])
                part = _one_table(monthly(outcome, keys), outcome, org_col, by, label, cfg)
                part.insert(1, "ORG_NIVAA", level)
                parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    # primary and complementary suppression (indicator.disclosure): no blanked cell can be
    # recovered from published totals and margins; blanked cells lose their count too
    hidden = disclosure.protect_long(out, cfg.min_cell_count, office_county)
    values = ["faktisk", "forventet", "INDIKATOR", "INDIKATOR_SESONGJUSTERT", "NEDRE_95", "OVRE_95"]
    out.loc[hidden, values] = np.nan
    out["ANTALL_PERSONER"] = out["ANTALL_PERSONER"].astype("Int64").mask(hidden)
    out["PRIKKET"] = hidden
    out = out.sort_values(["UTFALL", "ORG_NIVAA", "ORG_STED", "NEDBRYTNING", "BEHOLDNINGSMAANED"], kind="stable")
    return out[LONG_COLUMNS].reset_index(drop=True)


def write_exports(long: pd.DataFrame, folder: Path, excel_max_level: int = 2) -> dict[str, Path]:
    """Write the long table as CSV (all levels) and Excel (one sheet per outcome), atomically.

    The Excel workbook holds organisational levels up to ``excel_max_level`` (default national
    and county): writing office rows with openpyxl takes minutes at full scale, and the CSV has them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / "arbeidsindikator_long.csv"
    xlsx = folder / "arbeidsindikator_long.xlsx"
    atomic_write(csv, lambda p: long.to_csv(p, index=False, float_format="%.10g", lineterminator="\n"))

    def _xlsx(p: Path) -> None:
        with pd.ExcelWriter(p, engine="openpyxl") as xw:
            for outcome, part in long[long["ORG_NIVAA"] <= excel_max_level].groupby("UTFALL", sort=False):
                part.to_excel(xw, sheet_name=str(outcome), index=False)
        deterministic_xlsx(p)

    atomic_write(xlsx, _xlsx)
    return {"csv": csv, "xlsx": xlsx}


#: Creation/modification time written into every workbook (docProps/core.xml) and zip entry.
FIXED_XLSX_TIME = "2000-01-01T00:00:00Z"


def deterministic_xlsx(path: Path) -> None:
    """Make a workbook's bytes depend on its content only (in place).

    openpyxl stamps the save time into ``docProps/core.xml`` (created, modified) and every zip
    entry's date, so two builds of the same tables differed. Both are set to a fixed value.
    """
    import re
    import zipfile

    with zipfile.ZipFile(path) as zin:
        entries = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    tmp = path.with_name(path.name + ".norm")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in entries:
            if name == "docProps/core.xml":
                text = data.decode("utf-8")
                for tag in ("created", "modified"):
                    text = re.sub(rf"(<dcterms:{tag}[^>]*>)[^<]*(</dcterms:{tag}>)", rf"\g<1>{FIXED_XLSX_TIME}\g<2>", text)
                data = text.encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, data)
    tmp.replace(path)
