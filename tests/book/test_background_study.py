"""book.build.BackgroundStudy: the coverage study runs beside the preparation, never in the way."""

from __future__ import annotations

from types import SimpleNamespace

from arbeidsindikator.analyses import validation
from arbeidsindikator.book.build import BackgroundStudy


def test_nothing_starts_when_cached_or_not_wanted(tmp_path):
    cfg = SimpleNamespace(cache_dir=tmp_path)
    assert BackgroundStudy(cfg, only=["03_regression"]).proc is None
    folder = validation.study_folder(tmp_path)
    folder.mkdir(parents=True)
    for n in ("coverage", "recovery", "seconds"):
        (folder / f"{n}.parquet").write_bytes(b"")
    assert validation.study_is_cached(tmp_path)
    s = BackgroundStudy(cfg)
    assert s.proc is None
    s.wait()  # no-op


def test_a_failing_child_is_reported_not_raised(tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")  # the cache folder cannot be created under a file: the child fails
    s = BackgroundStudy(SimpleNamespace(cache_dir=blocker / "cache"))
    assert s.proc is not None
    s.wait()
    out = capsys.readouterr().out
    assert "background coverage study ended with exit" in out and "runs it itself" in out
    assert s.proc is None


def test_stop_ends_a_running_child(tmp_path):
    s = BackgroundStudy(SimpleNamespace(cache_dir=tmp_path / "cache"))
    proc = s.proc
    assert proc is not None and proc.poll() is None
    s.stop()
    assert proc.poll() is not None and s.proc is None
    assert not validation.study_is_cached(tmp_path / "cache")
