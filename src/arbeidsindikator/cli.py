"""``arbeidsindikator``: the command-line entry point (installed with the package).

Subcommands::

    arbeidsindikator build    --config CFG [--previous DIR] [--no-render]   the book + its publication
    arbeidsindikator update   --config CFG --previous DIR                   a new quarter against the last one
    arbeidsindikator validate FOLDER                                        check extracts (report only)
    arbeidsindikator windows  --config CFG                                  period and seasonal windows, and why
    arbeidsindikator compare  OLD NEW [--out DIR]                           change report of two publications

Exit codes: 0 success, 2 invalid input (configuration, extracts, publication folder), 1 other
failures. Long steps show progress bars (tqdm) on the terminal.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Sequence

from tqdm import tqdm


def _err(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


def cmd_build(args: argparse.Namespace) -> int:
    """Build the book from a configuration; publish it to the archive (with the change report if --previous)."""
    from arbeidsindikator.book import archive
    from arbeidsindikator.book.build import main as build_main

    if args.previous:
        prev = Path(args.previous).resolve()
        if not (prev / "publication.json").is_file():
            return _err(f"--previous {prev}: no publication.json (not a publication folder)")
        os.environ[archive.PREVIOUS_ENV] = str(prev)  # read by the changes chapter and the archive
    argv = (["--config", args.config] if args.config else []) + (["--no-render"] if args.no_render else [])
    return build_main(argv)


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate a folder of raw extracts against the contract; nothing is computed or written."""
    from arbeidsindikator.data.extracts import ExtractError, validate_extracts
    from arbeidsindikator.windows import reference_windows
    from arbeidsindikator.config import Window
    import pandas as pd

    folder = Path(args.folder)
    bar = tqdm(total=1, desc="validating extracts", disable=args.quiet)
    t0 = time.perf_counter()
    try:
        ex = validate_extracts(folder)
    except ExtractError as exc:
        bar.close()
        print(str(exc), file=sys.stderr)
        return 2
    bar.update()
    bar.close()
    try:
        man = ex.manifest
        print(f"{folder}: valid ({time.perf_counter() - t0:.1f} s)")
        print(f"period declared: {man.start}–{man.end} ({man.n_months} months)")
        for name, (a, b) in man.coverage.items():
            print(f"  coverage {name:10s} {a}–{b}")
        for name, info in ex.summary.items():
            print(f"  {name:10s} {info['rows']:>12,} rows ({info['format']})")
        covid = Window(pd.Period(args.covid[0], freq="M"), pd.Period(args.covid[1], freq="M"))
        hours = man.coverage.get("timer", (None, None))[1]
        for key, h in (("short", 3), ("long", 12)):
            w, why = reference_windows(man.start, man.end, covid, h, hours_last=hours)
            print(f"seasonal reference by the rule ({key}, {h} months): {', '.join(str(x) for x in w)}\n  why: {why}")
    finally:
        ex.close()
    return 0


def cmd_windows(args: argparse.Namespace) -> int:
    """Print the period and seasonal reference windows a configuration resolves to, and why."""
    from arbeidsindikator.config import ConfigError, load_config
    from arbeidsindikator.windows import windows_table

    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        return _err(str(exc))
    print(windows_table(cfg).to_string(index=False))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Change report of two archived publications (no book is built)."""
    from arbeidsindikator.book import changes
    from arbeidsindikator.book.archive import ArchiveError, Publication

    steps = tqdm(total=3, desc="compare", disable=args.quiet)
    try:
        steps.set_postfix_str("reading publications")
        old, new = Publication.load(args.old), Publication.load(args.new)
        steps.update()
        steps.set_postfix_str("comparing")
        rep = changes.compare(old, new)
        steps.update()
        out = Path(args.out) if args.out else Path.cwd() / f"changes_{old.key}_to_{new.key}"
        if out.exists() and any(out.iterdir()) and not args.force:
            steps.close()
            return _err(f"{out} exists and is not empty (use --force to write into it)")
        steps.set_postfix_str("writing")
        files = changes.write_report(rep, out)
        steps.update()
    except ArchiveError as exc:
        steps.close()
        return _err(str(exc))
    steps.close()
    print(changes.markdown(rep).split("## Data")[0].strip())
    print(f"\nreport: {files['markdown']}")
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="arbeidsindikator",
                                 description="NAV's work indicator as a parameterised book: build, publish, compare.")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="build the book from a configuration and archive the publication")
    b.add_argument("--config", default=None, help="run configuration (YAML); default configs/default.yml")
    b.add_argument("--previous", default=None, help="previous publication folder: adds the change report")
    b.add_argument("--no-render", action="store_true", help="execute the chapters only (no HTML, no publication)")
    b.set_defaults(func=cmd_build)

    u = sub.add_parser("update", help="build a new quarter against the previous publication (build --previous)")
    u.add_argument("--config", required=True, help="run configuration of the new quarter")
    u.add_argument("--previous", required=True, help="folder of the previous publication")
    u.set_defaults(func=cmd_build, no_render=False)

    v = sub.add_parser("validate", help="validate a folder of raw extracts (report only, no computation)")
    v.add_argument("folder", help="folder with manifest.json and one file per table")
    v.add_argument("--covid", nargs=2, default=["2020-03", "2022-02"], metavar=("FIRST", "LAST"),
                   help="COVID window of stocks for the windows the rule would give (default 2020-03 2022-02)")
    v.add_argument("--quiet", action="store_true", help="no progress bar")
    v.set_defaults(func=cmd_validate)

    w = sub.add_parser("windows", help="show the period and seasonal reference windows of a configuration, and why")
    w.add_argument("--config", default=None, help="run configuration (YAML)")
    w.set_defaults(func=cmd_windows)

    c = sub.add_parser("compare", help="change report of two publications, without building the book")
    c.add_argument("old", help="folder of the previous publication")
    c.add_argument("new", help="folder of the new publication")
    c.add_argument("--out", default=None, help="report folder (default ./changes_<old>_to_<new>)")
    c.add_argument("--force", action="store_true", help="write into an existing non-empty folder")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=cmd_compare)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
