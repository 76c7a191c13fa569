"""Atomic writes, fingerprints and allocator settings: the small utilities of every stage.

:func:`freed_memory_returned` is how the heavy stages (panel build, models) keep their peak
resident memory near what they hold live.

Lowest layer (imports nothing of the package but :mod:`arbeidsindikator.config`). A cache key
must cover everything the cached object depends on, so :func:`code_fingerprint` hashes the whole
package (every subpackage) and :func:`files_fingerprint` the content of every data file used.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pandas as pd

PACKAGE_DIR = Path(__file__).resolve().parent


def _hash_files(h: "hashlib._Hash", files: Iterable[Path], root: Path) -> None:
    for p in files:
        h.update(str(p.relative_to(root)).replace(os.sep, "/").encode())
        h.update(p.read_bytes())


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Hash of every source file of the package: any code change invalidates cached results."""
    h = hashlib.sha256()
    _hash_files(h, sorted(PACKAGE_DIR.rglob("*.py")), PACKAGE_DIR)
    _hash_files(h, sorted(PACKAGE_DIR.rglob("*.json")), PACKAGE_DIR)
    return h.hexdigest()[:12]


def files_fingerprint(files: Iterable[Path], root: Path) -> str:
    """Content hash of the given files (their paths relative to ``root`` included)."""
    h = hashlib.sha256()
    _hash_files(h, sorted(files), root)
    return h.hexdigest()[:16]


def data_fingerprint(df: pd.DataFrame) -> str:
    """Content hash of a frame (row order and column names included)."""
    h = hashlib.sha256()
    h.update(",".join(df.columns).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def atomic_write(path: Path, writer: Callable[[Path], Any]) -> None:
    """Write via a temporary file in the same folder, then rename: no half-written outputs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        writer(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


#: glibc's ``mallopt`` parameter number of ``M_MMAP_THRESHOLD`` (malloc.h), and the largest
#: value glibc's own dynamic threshold reaches (``DEFAULT_MMAP_THRESHOLD_MAX`` on 64-bit).
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_MAX = 32 << 20


def _set_mmap_threshold(nbytes: int) -> bool:
    import ctypes

    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, int(nbytes)))
    except (OSError, AttributeError):  # no glibc
        return False


@contextmanager
def freed_memory_returned(mmap_threshold: int = 1 << 20) -> Iterator[dict[str, bool]]:
    """Within the block, hand memory this process frees back to the system at once.

    Two allocators otherwise keep what a phase frees resident, so the next phase's arrays come
    on top of it (issue 11; ``benchmarks/prof_models_rss.py`` on the full-scale panel, 24.8 M
    rows: the models stage peaked at 2.63 GiB, 2.36 GiB with both settings, at the same speed;
    in the whole-book benchmark the panel stage, validation included, at 4.86 and 5.53 GiB in
    two runs with them, 5.69 GiB in session 9 without):

    * glibc raises its mmap threshold after each large free, up to 32 MiB, so the 8–16 MiB
      arrays of a 2 M-row chunk end up in heaps it rarely trims. A fixed threshold
      (``mmap_threshold`` bytes) keeps every larger block in its own mapping, unmapped on free.
    * pyarrow's default pool (mimalloc) keeps freed pages per thread; the system pool does not.

    Both cost time where a loop allocates many large temporaries (the cube's two passes: 44 s →
    57 s), so the stages that need it use it for their span only. On exit pyarrow's pool is
    restored and glibc's threshold set to 32 MiB (where its dynamic threshold ends up; glibc
    cannot switch back to dynamic). Results do not depend on it. Yields which setting took
    effect (False without glibc or without pyarrow's system pool).
    """
    import pyarrow as pa

    done = {"mmap_threshold": _set_mmap_threshold(mmap_threshold), "arrow_system_pool": False}
    previous = pa.default_memory_pool()
    try:
        pa.set_memory_pool(pa.system_memory_pool())
        done["arrow_system_pool"] = True
    except (AttributeError, NotImplementedError):
        pass
    try:
        yield done
    finally:
        if done["arrow_system_pool"]:
            pa.set_memory_pool(previous)
        if done["mmap_threshold"]:
            _set_mmap_threshold(_MMAP_THRESHOLD_MAX)


def peak_rss_mb() -> float:
    """Peak resident memory of this process since it started, in MB (2**20 bytes).

    ``VmHWM`` of ``/proc/self/status`` where there is one: ``ru_maxrss`` survives ``exec``, so a
    spawned worker (Dask's, multiprocessing's) reports its parent's peak when that was higher
    (measured: 604 MB in a child whose own peak was 34 MB). Elsewhere ``ru_maxrss``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    import resource
    import sys

    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 2**20 if sys.platform == "darwin" else r / 1024.0  # bytes on macOS, KiB elsewhere
