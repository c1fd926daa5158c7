"""Paths of a config: the project root, the stored form of a config without this machine's absolute paths
(:func:`stored_dict`) and a stored config anchored in this installation (:func:`anchored`)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from clapemo.config.dicts import replace

__all__ = ["project_root", "stored_dict", "anchored"]


def project_root() -> Path | None:
    """The project folder (the one holding ``configs/`` beside the ``clapemo`` package), or None when the package
    is installed without it."""
    root = Path(__file__).resolve().parents[2]  # clapemo/config/paths.py -> the project folder
    return root if (root / "configs" / "base.yaml").is_file() else None


def _relative_path(value: str, root: Path | None) -> str | None:
    """``value`` relative to ``root`` when it lies under it; unchanged when relative; None when absolute elsewhere."""
    path = Path(value)
    if not value or not path.is_absolute():
        return value
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return None


def stored_dict(config: Any, *, root: Path | None = None) -> dict:
    """The config as :func:`to_dict` gives it, without absolute paths of this machine: a path under the project
    root (default :func:`project_root`) becomes relative to it, an absolute path elsewhere is left out (its
    default applies when read back). What runs and results folders store, so that a run copied to another folder
    or machine neither reads nor writes the old location, and equal runs have equal bytes wherever trained."""
    root = project_root() if root is None else root
    out: dict = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            out[f.name] = stored_dict(value, root=root)
        elif f.metadata.get("path") and isinstance(value, str):
            relative = _relative_path(value, root)
            if relative is not None:
                out[f.name] = relative
        elif f.metadata.get("path") and isinstance(value, dict):
            out[f.name] = {k: r for k, v in value.items()
                           if (r := _relative_path(v, root) if isinstance(v, str) else v) is not None}
        else:
            out[f.name] = value
    return json.loads(json.dumps(out))


def anchored(config: Any, base: Path | None = None) -> Any:
    """``config`` with every relative output folder (``*_dir``, ``*_root``) and every relative input path that
    exists under ``base`` (default :func:`project_root`) made absolute under ``base``: a stored config read back
    in this installation (a model name such as ``bert-base-uncased`` is left alone)."""
    base = project_root() if base is None else base
    if base is None:
        return config
    overrides = _absolute_overrides(config, base)
    return replace(config, **overrides) if overrides else config


def _absolute_overrides(section: Any, base: Path) -> dict:
    """Dotted overrides that make every relative ``path=True`` field of ``section`` absolute under ``base``."""
    out: dict = {}
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if dataclasses.is_dataclass(value):
            out.update({f"{f.name}.{k}": v for k, v in _absolute_overrides(value, base).items()})
        elif f.metadata.get("path"):
            if isinstance(value, str) and value and not Path(value).is_absolute():
                candidate = base / value
                # output folders always; inputs (checkpoints, model folders) only when they exist under the root,
                # so a model name such as "google-bert/bert-base-uncased" is left alone
                if candidate.exists() or f.name.endswith(("_dir", "_root")):
                    out[f.name] = str(candidate)
            elif isinstance(value, dict):
                out[f.name] = {k: str(base / v) if isinstance(v, str) and not Path(v).is_absolute() else v
                               for k, v in value.items()}
    return out
