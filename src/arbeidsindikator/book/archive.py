"""The publication archive: every published build as an immutable folder (issue 15).

A publication is keyed by the period's last month and the run fingerprint (configuration, data
and code): ``<archive>/<YYYY-MM>_<run fingerprint>/``. It holds

* ``publication.json`` — key, period, months, fingerprints, code version, the windows used and
  why, the data counts (persons, rows, exclusions) and the sha256 of every other file;
* ``run_stamp.csv`` and ``configuration.yml`` (the file as given) + ``configuration_resolved.json``;
* ``coefficients.csv`` in NAV's schema (``response_variable, variable, coefficient, std_err,
  t_value, p_value``);
* ``indicator_long.csv`` / ``.xlsx``: the long-format export (``BEHOLDNINGSMAANED, ORG_NIVAA,
  ORG_STED, NEDBRYTNING, UTFALL, faktisk, forventet, INDIKATOR, ANTALL_PERSONER`` + interval
  bounds, the seasonally adjusted indicator and the suppression flag);
* ``tables/<chapter>/<table>.csv`` (every table the book shows) and ``tables.zip`` of them;
* with a previous publication, ``changes/`` (:mod:`arbeidsindikator.book.changes`).

The folder is staged under a temporary name and renamed into place; an existing folder is never
written to (a second build with the same key only checks that it would have written the same
bytes). Files are made read-only. The archive folder is ``output.archive_dir`` of the
configuration (default ``<cache_dir>/../publications``, i.e. ``_build/publications``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from arbeidsindikator.config import REPO_ROOT, RunConfig, config_summary
from arbeidsindikator.io import code_fingerprint

COEF_COLUMNS = ["response_variable", "variable", "coefficient", "std_err", "t_value", "p_value"]
PREVIOUS_ENV = "ARBEIDSINDIKATOR_PREVIOUS_PUBLICATION"
#: Files the book links as downloads (copied next to the rendered book).
DOWNLOADS = ("publication.json", "run_stamp.csv", "configuration.yml", "coefficients.csv",
             "indicator_long.csv", "indicator_long.xlsx", "tables.zip")
#: Keys of the panel report that are timings: left out, so identical runs archive identical bytes.
_VOLATILE = ("seconds", "seconds_by_stage", "extracts", "truth", "file")


class ArchiveError(RuntimeError):
    """A publication folder is malformed or could not be written."""


def archive_root(cfg: RunConfig) -> Path:
    """Where publications are kept: ``output.archive_dir`` (relative to the repository) or the default."""
    d = ((cfg.raw or {}).get("output") or {}).get("archive_dir")
    if not d:
        return cfg.cache_dir.parent / "publications"
    p = Path(d)
    return p if p.is_absolute() else REPO_ROOT / p


def previous_publication(cfg: RunConfig) -> Path | None:
    """The previous publication to compare with: the CLI's ``--previous`` (environment) or the configuration."""
    p = os.environ.get(PREVIOUS_ENV) or ((cfg.raw or {}).get("output") or {}).get("previous_publication")
    if not p:
        return None
    path = Path(p)
    if not path.is_absolute():
        path = (cfg.path.parent / path).resolve() if (cfg.path.parent / path).exists() else REPO_ROOT / path
    if not (path / "publication.json").is_file():
        raise ArchiveError(f"previous publication {path}: no publication.json (not an archive folder)")
    return path


def run_fingerprint(cfg: RunConfig, data_fp: str) -> str:
    """Hash of configuration, data and code: a different value means a different publication."""
    h = hashlib.sha256(f"{cfg.fingerprint()}|{data_fp}|{code_fingerprint()}".encode())
    return h.hexdigest()[:12]


def publication_key(cfg: RunConfig, data_fp: str) -> str:
    return f"{cfg.end}_{run_fingerprint(cfg, data_fp)}"


# ---------------------------------------------------------------------------------------------
# A publication in memory: from a live configuration or from an archive folder
# ---------------------------------------------------------------------------------------------

def coefficient_table(fits: dict[str, Any]) -> pd.DataFrame:
    """All outcomes' coefficients in NAV's schema; t and p computed if the fit does not carry them."""
    parts = []
    for outcome, f in fits.items():
        b, se = f.params.astype(float), f.bse.reindex(f.params.index).astype(float)
        t = getattr(f, "tvalues", None)
        t = (b / se.where(se > 0)) if t is None else pd.Series(t, index=b.index, dtype=float)
        p = getattr(f, "pvalues", None)
        if p is None:
            df = getattr(f, "df_inference", None)
            p = 2 * (stats.t.sf(np.abs(t), df) if df else stats.norm.sf(np.abs(t)))
        parts.append(pd.DataFrame({"response_variable": outcome, "variable": b.index.astype(str), "coefficient": b.to_numpy(),
                                   "std_err": se.to_numpy(), "t_value": np.asarray(t, dtype=float),
                                   "p_value": np.asarray(p, dtype=float)}))
    return pd.concat(parts, ignore_index=True)[COEF_COLUMNS]


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return str(x)


@dataclass
class Publication:
    """What the change report compares: period, data counts, coefficients, the long export."""

    key: str
    meta: dict[str, Any]
    coefficients: pd.DataFrame
    long: pd.DataFrame
    folder: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def months(self) -> list[str]:
        return list(self.meta["months"])

    @classmethod
    def from_config(cls, cfg: RunConfig, *, progress: bool = False, long_files: dict[str, Path] | None = None
                    ) -> "Publication":
        """Compute the publication of a configuration (panel and models come from the pipeline cache).

        ``long_files``: the long export this build already wrote (``csv``, ``xlsx``): read and
        copied instead of computed again.
        """
        from tqdm import tqdm

        from arbeidsindikator import pipeline
        from arbeidsindikator.indicator import export

        bar = tqdm(total=3, desc="publication", disable=not progress, leave=False)
        bar.set_postfix_str("panel")
        pdata = pipeline.panel_meta(cfg)  # fingerprint and report without loading the rows
        persons, rows_by_month = 0, pd.Series(dtype="int64")
        for chunk in pipeline.iter_chunks(cfg, columns=["person_id", "month"]):  # whole persons per chunk
            persons += int(chunk["person_id"].nunique())
            rows_by_month = rows_by_month.add(chunk.groupby(chunk["month"].dt.to_period("M")).size(), fill_value=0)
        bar.update()
        bar.set_postfix_str("models")
        coefs = coefficient_table(pipeline.main_models(cfg).fits)
        bar.update()
        bar.set_postfix_str("long export")
        if long_files:
            long = pd.read_csv(long_files["csv"], dtype={"BEHOLDNINGSMAANED": str, "ORG_STED": str, "NEDBRYTNING": str})
        else:
            from arbeidsindikator.book import recipes

            long = recipes.long_format(cfg)
        bar.update()
        bar.close()
        report = {k: v for k, v in pdata.report.items() if k not in _VOLATILE}
        meta = {
            "key": publication_key(cfg, pdata.fingerprint),
            "period": [str(cfg.start), str(cfg.end)],
            "months": [str(m) for m in cfg.months],
            "configuration": cfg.path.name,
            "configuration_fingerprint": cfg.fingerprint(),
            "data_fingerprint": pdata.fingerprint,
            "code_fingerprint": code_fingerprint(),
            "windows": {"short": [str(w) for w in cfg.seasonal_windows_short],
                        "long": [str(w) for w in cfg.seasonal_windows_long],
                        "covid": str(cfg.covid_window), "why": dict(cfg.provenance)},
            "data": {"persons": persons, "person_months": int(rows_by_month.sum()),
                     "rows_by_month": {str(k): int(v) for k, v in
                                       rows_by_month.sort_index().items()},
                     "report": _plain(report)},
            "min_cell_count": cfg.min_cell_count,
        }
        return cls(meta["key"], meta, coefs, long, extra={"cfg": cfg, "long_files": long_files})

    @classmethod
    def load(cls, folder: str | Path) -> "Publication":
        """Read an archive folder written by :func:`publish`."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / "publication.json").read_text(encoding="utf-8"))
            coefs = pd.read_csv(folder / "coefficients.csv")
            long = pd.read_csv(folder / "indicator_long.csv", dtype={"BEHOLDNINGSMAANED": str, "ORG_STED": str})
        except (OSError, ValueError) as exc:
            raise ArchiveError(f"{folder}: not a readable publication ({exc})") from exc
        return cls(meta["key"], meta, coefs, long, folder=folder)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)).replace(os.sep, "/"): _sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _zip_tables(tables: Path, out: Path) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(p for p in tables.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(str(f.relative_to(tables)).replace(os.sep, "/"), date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, f.read_bytes())


def _fresh_export(cfg: RunConfig, since: float | None) -> dict[str, Path] | None:
    """The long export the book wrote in this build (results chapter), if there is one."""
    if since is None:
        return None
    from arbeidsindikator.book.chapter import tables_root

    d = tables_root(cfg) / cfg.name / "export"
    files = {"csv": d / "arbeidsindikator_long.csv", "xlsx": d / "arbeidsindikator_long.xlsx"}
    if all(f.is_file() and f.stat().st_mtime >= since for f in files.values()):
        return files
    return None


def _book_tables(cfg: RunConfig, since: float | None) -> list[tuple[Path, Path]]:
    """(source, relative path) of every table CSV the book wrote for this configuration (this build)."""
    from arbeidsindikator.book.chapter import tables_root

    root = tables_root(cfg) / cfg.name
    if not root.is_dir():
        return []
    out = []
    for f in sorted(root.rglob("*.csv")):
        rel = f.relative_to(root)
        if rel.parts[0] == "export":  # the long export is archived on its own
            continue
        if since is not None and f.stat().st_mtime < since:
            continue  # left over from an earlier build with the same name
        out.append((f, rel))
    return out


def write_publication(pub: Publication, folder: Path, *, since: float | None = None,
                      previous: Publication | None = None, progress: bool = False) -> None:
    """Write every file of a publication into ``folder`` (which must be empty or new)."""
    from tqdm import tqdm

    from arbeidsindikator.book.chapter import run_stamp
    from arbeidsindikator.indicator.export import write_exports

    cfg: RunConfig = pub.extra["cfg"]
    folder.mkdir(parents=True, exist_ok=True)
    steps = ["configuration", "coefficients", "indicator export", "tables"] + (["changes"] if previous else [])
    bar = tqdm(steps, desc="archive", disable=not progress, leave=False)
    for step in bar:
        bar.set_postfix_str(step)
        if step == "configuration":
            shutil.copyfile(cfg.path, folder / "configuration.yml")
            resolved = {**config_summary(cfg), "provenance": dict(cfg.provenance)}
            resolved.pop("path", None)
            resolved.pop("cache_dir", None)
            (folder / "configuration_resolved.json").write_text(json.dumps(resolved, indent=2, sort_keys=True) + "\n")
            run_stamp(cfg, pub.meta["data_fingerprint"]).to_csv(folder / "run_stamp.csv", index=False, lineterminator="\n")
        elif step == "coefficients":
            pub.coefficients.to_csv(folder / "coefficients.csv", index=False, float_format="%.17g", lineterminator="\n")
        elif step == "indicator export":
            given = pub.extra.get("long_files")
            if given:  # the bytes this build's results chapter wrote from the same frame
                shutil.copyfile(given["csv"], folder / "indicator_long.csv")
                shutil.copyfile(given["xlsx"], folder / "indicator_long.xlsx")
            else:
                files = write_exports(pub.long, folder)
                files["csv"].rename(folder / "indicator_long.csv")
                files["xlsx"].rename(folder / "indicator_long.xlsx")
        elif step == "tables":
            tdir = folder / "tables"
            tdir.mkdir(exist_ok=True)
            for src, rel in _book_tables(cfg, since):
                (tdir / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, tdir / rel)
            _zip_tables(tdir, folder / "tables.zip")
        elif step == "changes":
            from arbeidsindikator.book import changes

            assert previous is not None
            changes.write_report(changes.compare(previous, pub), folder / "changes")
    meta = dict(pub.meta, previous=previous.key if previous else None,
                files=_hashes(folder))
    (folder / "publication.json").write_text(json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                             encoding="utf-8")


def _read_only(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            p.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


@dataclass
class PublishResult:
    path: Path
    created: bool  # False: the folder existed and was left untouched
    identical: bool | None = None  # for an existing folder: would this build have written the same files?
    differing: list[str] = field(default_factory=list)


def publish(cfg: RunConfig, *, since: float | None = None, previous: Path | None = None,
            book_dir: Path | None = None, progress: bool = False) -> PublishResult:
    """Archive the publication of ``cfg``; never overwrite an existing one.

    ``since`` (a time stamp) keeps only the book tables written by this build. ``previous``: an
    archive folder to write the change report against. ``book_dir``: copy the downloadable
    files to ``book_dir/downloads`` so the rendered book links them.
    """
    pub = Publication.from_config(cfg, progress=progress, long_files=_fresh_export(cfg, since))
    prev = Publication.load(previous) if previous else None
    root = archive_root(cfg)
    root.mkdir(parents=True, exist_ok=True)
    final = root / pub.key
    staging = Path(tempfile.mkdtemp(dir=root, prefix=f".staging-{pub.key}-"))
    try:
        write_publication(pub, staging, since=since, previous=prev, progress=progress)
        if final.exists():
            old, new = _hashes(final), _hashes(staging)  # the files as they are, not as recorded
            differing = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            result = PublishResult(final, created=False, identical=not differing, differing=differing)
        else:
            _read_only(staging)
            staging.chmod(0o755)
            os.rename(staging, final)  # atomic; fails if the folder appeared meanwhile (non-empty)
            result = PublishResult(final, created=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    if book_dir is not None:
        link_downloads(result.path, Path(book_dir))
    return result


def link_downloads(folder: Path, book_dir: Path) -> Path:
    """Copy the downloadable files of a publication to ``book_dir/downloads`` (the chapters link them)."""
    dl = book_dir / "downloads"
    dl.mkdir(parents=True, exist_ok=True)
    for name in DOWNLOADS:
        if (folder / name).exists():
            dst = dl / name
            shutil.copyfile(folder / name, dst)
            dst.chmod(0o644)
    if (folder / "changes").is_dir():
        shutil.copytree(folder / "changes", dl / "changes", dirs_exist_ok=True)
    return dl



def publish_build(cfg: RunConfig, book_dir: Path, *, since: float | None = None) -> PublishResult:
    """The build's one call: archive this publication (and its change report) and link the downloads."""
    prev = previous_publication(cfg)
    res = publish(cfg, since=since, previous=prev, book_dir=book_dir, progress=True)
    if res.created:
        print(f"published: {res.path}" + (f" (changes against {prev.name})" if prev else ""))
    elif res.identical:
        print(f"already published, identical, left untouched: {res.path}")
    else:
        print(f"warning: {res.path} exists and is left untouched, but this build would have written different "
              f"files ({', '.join(res.differing[:5])}{' …' if len(res.differing) > 5 else ''}): the build is not "
              "reproducible from its fingerprint", file=sys.stderr)
    return res
