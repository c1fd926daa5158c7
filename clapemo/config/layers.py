"""The one layering rule (:func:`resolve_config`): an artefact config with its ``base:`` chain, then overlay
files, then ``section.key=value`` overrides; the ``--config`` / ``--overlay`` / ``--set`` options every
subcommand shares."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

from clapemo.config.dicts import deep_merge, from_dict
from clapemo.config.paths import project_root
from clapemo.config.sections import Config
from clapemo.errors import ConfigError

__all__ = ["read_overlay", "parse_overrides", "artefact_config_path", "resolve_config", "add_config_arguments",
           "config_from_args", "load_config"]


def _load_yaml_file(path: Path) -> Any:
    import yaml

    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({str(err).splitlines()[0]}...)") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot be read as a YAML text file ({err})") from None


def _find_base(path: Path, base: Any) -> Path:
    if not isinstance(base, str) or not base.strip():
        raise ConfigError(f"{path}: 'base' = {base!r} must be the file name of another config, e.g. base.yaml")
    candidates = [(path.parent / base).resolve()]
    root = project_root()
    if root is not None and not Path(base).is_absolute():
        candidates.append((root / "configs" / base).resolve())
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ConfigError(f"{path}: 'base' = {base!r} not found (looked in {', '.join(str(c.parent) for c in candidates)}"
                      ")")


def _read_yaml(path: Path, seen: tuple = ()) -> dict:
    if path in seen:
        raise ConfigError(f"{path}: 'base' chain loops back to itself")
    data = _load_yaml_file(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    base = data.pop("base", None)
    if base is not None:
        data = deep_merge(_read_yaml(_find_base(path, base), seen + (path,)), data)
    return data


def read_overlay(path: str | Path) -> dict:
    """An overlay file: a YAML mapping of the keys it changes (no ``base:``, no ``name``), checked against the
    config schema (unknown keys and wrong types are errors naming the file)."""
    path = Path(path).expanduser().resolve()
    data = _load_yaml_file(path)
    if not isinstance(data, dict):
        raise ConfigError(f"overlay {path}: top level must be a mapping of config sections, got "
                          f"{type(data).__name__}")
    for key in ("base", "name"):
        if key in data:
            raise ConfigError(f"overlay {path}: an overlay may not set '{key}' (it is layered over each artefact's "
                              f"own config); remove the '{key}:' line")
    try:
        from_dict(Config, data)
    except ConfigError as err:
        raise ConfigError(f"overlay {path}: {err}") from None
    return data


def _parse_override(item: str) -> dict:
    import yaml

    if not isinstance(item, str) or "=" not in item or not item.split("=", 1)[0].strip():
        raise ConfigError(f"override {item!r} must look like section.key=value")
    key, raw = item.split("=", 1)
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as err:
        raise ConfigError(f"override {item!r}: the value is not valid YAML ({str(err).splitlines()[0]}); quote "
                          "strings that contain [ ] { } : or #") from None
    nested: dict = {}
    node = nested
    parts = key.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return nested


def parse_overrides(items: str | list[str] | tuple = ()) -> dict:
    """``section.key=value`` strings (or one whitespace-separated string) as one nested mapping."""
    if isinstance(items, str):
        items = items.split()
    data: dict = {}
    for item in items:
        data = deep_merge(data, _parse_override(item))
    return data


def artefact_config_path(name: str) -> Path:
    """``configs/<name>.yaml`` (or the artefact's file: ``figure2`` -> ``configs/figure2_prompts.yaml``)."""
    root = project_root()
    if root is None:
        raise ConfigError(f"no project configs/ folder beside this installation to find {name!r}; pass --config "
                          "with the path of an experiment config")
    folder = root / "configs"
    for candidate in (folder / name, folder / f"{name}.yaml", *sorted(folder.glob(f"{name}_*.yaml"))):
        if candidate.is_file():
            return candidate
    raise ConfigError(f"no config named {name!r} in {folder} (have: "
                      f"{', '.join(sorted(p.stem for p in folder.glob('*.yaml')))})")


def resolve_config(config: str | Path | Mapping | None = None, *, overlays: Any = (),
                   overrides: str | list[str] | tuple = ()) -> Config:
    """The one layering rule: artefact config, then overlay files, then ``section.key=value`` overrides.

    Parameters
    ----------
    config : path of a YAML experiment config (its ``base:`` chain resolved), a mapping, or None (defaults)
    overlays : path or sequence of paths of overlay files (:func:`read_overlay`), applied in order
    overrides : ``["train.epochs=3"]`` or ``"train.epochs=3 synth.profile=tiny"``, applied last

    Returns
    -------
    Config, validated.
    """
    if config is None:
        data: dict = {}
    elif isinstance(config, Mapping):
        data = json.loads(json.dumps(dict(config)))
    else:
        data = _read_yaml(Path(config).expanduser().resolve())
    if isinstance(overlays, (str, os.PathLike)):
        overlays = [overlays]
    for file in overlays or ():
        data = deep_merge(data, read_overlay(file))
    data = deep_merge(data, parse_overrides(overrides))
    return from_dict(Config, data)


def add_config_arguments(parser: Any, *, positional: bool = False) -> None:
    """The ``--config`` / ``--overlay`` / ``--set`` options every subcommand shares (see :func:`resolve_config`)."""
    if positional:
        parser.add_argument("config", nargs="?", default=None,
                            help="YAML experiment config or a name in configs/ (default: built-in defaults)")
    else:
        parser.add_argument("--config", default=None,
                            help="YAML experiment config or a name in configs/ (default: built-in defaults)")
    parser.add_argument("--overlay", action="append", default=[], metavar="FILE",
                        help="YAML overlay (only the keys it changes) applied over the config; repeatable")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="config override applied last, e.g. train.epochs=3; repeatable")


def config_from_args(args: Any, *, default: str | None = None) -> Config:
    """The config of parsed :func:`add_config_arguments` options; ``default``: the artefact config name used
    when ``--config`` is not given (e.g. ``"figure2"``)."""
    source = getattr(args, "config", None) or default
    if source is not None and not Path(source).expanduser().is_file() and not str(source).endswith(
            (".yaml", ".yml")):
        source = artefact_config_path(str(source))
    return resolve_config(source, overlays=args.overlay, overrides=args.set)


def load_config(source: str | Path | Mapping | None = None, *, overrides: list[str] | tuple = ()) -> Config:
    """Load and validate an experiment config: :func:`resolve_config` without overlays.

    Parameters
    ----------
    source : path to a YAML file, a mapping, or None for the defaults.
    overrides : ``["train.epochs=3", "synth.profile=tiny"]``, applied last (values parsed as YAML).
    """
    return resolve_config(source, overrides=overrides)
