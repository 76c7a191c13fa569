"""Small utilities of :mod:`arbeidsindikator.io`: the allocator settings of the heavy stages."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from arbeidsindikator.io import freed_memory_returned


def test_freed_memory_returned_switches_and_restores_the_arrow_pool():
    before = pa.default_memory_pool().backend_name
    with freed_memory_returned() as done:
        assert done["arrow_system_pool"] is True
        assert pa.default_memory_pool().backend_name == "system"
        a = pa.array(np.arange(1_000_000, dtype=np.int64))  # allocated from the system pool
        assert a.sum().as_py() == 999_999 * 1_000_000 // 2
    assert pa.default_memory_pool().backend_name == before


def test_freed_memory_returned_restores_on_error():
    before = pa.default_memory_pool().backend_name
    try:
        with freed_memory_returned():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert pa.default_memory_pool().backend_name == before


def test_mmap_threshold_reported_on_glibc():
    import platform

    with freed_memory_returned() as done:
        pass
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert done["mmap_threshold"] is True


def test_peak_rss_is_the_process_own_after_spawn():
    """A spawned child reports its own peak, not the parent's (``ru_maxrss`` survives exec)."""
    import multiprocessing as mp

    from arbeidsindikator.io import peak_rss_mb

    big = np.ones(400 * 2**20 // 8)  # the parent holds 400 MB
    big[::4096] = 2.0
    assert peak_rss_mb() > 400
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        child = pool.apply(peak_rss_mb)
    assert child < 300, child
