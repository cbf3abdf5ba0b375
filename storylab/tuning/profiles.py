"""Config models as flat parameter dicts and as YAML profiles.

Every tunable lives in a field of a config model (a frozen pydantic model). The same config
is a flat dict for sweeps (:func:`flatten_config`: ``a__b`` names for nested fields, which a
sweep writes into ``param_*`` columns) and a YAML profile for people and the CLI
(:func:`save_profile`)::

    kind: composer-profile        # <profile name>-profile
    meta:                         # optional scalars: where the numbers came from
      objective: 0.12
    config:                       # the model's fields
      beam_width: 8

Both load back to an equal model. Profiles are checked like every storylab file: errors
name the file, the path in it and what was expected, and ``storylab validate`` knows the
kinds registered in :data:`PROFILES`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, cast

import yaml
from pydantic import BaseModel, PlainValidator, create_model

from storylab._data import DataError, Frozen, Problem, UnknownNameError, parse_model, read_document
from storylab._files import write_atomic
from storylab.tuning.grid import SEPARATOR, unflatten

__all__ = [
    "PROFILES",
    "Profile",
    "config_from_flat",
    "flatten_config",
    "load_profile",
    "profile_name",
    "read_profile",
    "save_profile",
]

M = TypeVar("M", bound=BaseModel)

#: Profile name -> "module:ConfigModel" for every profile storylab can load by kind alone.
PROFILES: dict[str, str] = {
    "action-costs": "storylab.tuning.costs:ActionCosts",
    "position-estimation": "storylab.tuning.position:PositionEstimation",
}

_SUFFIX = "-profile"
_Scalar = str | int | float | bool | None


def _scalar(value: object) -> _Scalar:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError(f"a scalar: string, number, bool or null (got {type(value).__name__})")


_MetaValue = Annotated[_Scalar, PlainValidator(_scalar)]


def profile_name(model: type[BaseModel]) -> str:
    """The name a config model's profiles carry: its ``profile_name`` class attribute, else
    its class name in kebab case (``ComposerConfig`` -> ``composer-config``)."""
    name = getattr(model, "profile_name", None)
    if isinstance(name, str) and name:
        return name
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", model.__name__).lower()


def flatten_config(config: BaseModel) -> dict[str, Any]:
    """The config as one flat dict; nested mappings become ``a__b`` names.

    Examples
    --------
    >>> from storylab._data import Frozen
    >>> class Costs(Frozen):
    ...     scale: float = 1.0
    ...     costs: dict[str, float] = {"fight": 2.0}
    >>> flatten_config(Costs())
    {'scale': 1.0, 'costs__fight': 2.0}
    """
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for key, item in value.items():
                if SEPARATOR in key:
                    raise ValueError(f"cannot flatten {prefix}{key!r}: it holds {SEPARATOR!r}")
                walk(f"{prefix}{key}{SEPARATOR}", item)
        else:
            flat[prefix.removesuffix(SEPARATOR)] = value

    walk("", config.model_dump(mode="json"))
    return flat


def config_from_flat(model: type[M], flat: Mapping[str, Any], source: str = "params") -> M:
    """The ``model`` a flat dict describes (the inverse of :func:`flatten_config`)."""
    return parse_model(model, unflatten(flat, source), source)


@dataclass(frozen=True)
class Profile:
    """A loaded profile: its name, the validated config and its (optional) notes."""

    name: str
    config: BaseModel
    meta: dict[str, _Scalar] = field(default_factory=dict)


def _document_model(model: type[BaseModel], name: str) -> type[Frozen]:
    return create_model(  # type: ignore[call-overload, no-any-return]
        f"{model.__name__}Profile",
        __base__=Frozen,
        kind=(Literal[f"{name}{_SUFFIX}"], ...),
        meta=(dict[str, _MetaValue], {}),
        config=(model, ...),
    )


def _model_for(kind: str, source: str) -> type[BaseModel]:
    name = kind.removesuffix(_SUFFIX)
    if not kind.endswith(_SUFFIX) or name not in PROFILES:
        known = [f"{n}{_SUFFIX}" for n in PROFILES]
        raise DataError([Problem(source, "kind", str(UnknownNameError("profile", kind, known)))])
    module, attr = PROFILES[name].split(":")
    model: type[BaseModel] = getattr(import_module(module), attr)
    return model


def read_profile(path: str | Path, model: type[BaseModel] | None = None) -> Profile:
    """Load a profile; the config model comes from ``model`` or from the ``kind`` field.

    Raises
    ------
    DataError
        Unreadable file, wrong or unknown kind, unknown top-level field, bad meta or config;
        every problem names the file and its path.
    """
    document = read_document(path)
    if not isinstance(document, dict):
        raise DataError([Problem(str(path), "", "a mapping with kind, config and optional meta")])
    if model is None:
        kind = document.get("kind")
        if not isinstance(kind, str):
            raise DataError([Problem(str(path), "kind", f"'<name>{_SUFFIX}' (got {kind!r})")])
        model = _model_for(kind, str(path))
    name = profile_name(model)
    parsed = parse_model(_document_model(model, name), document, path)
    return Profile(name, parsed.config, dict(parsed.meta))  # type: ignore[attr-defined]


def load_profile(model: type[M], path: str | Path) -> M:
    """The ``model`` config stored in the profile at ``path``."""
    return cast(M, read_profile(path, model).config)


def save_profile(
    config: BaseModel, path: str | Path, *, meta: Mapping[str, _Scalar] | None = None
) -> Path:
    """Write ``config`` as a YAML profile (atomically); return the path.

    ``meta`` holds scalars saying where the numbers came from (objective, seed, data);
    loading ignores it, :func:`read_profile` returns it.
    """
    name = profile_name(type(config))
    document = {"kind": f"{name}{_SUFFIX}", "meta": dict(meta or {}), "config": config}
    checked = parse_model(_document_model(type(config), name), document, path)
    dumped = checked.model_dump(mode="json", exclude={"meta"} if not meta else None)
    return write_atomic(path, yaml.safe_dump(dumped, sort_keys=False, allow_unicode=True))
