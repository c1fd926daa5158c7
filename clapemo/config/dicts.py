"""Configs as plain nested dicts and back: :func:`from_dict` (unknown keys, wrong types and values outside a
field's ``min`` / ``max`` / ``choices`` are :class:`~clapemo.errors.ConfigError`), :func:`to_dict`, the run id
(:func:`config_hash`) and :func:`replace` with dotted keys."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import types
import typing
from typing import Any, Mapping

from clapemo import numerics
from clapemo.errors import ConfigError

__all__ = ["check_value", "type_ok", "from_dict", "to_dict", "config_hash", "deep_merge", "replace"]


def check_value(key: str, f: dataclasses.Field, value: Any) -> None:
    """Check one value against its field's metadata (``choices``, ``min`` / ``max`` inclusive, finite numbers);
    a :class:`~clapemo.errors.ConfigError` names the dotted ``key``, the value and the rule."""
    meta = f.metadata
    if meta.get("choices") is not None and value not in meta["choices"]:
        raise ConfigError(f"config key '{key}' = {value!r} is not one of {list(meta['choices'])}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"config key '{key}' = {value!r} must be a finite number")
    if isinstance(value, (list, tuple)) and any(isinstance(v, float) and not math.isfinite(v) for v in value):
        raise ConfigError(f"config key '{key}' = {value!r} must hold finite numbers only")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if meta.get("min") is not None and value < meta["min"]:
            raise ConfigError(f"config key '{key}' = {value!r} is below its minimum {meta['min']}")
        if meta.get("max") is not None and value > meta["max"]:
            raise ConfigError(f"config key '{key}' = {value!r} is above its maximum {meta['max']}")


def type_ok(value: Any, annotation: Any) -> bool:
    """Whether ``value`` fits a field's type annotation (an int is a float; a bool is neither; unions allowed)."""
    origin = typing.get_origin(annotation) or annotation
    if annotation is float or origin is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int or origin is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (types.UnionType, typing.Union):
        return any(type_ok(value, a) for a in typing.get_args(annotation))
    if isinstance(origin, type):
        return isinstance(value, origin)
    return True


def from_dict(cls: type, data: Mapping[str, Any] | None, *, where: str = "") -> Any:
    """Build the dataclass ``cls`` from a nested mapping, rejecting unknown keys and wrong types.

    Parameters
    ----------
    cls : dataclass type
    data : mapping or None
        ``None`` gives the defaults.
    where : str
        Dotted prefix used in error messages.
    """
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise ConfigError(f"config key '{where or 'top level'}' must be a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        key = f"{where}.{unknown[0]}" if where else unknown[0]
        raise ConfigError(f"unknown config key '{key}' (known: {', '.join(sorted(fields))})")
    kwargs = {}
    for name, value in data.items():
        key = f"{where}.{name}" if where else name
        annotation = hints[name]
        if dataclasses.is_dataclass(annotation):
            if not isinstance(value, Mapping):
                raise ConfigError(f"config key '{key}' must be a mapping of its keys (a section), got "
                                  f"{value!r} (to keep the defaults, leave the section out)")
            kwargs[name] = from_dict(annotation, value, where=key)
            continue
        if isinstance(value, int) and not isinstance(value, bool) and annotation is float:
            value = float(value)
        if not type_ok(value, annotation):
            expected = getattr(annotation, "__name__", str(annotation))
            raise ConfigError(f"config key '{key}' = {value!r} should be of type {expected}")
        check_value(key, fields[name], value)
        kwargs[name] = value
    return cls(**kwargs)


def to_dict(config: Any, *, include_paths: bool = True, hashed_only: bool = False) -> dict:
    """The config as plain nested dicts (JSON/YAML serialisable).

    ``include_paths=False`` leaves out the path fields; ``hashed_only=True`` keeps only what :func:`config_hash`
    sees (no path fields, no ``hashed=False`` settings, no ``hash_default=False`` settings at their default).
    """
    out = {}
    for f in dataclasses.fields(config):
        if not include_paths and f.metadata.get("path"):
            continue
        if hashed_only and not f.metadata.get("hashed", True):
            continue
        value = getattr(config, f.name)
        if hashed_only and not f.metadata.get("hash_default", True) and value == f.metadata.get("default"):
            continue  # an option added later, at its default: the id of what ran before it existed
        out[f.name] = (to_dict(value, include_paths=include_paths, hashed_only=hashed_only)
                       if dataclasses.is_dataclass(value) else value)
    return json.loads(json.dumps(out))


def config_hash(config: Any, *, length: int = 12) -> str:
    """Stable hex digest of a config (any section) without its path and unhashed fields: a run id."""
    # a fast-mode result is this machine's only: it never shares an id with a portable one
    payload = {**to_dict(config, include_paths=False, hashed_only=True), **numerics.identity_extra()}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:length]


def deep_merge(base: dict, override: Mapping) -> dict:
    """``base`` with ``override`` merged in, key by key at every level of nesting (``override`` wins)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def replace(config: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` that accepts dotted keys: ``replace(cfg, **{"train.epochs": 3})``."""
    nested: dict = {}
    for key, value in changes.items():
        node = nested
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return from_dict(type(config), deep_merge(to_dict(config), nested))
