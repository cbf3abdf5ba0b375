"""Run reference classical planners on PDDL files: Fast Downward and pyperplan.

Both run in a subprocess inside a scratch directory (they write their plan files next to
their inputs or in the working directory), and the wall time covers the whole run:
interpreter start, parsing, translation or grounding, and search. Each returns a
:class:`ReferenceRun` with the plan, its cost, the number of expanded states and why it
stopped.

Fast Downward comes from the ``up-fast-downward`` wheel, which ships the ``downward``
search binary and the ``fast-downward.py`` driver; it is located without importing the
package (whose ``__init__`` needs ``unified_planning``). pyperplan supports unit costs
only; :func:`storylab.storyteller.pddl.export_phase` writes a unit-cost compilation for it.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Literal

from storylab._data import Frozen

__all__ = [
    "ReferenceRun",
    "fast_downward_driver",
    "run_fast_downward",
    "run_pyperplan",
]

#: Fast Downward's optimal search here: A* with the iPDB heuristic (admissible, so optimal; on
#: these tasks it beats LM-cut, whose per-state cost dominates, by 10-100x).
FAST_DOWNWARD_SEARCH = "astar(ipdb())"

_FD_COST = re.compile(r"Plan cost: (\d+)")
_FD_EXPANDED = re.compile(r"Expanded (\d+) state\(s\)\.")
_FD_UNSOLVABLE = (11, 12)  # translate / search proved the task unsolvable
_PP_EXPANDED = re.compile(r"(\d+) Nodes expanded")


class ReferenceRun(Frozen):
    """One run of a reference planner on a domain and problem file."""

    planner: str
    status: Literal["solved", "unsolvable", "timeout", "error"]
    plan: tuple[str, ...] = ()
    cost: int | None = None
    expanded: int | None = None
    wall_s: float
    detail: str = ""

    @property
    def solved(self) -> bool:
        """Whether the planner returned a plan."""
        return self.status == "solved"


def fast_downward_driver() -> Path | None:
    """Path of the ``fast-downward.py`` driver shipped by ``up-fast-downward``, if installed."""
    spec = importlib.util.find_spec("up_fast_downward")
    if spec is None or not spec.submodule_search_locations:
        return None
    driver = Path(next(iter(spec.submodule_search_locations))) / "downward" / "fast-downward.py"
    return driver if driver.is_file() else None


def _scratch(domain: Path, problem: Path, into: Path) -> tuple[Path, Path]:
    d, p = into / "domain.pddl", into / "problem.pddl"
    shutil.copyfile(domain, d)
    shutil.copyfile(problem, p)
    return d, p


def _run(cmd: list[str], cwd: Path, timeout: float | None) -> tuple[int | None, str, float]:
    start = time.perf_counter()
    try:
        done = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return None, "", time.perf_counter() - start
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - start


def _last_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run_fast_downward(
    domain: str | Path,
    problem: str | Path,
    *,
    search: str = FAST_DOWNWARD_SEARCH,
    timeout: float | None = None,
) -> ReferenceRun:
    """Solve ``domain`` + ``problem`` with Fast Downward (translate, then ``--search``).

    The default search, ``astar(ipdb())``, is optimal for non-negative action costs.

    Raises
    ------
    FileNotFoundError
        When ``up-fast-downward`` is not installed.
    """
    driver = fast_downward_driver()
    if driver is None:
        raise FileNotFoundError("Fast Downward not found: pip install up-fast-downward")
    with tempfile.TemporaryDirectory(prefix="storylab-fd-") as tmp:
        d, p = _scratch(Path(domain), Path(problem), Path(tmp))
        cmd = [sys.executable, str(driver), str(d), str(p), "--search", search]
        code, out, wall = _run(cmd, Path(tmp), timeout)
        if code is None:
            return ReferenceRun(planner="fast-downward", status="timeout", wall_s=wall)
        expanded = _FD_EXPANDED.findall(out)
        common = {"planner": "fast-downward", "wall_s": wall}
        if expanded:
            common["expanded"] = int(expanded[-1])
        if code in _FD_UNSOLVABLE:
            return ReferenceRun(status="unsolvable", **common)
        plan_file = Path(tmp) / "sas_plan"
        cost = _FD_COST.search(out)
        if code != 0 or cost is None or not plan_file.is_file():
            return ReferenceRun(status="error", detail=f"exit {code}: {_last_line(out)}", **common)
        steps = tuple(
            line.strip()[1:-1]
            for line in plan_file.read_text().splitlines()
            if line.startswith("(")
        )
        return ReferenceRun(status="solved", plan=steps, cost=int(cost.group(1)), **common)


def run_pyperplan(
    domain: str | Path,
    problem: str | Path,
    *,
    heuristic: str = "hmax",
    timeout: float | None = None,
) -> ReferenceRun:
    """Solve ``domain`` + ``problem`` with pyperplan's A* search.

    pyperplan counts every action as cost 1, so ``cost`` is the plan length; with an
    admissible ``heuristic`` (``hmax``, ``lmcut`` or ``blind``) the plan is shortest. Give it
    the unit-cost compilation of a problem with action costs.

    Raises
    ------
    FileNotFoundError
        When pyperplan is not installed.
    """
    if importlib.util.find_spec("pyperplan") is None:
        raise FileNotFoundError("pyperplan not found: pip install pyperplan")
    with tempfile.TemporaryDirectory(prefix="storylab-pyperplan-") as tmp:
        d, p = _scratch(Path(domain), Path(problem), Path(tmp))
        cmd = [sys.executable, "-m", "pyperplan", "-s", "astar", "-H", heuristic, str(d), str(p)]
        code, out, wall = _run(cmd, Path(tmp), timeout)
        if code is None:
            return ReferenceRun(planner="pyperplan", status="timeout", wall_s=wall)
        expanded = _PP_EXPANDED.findall(out)
        common = {"planner": "pyperplan", "wall_s": wall}
        if expanded:
            common["expanded"] = int(expanded[-1])
        solution = Path(f"{p}.soln")
        if code != 0:
            return ReferenceRun(status="error", detail=f"exit {code}: {_last_line(out)}", **common)
        if not solution.is_file():
            return ReferenceRun(status="unsolvable", **common)
        steps = tuple(
            line.strip()[1:-1] for line in solution.read_text().splitlines() if line.strip()
        )
        return ReferenceRun(status="solved", plan=steps, cost=len(steps), **common)
