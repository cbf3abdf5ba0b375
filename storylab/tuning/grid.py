"""Parameter grids: expand them into runs, check them against the function, seed each run.

A sweep's runs are plain JSON data (``{"name": value}`` dicts), so they can be hashed for the
cache, written to ``param_*`` columns and read back from YAML. Everything here runs before
the first run starts: a bad grid fails with a :class:`~storylab._data.DataError` naming
every unknown parameter and every value of the wrong type.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import inspect
import itertools
import json
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
from pydantic import BaseModel, TypeAdapter, ValidationError

from storylab._data import DataError, Problem, parse_model

__all__ = [
    "SEPARATOR",
    "Grid",
    "RunPlan",
    "canonical_json",
    "child_seeds",
    "expand_grid",
    "function_identity",
    "plan_runs",
    "run_key",
    "unflatten",
]

#: Joins the names of nested fields in a flat parameter name (``costs__fight``).
SEPARATOR = "__"
#: A grid: a dict of value lists (every combination is a run) or an explicit list of runs.
Grid = Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]]

#: The label grid problems are reported under.
GRID = "grid"


def _plain(value: Any, where: str, problems: list[Problem]) -> Any:
    """``value`` as plain JSON data (enums by value, numpy scalars as Python numbers)."""
    if isinstance(value, Enum):
        return _plain(value.value, where, problems)
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v, f"{where}[{i}]", problems) for i, v in enumerate(value)]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: _plain(v, f"{where}.{k}", problems) for k, v in value.items()}
    problems.append(
        Problem(GRID, where, f"a JSON value: str, number, bool, None, list or dict (got {value!r})")
    )
    return None


def _values(name: str, values: Any, problems: list[Problem]) -> list[Any]:
    if isinstance(values, str | bytes | Mapping) or not isinstance(
        values, Sequence | np.ndarray | range
    ):
        problems.append(Problem(GRID, name, f"a list of values to try (got {values!r})"))
        return []
    if len(values) == 0:
        problems.append(Problem(GRID, name, "at least one value (the list is empty)"))
    return [_plain(v, f"{name}[{i}]", problems) for i, v in enumerate(values)]


def expand_grid(grid: Grid) -> list[dict[str, Any]]:
    """The runs of a grid, in a deterministic order.

    A dict of lists expands to every combination, names sorted, the first name varying
    slowest; a list of dicts is taken as the runs, in order. Values become plain JSON data.

    Examples
    --------
    >>> expand_grid({"b": [1, 2], "a": ["x"]})
    [{'a': 'x', 'b': 1}, {'a': 'x', 'b': 2}]
    """
    problems: list[Problem] = []
    if isinstance(grid, Mapping):
        bad = [repr(k) for k in grid if not isinstance(k, str)]
        if bad:
            raise DataError([Problem(GRID, k, "a parameter name (a string)") for k in bad])
        names = sorted(grid)
        columns = [_values(name, grid[name], problems) for name in names]
        runs = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*columns)]
    elif isinstance(grid, Sequence) and not isinstance(grid, str | bytes):
        runs = []
        for i, run in enumerate(grid):
            if not isinstance(run, Mapping) or not all(isinstance(k, str) for k in run):
                problems.append(Problem(GRID, f"[{i}]", f"a dict of parameters (got {run!r})"))
                continue
            runs.append({k: _plain(v, f"[{i}].{k}", problems) for k, v in run.items()})
    else:
        raise DataError([Problem(GRID, "", "a dict of value lists or a list of parameter dicts")])
    if not problems and not runs:
        problems.append(Problem(GRID, "", "at least one run (the grid is empty)"))
    if problems:
        raise DataError(problems)
    return runs


def canonical_json(value: Any) -> str:
    """One spelling of plain JSON data: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def run_key(fn_id: str, params: Mapping[str, Any], seed: int) -> str:
    """A stable hash naming one run: the function, its parameters and its seed."""
    text = canonical_json({"fn": fn_id, "params": dict(params), "seed": seed})
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def function_identity(fn: Callable[..., Any]) -> str:
    """A name for ``fn`` that stays the same across processes and sessions.

    Module and qualified name; a :func:`functools.partial` adds its bound arguments.
    """
    if isinstance(fn, functools.partial):
        problems: list[Problem] = []
        bound = {
            "args": _plain(fn.args, "args", problems),
            "kw": _plain(fn.keywords, "kw", problems),
        }
        if problems:
            raise ValueError(f"cannot name {fn!r} stably: {problems[0]}; pass fn_id=")
        return f"{function_identity(fn.func)}{canonical_json(bound)}"
    target = fn if inspect.isfunction(fn) or inspect.ismethod(fn) else type(fn)
    module = getattr(target, "__module__", None) or "?"
    return f"{module}.{getattr(target, '__qualname__', repr(target))}"


def _root_sequence(seed: int | np.random.Generator | None) -> np.random.SeedSequence:
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, a Generator or None (got {seed!r})")
    return np.random.SeedSequence(int(seed))


def child_seeds(seed: int | np.random.Generator | None, n: int) -> list[int]:
    """``n`` independent int seeds spawned from ``seed``; the i-th depends only on ``seed``
    and i, so a longer sweep with the same seed starts with the same seeds.

    Examples
    --------
    >>> child_seeds(7, 3) == child_seeds(7, 5)[:3]
    True
    """
    children = _root_sequence(seed).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


def unflatten(flat: Mapping[str, Any], source: str = GRID) -> dict[str, Any]:
    """Nest ``__``-joined names: ``{"costs__fight": 2}`` becomes ``{"costs": {"fight": 2}}``.

    The separator is the one ``storylab.archives`` config files use, because names inside a
    config (fact keys such as ``protagonist.has_ally``) may hold dots. Problems are
    reported under ``source``; the input is not modified.
    """
    out: dict[str, Any] = {}
    for name, value in flat.items():
        *parents, leaf = name.split(SEPARATOR)
        node = out
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                expected = f"a name that does not nest inside {part!r}, set to a plain value"
                raise DataError([Problem(source, name, expected)])
            node = child
        if leaf in node:
            raise DataError([Problem(source, name, "one value (another name sets inside it)")])
        node[leaf] = copy.deepcopy(value)
    return out


@dataclass(frozen=True)
class RunPlan:
    """Validated runs, ready to send to workers.

    Attributes
    ----------
    params
        Each run's parameters as plain JSON data (what the ``param_*`` columns show).
    calls
        What ``fn`` receives per run: keyword arguments, or a config model instance.
    as_model
        Whether ``fn`` takes the config model as its one positional argument.
    wants_seed
        Whether ``fn`` takes a ``seed`` keyword.
    """

    params: list[dict[str, Any]]
    calls: list[Any]
    as_model: bool
    wants_seed: bool


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    target = fn.func if isinstance(fn, functools.partial) else fn
    if not (inspect.isfunction(target) or inspect.ismethod(target)):
        target = type(target).__call__
    try:
        return typing.get_type_hints(target)
    except (NameError, TypeError):
        return {}


def _check_kwargs(
    fn: Callable[..., Any], runs: list[dict[str, Any]], labels: list[str]
) -> list[dict[str, Any]]:
    sig = inspect.signature(fn)
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    named = {n: p for n, p in sig.parameters.items() if p.kind in kinds and n != "seed"}
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
    required = [n for n, p in named.items() if p.default is inspect.Parameter.empty]
    hints = _hints(fn)
    adapters = {n: TypeAdapter(hints[n]) for n in named if n in hints}
    known = ", ".join(sorted(named)) or "none"
    problems: dict[tuple[str, str], Problem] = {}

    def problem(path: str, expected: str) -> None:
        problems.setdefault((path, expected), Problem(GRID, path, expected))

    calls = []
    for run, label in zip(runs, labels, strict=True):
        call = {}
        for name, value in run.items():
            path = f"{label}{name}"
            if name == "seed":
                problem(path, "a name other than 'seed' (sweep sets each run's seed)")
            elif name not in named and not open_ended:
                problem(path, f"a parameter of {function_identity(fn)} (known: {known})")
            elif name in adapters:
                try:
                    call[name] = adapters[name].validate_json(canonical_json(value), strict=True)
                except ValidationError:
                    problem(path, f"a value of type {_type_name(hints[name])} (got {value!r})")
            else:
                call[name] = value
        for name in required:
            if name not in run:
                problem(f"{label}{name}", f"a value ({function_identity(fn)} requires it)")
        calls.append(call)
    if problems:
        raise DataError(problems.values())
    return calls


def _type_name(annotation: Any) -> str:
    return annotation.__name__ if isinstance(annotation, type) else str(annotation)


def _check_model(
    model: type[BaseModel], runs: list[dict[str, Any]], labels: list[str]
) -> list[BaseModel]:
    problems: dict[str, Problem] = {}
    calls = []
    for run, label in zip(runs, labels, strict=True):
        try:
            calls.append(parse_model(model, unflatten(run), GRID))
        except DataError as exc:
            for p in exc.problems:
                path = f"{label}{p.path}"
                problems.setdefault(f"{path}: {p.expected}", Problem(GRID, path, p.expected))
    if problems:
        raise DataError(problems.values())
    return calls


def plan_runs(fn: Callable[..., Any], grid: Grid, model: type[BaseModel] | None = None) -> RunPlan:
    """Expand ``grid`` and check every run against ``fn`` (or ``model``), before any run.

    Without ``model``, each run's names must be parameters of ``fn`` (unless it takes
    ``**kwargs``), every required parameter must be set, and values must match the
    annotations strictly (no ``"3"`` for an ``int``). With ``model``, each run (``a__b`` names
    reach into nested fields) must validate as a ``model``, which ``fn`` then receives as its
    one positional argument. ``fn`` gets ``seed=`` when it has a ``seed`` parameter.

    Raises
    ------
    DataError
        Listing every unknown name, missing parameter and wrong-typed value.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable (got {fn!r})")
    runs = expand_grid(grid)
    labels = ["" if isinstance(grid, Mapping) else f"[{i}]." for i in range(len(runs))]
    wants_seed = "seed" in inspect.signature(fn).parameters
    if model is None:
        return RunPlan(runs, list(_check_kwargs(fn, runs, labels)), False, wants_seed)
    for label, run in zip(labels, runs, strict=True):
        if "seed" in run:
            raise DataError(
                [Problem(GRID, f"{label}seed", "a name other than 'seed' (sweep sets it)")]
            )
    return RunPlan(runs, list(_check_model(model, runs, labels)), True, wants_seed)
