"""Build the book: validate configuration → prepare data and models → execute chapters → render.

Usage (the Makefile wraps this)::

    python -m arbeidsindikator.book.build --config configs/default.yml

Chapters are jupytext MyST notebooks in ``chapters/``. Each is converted to ``.ipynb`` in a
separate build folder (never next to its source), executed there with papermill (explicit
kernel, timeout, working directory) with the configuration path as its only parameter, then
the folder is rendered with jupyter-book 1.x (``execute_notebooks: off``) with Sphinx warnings
as errors. A failing chapter stops the build with a message naming the chapter and the cell.

Publishing (issue 12): a build writes everything — executed notebooks, the tables every chapter
saves, the export, the HTML — into its own folder ``_build/runs/<run fingerprint>/`` (the
fingerprint covers the configuration's values and the code). A folder left there by an
interrupted build is deleted first, never reused. Only when every chapter has executed (and the
book has rendered) are the outputs published, each by one atomic rename (an exchange of the two
directories): the tables to ``<cache_dir>/../tables/<name>/`` and the HTML to ``_build/html``.
A build killed at any point therefore leaves the previously published book and tables intact,
never a mix of two configurations.

With ``data.source: extracts`` and no ``profiling/`` folder next to the extracts, the profiling
chapter is replaced by a page saying that its data are absent; every work-indicator chapter
builds as usual.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import yaml

from arbeidsindikator.config import REPO_ROOT, ConfigError, RunConfig, load_config
from arbeidsindikator.data.contract import ContractError

KERNEL = "python3"
CELL_TIMEOUT_S = 1800
#: Environment variable the chapters' kernels read to write their tables into the build's own folder.
TABLES_ENV = "ARBEIDSINDIKATOR_TABLES_ROOT"
#: Chapters that need data a folder of extracts may lack: (chapter stem, data folder, what is missing).
OPTIONAL_DATA_CHAPTERS = {"07_profiling": ("profiling", "registrations, spells and wages of new job seekers")}


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
    from arbeidsindikator.book.chapter import synthetic_data

    conf = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    if synthetic_data(cfg):
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


def run_fingerprint(cfg: RunConfig) -> str:
    """Key of a build's output folder: the configuration's values and the code."""
    from arbeidsindikator.io import code_fingerprint

    return hashlib.sha256(f"{cfg.fingerprint()}|{code_fingerprint()}|{cfg.name}".encode()).hexdigest()[:16]


def missing_chapter_data(cfg: RunConfig, stem: str) -> str | None:
    """Why a chapter cannot run on this configuration's data (None if it can)."""
    if stem not in OPTIONAL_DATA_CHAPTERS or cfg.is_synthetic or cfg.data_path is None:
        return None
    sub, what = OPTIONAL_DATA_CHAPTERS[stem]
    folder = Path(cfg.data_path) / sub
    if folder.is_dir() and any(folder.iterdir()):
        return None
    return f"the folder `{folder}` with the {what} is absent"


def absent_page(src: Path, reason: str) -> str:
    """A short page in place of a chapter whose data are absent (keeps its label and title)."""
    lines = src.read_text(encoding="utf-8").splitlines()
    label = next((ln for ln in lines if ln.startswith("(") and ln.endswith(")=")), "")
    title = next((ln for ln in lines if ln.startswith("# ")), f"# {src.stem}")
    return (f"{label}\n{title}\n\n:::{{note}}\nThis chapter's data are absent: {reason}. The chapter is "
            "left out of this build; the work-indicator chapters do not need these data. The input "
            "contract of the profiling extracts is in `arbeidsindikator.profiling.contract` and the "
            "glossary.\n:::\n")


def execute_chapters(cfg: RunConfig, book_dir: Path, only: list[str] | None = None, log=print,
                     before: dict[str, Callable[[], None]] | None = None) -> dict[str, float]:
    """Convert and execute every chapter of the toc into ``book_dir``; returns seconds per chapter.

    ``before`` maps a chapter's file stem to a call made just before it runs (e.g. waiting for
    :class:`BackgroundStudy`).
    """
    files = toc_files()
    timings: dict[str, float] = {}
    for i, f in enumerate(files, 1):
        src = REPO_ROOT / f"{f}.md"
        if only and Path(f).name not in only:
            continue
        if not src.exists():
            raise ChapterError(f"_toc.yml names '{f}' but {src} does not exist")
        if before and Path(f).name in before:
            before[Path(f).name]()
        t0 = time.perf_counter()
        absent = missing_chapter_data(cfg, Path(f).name)
        if absent:
            dst = book_dir / f"{f}.md"
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_text(absent_page(src, absent), encoding="utf-8")
            log(f"[{i}/{len(files)}] {f}: data absent ({absent})", end="", flush=True)
        elif _is_notebook(src):
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


class BackgroundStudy:
    """The uncertainty chapter's coverage study (:func:`arbeidsindikator.analyses.validation.cached_study`),
    run in a child process at the lowest CPU priority while the data are prepared.

    The study simulates its own small panels (it does not read the data), costs ~85 CPU-seconds
    whatever the data's size, and the preparation leaves a core idle much of the time; run here it
    is cached before chapter 06 asks for it instead of adding its time to the chapter. Nothing
    depends on the child: if it fails, chapter 06 runs the study itself (:meth:`wait` says so).
    """

    CHAPTER = "06_uncertainty"

    def __init__(self, cfg: RunConfig, only: list[str] | None = None):
        from arbeidsindikator.analyses import validation

        self.proc: subprocess.Popen | None = None
        if (only and self.CHAPTER not in only) or validation.study_is_cached(cfg.cache_dir):
            return
        self._err = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", "arbeidsindikator.analyses.validation", str(cfg.cache_dir)],
                                         stdout=subprocess.DEVNULL, stderr=self._err)
        except OSError as exc:  # nothing depends on the child: chapter 06 runs the study itself
            print(f"\nnote: the background coverage study did not start ({exc}); chapter {self.CHAPTER} runs it itself")
            self._close()
            return
        try:
            os.setpriority(os.PRIO_PROCESS, self.proc.pid, 19)  # only idle CPU
        except OSError:
            pass

    def wait(self) -> None:
        """Wait for the child (before chapter 06); report a failure (chapter 06 then runs the study)."""
        if self.proc is None:
            return
        code = self.proc.wait()
        if code != 0:
            self._err.seek(0)
            tail = self._err.read().decode(errors="replace").strip().splitlines()[-3:]
            print(f"\nnote: the background coverage study ended with exit {code} ({' | '.join(tail)}); "
                  f"chapter {self.CHAPTER} runs it itself", flush=True)
        self._close()

    def stop(self) -> None:
        """End the child if it still runs (a build that failed before chapter 06): SIGTERM first,
        so an atomic write in progress removes its temporary file; SIGKILL after 10 s."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close()

    def _close(self) -> None:
        if getattr(self, "_err", None) is not None:
            self._err.close()
            self._err = None
        self.proc = None


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


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing directories (Linux renameat2); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    return fn(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), _RENAME_EXCHANGE) == 0


def publish(staged: Path, published: Path) -> None:
    """Make ``staged`` the content of ``published`` by one atomic rename; the old content is removed.

    A first publication is a plain rename; a later one exchanges the two directories
    (``renameat2(RENAME_EXCHANGE)``), so readers see either the old or the new folder, whole.
    Where the exchange is unsupported, the old folder is renamed aside first (a moment without a
    published folder, never a mixed one).
    """
    published.parent.mkdir(parents=True, exist_ok=True)
    if published.is_symlink() or published.is_file():
        published.unlink()
    if not published.exists():
        os.rename(staged, published)
        return
    if not _exchange(staged, published):
        old = published.with_name(f".{published.name}.old-{os.getpid()}")
        os.rename(published, old)
        os.rename(staged, published)
        staged = old
    shutil.rmtree(staged, ignore_errors=True)


@contextmanager
def _tables_root(root: Path) -> Iterator[None]:
    """Chapters executed inside the block write their tables under ``root`` (via :data:`TABLES_ENV`)."""
    old = os.environ.get(TABLES_ENV)
    os.environ[TABLES_ENV] = str(root)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(TABLES_ENV, None)
        else:
            os.environ[TABLES_ENV] = old


def build(config: str | Path | None, *, out_root: Path = REPO_ROOT, render_html: bool = True, only: list[str] | None = None) -> Path:
    """The whole pipeline; returns the published HTML folder (or the executed-notebook folder).

    Everything is written to ``out_root/_build/runs/<run fingerprint>/`` and published only when
    the build completes (see the module docstring). ``only`` (a subset of chapters) executes into
    the run folder and publishes nothing.
    """
    from arbeidsindikator.pipeline import prepare

    t_start = time.perf_counter()
    cfg = load_config(config)
    print(f"configuration: {cfg.path} (source: {cfg.source}, period {cfg.start}–{cfg.end})")
    run = out_root / "_build" / "runs" / run_fingerprint(cfg)
    if run.exists():  # left by an interrupted build: never reuse partial outputs
        shutil.rmtree(run)
    book_dir = run / "book"
    book_dir.mkdir(parents=True)
    tables_root = run / "tables"
    t0 = time.perf_counter()
    print("preparing data and main models …", end="", flush=True)
    study = BackgroundStudy(cfg, only)
    try:
        stages = prepare(cfg)
        print(f" {time.perf_counter() - t0:.1f} s ({stages})")
        write_book_config(cfg, book_dir)
        # chapters link their tables' CSV/Excel files relative to the executed notebooks
        # (book.chapter.book_dir reads this; the papermill kernels inherit the environment)
        os.environ["ARBEIDSINDIKATOR_BOOK_DIR"] = str(book_dir)
        with _tables_root(tables_root):
            execute_chapters(cfg, book_dir, only=only, before={study.CHAPTER: study.wait})
            if render_html and not only:  # immutable publication archive + the book's downloads (archive.py)
                from arbeidsindikator.book.archive import publish_build

                publish_build(cfg, book_dir, since=time.time() - (time.perf_counter() - t_start))
    finally:
        study.stop()
    if only:
        print(f"executed {only} into {run} (nothing published: a partial build)")
        return book_dir
    published_tables = cfg.cache_dir.parent / "tables" / cfg.name
    staged_tables = tables_root / cfg.name
    staged_tables.mkdir(parents=True, exist_ok=True)
    published_book = out_root / "_build" / "book"  # the executed notebooks (``make pdf`` reads them)
    if not render_html:
        publish(staged_tables, published_tables)
        publish(book_dir, published_book)
        print(f"published tables: {published_tables}; executed notebooks: {published_book}")
        shutil.rmtree(run, ignore_errors=True)
        return published_book
    t0 = time.perf_counter()
    print("rendering with jupyter-book …", end="", flush=True)
    staged_html = render(book_dir, run)
    print(f" {time.perf_counter() - t0:.1f} s")
    html = out_root / "_build" / "html"
    publish(staged_tables, published_tables)
    publish(staged_html, html)
    publish(book_dir, published_book)
    shutil.rmtree(run, ignore_errors=True)
    print(f"done in {time.perf_counter() - t_start:.0f} s: {html / 'index.html'}")
    return html


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build the arbeidsindikator book from a run configuration.")
    ap.add_argument("--config", default=None, help="run configuration (YAML); default: configs/default.yml")
    ap.add_argument("--no-render", action="store_true", help="execute chapters only")
    ap.add_argument("--only", nargs="*", help="execute only these chapters (file stems)")
    ap.add_argument("--out-root", default=str(REPO_ROOT), help="folder that receives _build/ (default: the repository)")
    args = ap.parse_args(argv)
    try:
        # rendering needs every chapter of the toc, so --only implies --no-render
        build(args.config, out_root=Path(args.out_root), render_html=not (args.no_render or args.only), only=args.only)
    except (ConfigError, ChapterError, ContractError) as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
