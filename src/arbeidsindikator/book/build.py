"""Build the book: validate configuration → prepare data and models → execute chapters → render.

Usage (the Makefile wraps this)::

    python -m arbeidsindikator.book.build --config configs/default.yml

Chapters are jupytext MyST notebooks in ``chapters/``. Each is converted to ``.ipynb`` in a
separate build folder (never next to its source), executed there with papermill (explicit
kernel, timeout, working directory) with the configuration path as its only parameter, then
the folder is rendered with jupyter-book 1.x (``execute_notebooks: off``) into ``_build/html``
with Sphinx warnings as errors. A failing chapter stops the build with a message naming the
chapter and the cell.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from arbeidsindikator.config import REPO_ROOT, ConfigError, RunConfig, load_config
from arbeidsindikator.data.contract import ContractError

KERNEL = "python3"
CELL_TIMEOUT_S = 1800


class ChapterError(RuntimeError):
    """A chapter failed to execute; the message names the chapter and the cell."""


def toc_files(root: Path = REPO_ROOT) -> list[str]:
    """Chapter paths (without suffix) in table-of-contents order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    files += [c["file"] for c in toc.get("chapters", [])]
    return files


def _is_notebook(md: Path) -> bool:
    head = md.read_text(encoding="utf-8")[:600]
    return "jupytext:" in head and "kernelspec:" in head


def convert(md: Path, out: Path) -> None:
    """jupytext MyST markdown → .ipynb (keeps cell tags, e.g. ``parameters``)."""
    import jupytext

    nb = jupytext.read(md)
    nb.metadata.setdefault("kernelspec", {"name": KERNEL, "display_name": "Python 3", "language": "python"})
    nb.metadata["kernelspec"]["name"] = KERNEL
    out.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(nb, out, fmt="ipynb")


def _hide_injected_parameters(path: Path) -> None:
    """papermill's injected-parameters cell inherits no tags: hide it in the rendered book."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(nb, path)


def execute(ipynb: Path, config_path: Path, cwd: Path = REPO_ROOT) -> None:
    """Run one notebook in place with papermill; raise ChapterError naming the failing cell."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    try:
        pm.execute_notebook(
            str(ipynb),
            str(ipynb),
            parameters={"config_path": str(config_path)},
            kernel_name=KERNEL,
            cwd=str(cwd),
            execution_timeout=CELL_TIMEOUT_S,
            progress_bar=False,
            log_output=False,
            # the kernel's own INFO/WARNING lines (e.g. about TCP transport) only clutter the
            # progress display; errors still show
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
    except PapermillExecutionError as exc:
        raise ChapterError(
            f"chapter '{ipynb.stem}' failed in cell {exc.exec_count} (execution count; "
            f"cell index {exc.cell_index}): {exc.ename}: {exc.evalue}\n"
            f"see the executed notebook {ipynb} for the traceback"
        ) from exc
    _hide_injected_parameters(ipynb)


def write_book_config(cfg: RunConfig, book_dir: Path) -> None:
    """Copy _config.yml and _toc.yml into the build folder; add the synthetic banner if needed."""
    conf = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    if cfg.is_synthetic:
        opts = conf.setdefault("sphinx", {}).setdefault("config", {}).setdefault("html_theme_options", {})
        opts["announcement"] = (
            "⚠ Synthetic data: every figure in this book was computed from generated register data "
            "and is not NAV's result."
        )
    (book_dir / "_config.yml").write_text(yaml.safe_dump(conf, allow_unicode=True, sort_keys=False), encoding="utf-8")
    shutil.copy2(REPO_ROOT / "_toc.yml", book_dir / "_toc.yml")
    for extra in ("references.bib", "logo.png"):
        if (REPO_ROOT / extra).exists():
            shutil.copy2(REPO_ROOT / extra, book_dir / extra)


def execute_chapters(cfg: RunConfig, book_dir: Path, only: list[str] | None = None, log=print) -> dict[str, float]:
    """Convert and execute every chapter of the toc into ``book_dir``; returns seconds per chapter."""
    files = toc_files()
    timings: dict[str, float] = {}
    for i, f in enumerate(files, 1):
        src = REPO_ROOT / f"{f}.md"
        if only and Path(f).name not in only:
            continue
        if not src.exists():
            raise ChapterError(f"_toc.yml names '{f}' but {src} does not exist")
        t0 = time.perf_counter()
        if _is_notebook(src):
            dst = book_dir / f"{f}.ipynb"
            log(f"[{i}/{len(files)}] {f}: executing …", end="", flush=True)
            convert(src, dst)
            execute(dst, cfg.path)
        else:
            dst = book_dir / f"{f}.md"
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
            log(f"[{i}/{len(files)}] {f}: copied (no code)", end="", flush=True)
        timings[f] = round(time.perf_counter() - t0, 1)
        log(f" {timings[f]} s")
    return timings


def render(book_dir: Path, out_root: Path = REPO_ROOT, warnings_as_errors: bool = True) -> Path:
    """jupyter-book build of the executed notebooks; HTML lands in ``out_root/_build/html``."""
    cmd = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(book_dir), "--path-output", str(out_root)]
    if warnings_as_errors:
        cmd += ["-W", "-n", "--keep-going"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        tail = "\n".join((res.stdout + res.stderr).splitlines()[-40:])
        raise RuntimeError(f"jupyter-book build failed (exit {res.returncode}):\n{tail}")
    return out_root / "_build" / "html"


def build(config: str | Path | None, *, out_root: Path = REPO_ROOT, render_html: bool = True, only: list[str] | None = None) -> Path:
    """The whole pipeline; returns the HTML folder (or the executed-notebook folder)."""
    from arbeidsindikator.pipeline import prepare

    t_start = time.perf_counter()
    cfg = load_config(config)
    print(f"configuration: {cfg.path} (source: {cfg.source}, period {cfg.start}–{cfg.end})")
    book_dir = out_root / "_build" / "book"
    if book_dir.exists():
        shutil.rmtree(book_dir)
    book_dir.mkdir(parents=True)
    t0 = time.perf_counter()
    print("preparing data and main models …", end="", flush=True)
    stages = prepare(cfg)
    print(f" {time.perf_counter() - t0:.1f} s ({stages})")
    write_book_config(cfg, book_dir)
    # chapters link their tables' CSV/Excel files relative to the executed notebooks
    # (book.chapter.book_dir reads this; the papermill kernels inherit the environment)
    os.environ["ARBEIDSINDIKATOR_BOOK_DIR"] = str(book_dir)
    execute_chapters(cfg, book_dir, only=only)
    if not render_html:
        return book_dir
    t0 = time.perf_counter()
    print("rendering with jupyter-book …", end="", flush=True)
    html = render(book_dir, out_root)
    print(f" {time.perf_counter() - t0:.1f} s")
    print(f"done in {time.perf_counter() - t_start:.0f} s: {html / 'index.html'}")
    return html


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build the arbeidsindikator book from a run configuration.")
    ap.add_argument("--config", default=None, help="run configuration (YAML); default: configs/default.yml")
    ap.add_argument("--no-render", action="store_true", help="execute chapters only")
    ap.add_argument("--only", nargs="*", help="execute only these chapters (file stems)")
    args = ap.parse_args(argv)
    try:
        # rendering needs every chapter of the toc, so --only implies --no-render
        build(args.config, render_html=not (args.no_render or args.only), only=args.only)
    except (ConfigError, ChapterError, ContractError) as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
