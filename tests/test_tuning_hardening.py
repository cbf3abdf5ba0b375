"""Sweeps survive what their runs do: odd results, dying workers, a killed parent."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from storylab.tuning import progress_bar, show_progress, sweep

ROOT = Path(__file__).resolve().parents[1]


class Stubborn(float):
    """A float that refuses to be pickled (like a result holding a lock or a handle)."""

    def __reduce__(self):
        raise TypeError("cannot pickle a Stubborn")


def odd_result(x: int) -> dict:
    return {"y": Stubborn(x) if x == 2 else float(x), "label": "ok"}


def dies(x: int) -> dict:
    if x == 2:
        os._exit(3)  # the worker process dies mid-run
    return {"y": float(x)}


def test_a_result_subclass_is_stored_as_a_plain_value_in_a_process_pool():
    frame = sweep(odd_result, {"x": [1, 2, 3]}, workers=2, seed=0, progress=False)
    assert list(frame.status) == ["ok", "ok", "ok"]
    assert list(frame.y) == [1.0, 2.0, 3.0] and type(frame.y.iloc[1]) is not Stubborn


def test_a_dying_worker_fails_its_runs_not_the_sweep():
    frame = sweep(dies, {"x": [1, 2, 3]}, workers=1, batch_size=1, seed=0, progress=False)
    assert len(frame) == 3
    assert frame.status.iloc[1] == "failed" and "BrokenProcessPool" in frame.error.iloc[1]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_killing_the_sweep_leaves_no_pool_workers(tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    script = textwrap.dedent(
        f"""
        import os, time
        from storylab.tuning import sweep

        def slow(x):
            open(os.path.join({str(pids)!r}, str(os.getpid())), "w").close()
            time.sleep(120)
            return {{"y": x}}

        if __name__ == "__main__":
            sweep(slow, {{"x": [1, 2, 3, 4]}}, workers=2, batch_size=1, progress=False)
        """
    )
    (tmp_path / "run.py").write_text(script)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this tree's storylab, not an installed one
    parent = subprocess.Popen([sys.executable, str(tmp_path / "run.py")], cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while len(list(pids.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = [int(p.name) for p in pids.iterdir()]
    assert len(workers) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)


def test_progress_follows_the_argument_then_the_environment(monkeypatch):
    monkeypatch.setenv("STORYLAB_PROGRESS", "0")
    assert show_progress(None) is False and show_progress(True) is True
    assert progress_bar(total=3).disable
    monkeypatch.setenv("STORYLAB_PROGRESS", "1")
    assert show_progress(None) is True and show_progress(False) is False
    monkeypatch.delenv("STORYLAB_PROGRESS")
    assert show_progress(None) is True


def test_a_sweep_shows_a_bar_unless_turned_off(monkeypatch, capsys):
    monkeypatch.setenv("STORYLAB_PROGRESS", "1")
    sweep(odd_result, {"x": [1, 3]}, executor=ThreadPoolExecutor(1), seed=0)
    assert "odd_result" in capsys.readouterr().err
    monkeypatch.setenv("STORYLAB_PROGRESS", "0")
    sweep(odd_result, {"x": [1, 3]}, executor=ThreadPoolExecutor(1), seed=0)
    assert capsys.readouterr().err == ""
