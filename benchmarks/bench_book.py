"""Benchmark of the whole book: build it from a run configuration and print time and peak memory.

Runs ``python -m arbeidsindikator.book.build --config CONFIG`` in a subprocess and samples the
resident memory of its whole process tree (the build, papermill's chapter kernels, jupyter-book
and any worker processes) every 0.2 s from /proc. Wall time and peak RSS are attributed to the
stage running at the time: the preparation's sub-stages (panel = validation + panel build;
models = four fits + predictions + writing the store; cube), each chapter, and rendering.

Goal (issue 11) on 2 cores / 24 GB with full-scale extracts (1.5 M persons, ~23 M person-months):
validation + panel + models + every chapter + rendering ≤ 30 min and ≤ 12 GB peak; the four
models with predictions and the cube ≤ 2 min and ≤ 3 GB (shown as the models + cube rows).

    PYTHONPATH=src nice -n 10 python benchmarks/bench_book.py --config /path/to/fullscale.yml

Figures only, no pass/fail. ``--json`` writes them to a file as well.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")
ROOT = Path(__file__).resolve().parents[1]


def _rss_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                out += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def tree_rss(root: int) -> int:
    """Resident memory of a process and all its descendants (bytes)."""
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _rss_of(pid)
        todo += _children(pid)
    return total


_CHAPTER = re.compile(r"\[\d+/\d+\] (\S+): (executing|copied)")


class Tracker:
    """Current stage (from the build's output) and per-stage wall time and peak memory."""

    def __init__(self) -> None:
        self.stage = "start"
        self.t_stage = time.perf_counter()
        self.stats: dict[str, dict[str, float]] = {}
        self.lock = threading.Lock()
        self.peak_total = 0

    def switch(self, stage: str) -> None:
        with self.lock:
            now = time.perf_counter()
            s = self.stats.setdefault(self.stage, {"seconds": 0.0, "peak_gb": 0.0})
            s["seconds"] += now - self.t_stage
            self.stage, self.t_stage = stage, now
            self.stats.setdefault(stage, {"seconds": 0.0, "peak_gb": 0.0})

    def sample(self, rss: int) -> None:
        with self.lock:
            s = self.stats.setdefault(self.stage, {"seconds": 0.0, "peak_gb": 0.0})
            s["peak_gb"] = max(s["peak_gb"], rss / 2**30)
            self.peak_total = max(self.peak_total, rss)

    def feed(self, text: str) -> None:
        for line in text.splitlines():
            if line.startswith("@@ stage "):
                self.switch(line[len("@@ stage "):].strip())
            elif "rendering with jupyter-book" in line:
                self.switch("render")
            elif line.startswith("done in"):
                self.switch("end")
            else:
                m = _CHAPTER.search(line)
                if m:
                    self.switch(m.group(1))


def driver(config: str) -> int:
    """The build's steps (book.build.build) one by one, going on after a failing chapter.

    A chapter that fails (or whose kernel the watchdog ends) is reported and the next one runs;
    rendering then runs without treating warnings as errors, so every stage is measured.
    """
    import shutil

    sys.path.insert(0, str(ROOT / "src"))
    from arbeidsindikator.book import build as bb
    from arbeidsindikator.config import REPO_ROOT, load_config
    from arbeidsindikator.pipeline import prepare

    cfg = load_config(config)
    since = time.time()  # as book.build: publish reuses the long export the results chapter wrote
    book_dir = REPO_ROOT / "_build" / "book"
    if book_dir.exists():
        shutil.rmtree(book_dir)
    book_dir.mkdir(parents=True)
    print("@@ stage prepare", file=sys.stderr, flush=True)
    study = bb.BackgroundStudy(cfg)  # as book.build: the coverage study beside the preparation
    print("prepare:", prepare(cfg), flush=True)
    bb.write_book_config(cfg, book_dir)
    failed = []
    for f in bb.toc_files():
        print(f"@@ stage {f}", file=sys.stderr, flush=True)
        try:
            bb.execute_chapters(cfg, book_dir, only=[Path(f).name], before={study.CHAPTER: study.wait})
        except Exception as exc:  # noqa: BLE001 - report and go on
            failed.append(f)
            print(f"\nCHAPTER FAILED {f}: {type(exc).__name__}: {str(exc)[:500]}", flush=True)
            src = REPO_ROOT / f"{f}.md"
            dst = book_dir / f"{f}.ipynb"
            if not dst.exists():
                bb.convert(src, dst)
    # the publication archive and the book's downloads, as book.build does before rendering
    # (chapter 10 links the downloads; without them the render fails on unreadable files)
    study.stop()
    print("@@ stage publish", file=sys.stderr, flush=True)
    try:
        from arbeidsindikator.book.archive import publish_build

        publish_build(cfg, book_dir, since=since)
    except Exception as exc:  # noqa: BLE001 - report and go on
        failed.append("publish")
        print(f"\nPUBLISH FAILED: {type(exc).__name__}: {str(exc)[:500]}", flush=True)
    print("@@ stage render", file=sys.stderr, flush=True)
    try:
        bb.render(book_dir, REPO_ROOT, warnings_as_errors=not failed)
        print("rendered", flush=True)
    except Exception as exc:  # noqa: BLE001
        print(f"RENDER FAILED: {str(exc)[-800:]}", flush=True)
        failed.append("render")
    print("@@ stage end", file=sys.stderr, flush=True)
    print("failed:", failed or "none", flush=True)
    return 1 if failed else 0


def _largest_descendant(root: int) -> tuple[int, int]:
    best = (0, 0)
    todo, seen = list(_children(root)), set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        r = _rss_of(pid)
        if r > best[1]:
            best = (pid, r)
        todo += _children(pid)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--driver", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--kill-above-gb", type=float, default=18.0,
                    help="watchdog: end the largest child process (a chapter kernel) when the tree exceeds this")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    ap.add_argument("--interval", type=float, default=0.2)
    args = ap.parse_args(argv)
    if args.driver:
        return driver(args.config)

    env = dict(os.environ, ARBEIDSINDIKATOR_PROGRESS="1", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = str(ROOT / "src") + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--driver", "--config", args.config]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    tr = Tracker()
    log: list[str] = []

    def reader() -> None:
        buf = ""
        assert proc.stdout is not None
        while True:
            data = os.read(proc.stdout.fileno(), 65536)
            if not data:
                break
            text = data.decode("utf-8", "replace")
            sys.stdout.write(text)
            sys.stdout.flush()
            log.append(text)
            buf += text
            # the chapter line ends only after the chapter: react to the partial line too
            lines = buf.split("\n")
            for ln in lines[:-1]:
                tr.feed(ln)
            if _CHAPTER.search(lines[-1]) or lines[-1].startswith("@@") or "rendering with" in lines[-1]:
                tr.feed(lines[-1])
                # keep the fragment; the same marker is ignored when the line completes
                lines[-1] = lines[-1].split("executing")[-1] if "executing" in lines[-1] else ""
            buf = lines[-1]

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    killed: list[str] = []
    while proc.poll() is None:
        rss = tree_rss(proc.pid)
        tr.sample(rss)
        if rss > args.kill_above_gb * 2**30:
            pid, r = _largest_descendant(proc.pid)
            if pid:
                killed.append(f"{tr.stage}: pid {pid} at {r / 2**30:.1f} GB (tree {rss / 2**30:.1f} GB)")
                print(f"\n!! watchdog: ending pid {pid} ({killed[-1]})", flush=True)
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
        time.sleep(args.interval)
    th.join(timeout=5)
    tr.switch("end")
    total = time.perf_counter() - t0
    print("\n=== bench_book:", args.config, "exit", proc.returncode)
    print(f"{'stage':<28} {'seconds':>9} {'peak GB':>8}")
    for name, s in tr.stats.items():
        if name in ("end", "start") or (s["seconds"] < 0.05 and s["peak_gb"] == 0):
            continue
        print(f"{name:<28} {s['seconds']:>9.1f} {s['peak_gb']:>8.2f}")
    print(f"{'total':<28} {total:>9.1f} {tr.peak_total / 2**30:>8.2f}")
    for k in killed:
        print("watchdog ended", k)
    if args.json:
        Path(args.json).write_text(json.dumps({"config": args.config, "exit": proc.returncode, "total_s": round(total, 1),
                                               "peak_gb": round(tr.peak_total / 2**30, 2), "stages": tr.stats, "watchdog": killed}, indent=1))
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
