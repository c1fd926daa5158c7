"""The config a notebook runs: :func:`clapemo.config.resolve_config` with the notebook's parameters.

One layering rule for the command line, the notebooks and the Makefile (see :mod:`clapemo.config`):

1. the artefact config (``configs/table3_ear.yaml``, its ``base:`` chain resolved); with ``profile="tiny"`` the
   keys ``configs/tiny.yaml`` changes relative to ``configs/base.yaml`` are layered right on it (tiny.yaml is a
   full config that the tests load on its own, so its differences are taken, not the file as an overlay),
2. the overlay files (``overlays``), in order,
3. the overrides: first those the notebook parameters stand for (``profile`` -> ``synth.profile``, ``seed`` ->
   ``synth.seed``, ``device`` -> ``encoders.device`` and ``train.device``, ``output_dir`` ->
   ``evaluate.results_dir``), then ``overrides``.

So ``clapemo experiment figure2 --overlay my.yaml`` and ``make reproduce SET=my.yaml`` give the same config hash.
Relative paths (the config, the overlays, the path fields of the config) are resolved against the project root
(:func:`clapemo.config.project_root`), never the working directory, so a notebook behaves the same whether
papermill runs it from the project root or JupyterLab from anywhere.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from clapemo.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from clapemo.config import Config

__all__ = ["root", "project_path", "notebook_config", "emotion_corpora", "notebook_configs", "needs_synth"]


def root() -> Path:
    """The project root (:func:`clapemo.config.project_root`); a ConfigError when the package has none."""
    from clapemo.config import project_root

    found = project_root()
    if found is None:
        raise ConfigError("the notebooks need the clapemo project folder (configs/ beside the clapemo package); "
                          "this installation has none: run them from a checkout (pip install -e .)")
    return found


def project_path(path: str | os.PathLike) -> Path:
    """``path`` made absolute: as it is when absolute (``~`` expanded), else under the project root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else root() / path


def _paths(items: str | os.PathLike | Sequence[str | os.PathLike] | None) -> list[Path]:
    if not items:
        return []
    if isinstance(items, (str, os.PathLike)):
        items = str(items).split()  # one string of whitespace-separated files (make SET=...)
    return [project_path(p) for p in items]


def _items(items: str | Sequence[str] | None) -> list[str]:
    if not items:
        return []
    return items.split() if isinstance(items, str) else [str(i) for i in items]


def _changed(child: Any, base: Any, prefix: str = "") -> list[str]:
    """``section.key=value`` overrides for the leaves of ``child`` that differ from ``base`` (plain dicts)."""
    out = []
    for key, value in child.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(base.get(key), dict) and value:
            out += _changed(value, base[key], dotted + ".")
        elif base.get(key, object()) != value:
            out.append(f"{dotted}={json.dumps(value)}")  # JSON is YAML: parse_overrides reads it back
    return out


def _tiny_overrides() -> list[str]:
    """What ``configs/tiny.yaml`` changes relative to ``configs/base.yaml`` (its ``name`` excluded)."""
    from clapemo.config import resolve_config, to_dict

    folder = root() / "configs"
    tiny, base = to_dict(resolve_config(folder / "tiny.yaml")), to_dict(resolve_config(folder / "base.yaml"))
    tiny.pop("name", None)
    return _changed(tiny, base)


def _artefact_path(config: str | os.PathLike) -> Path:
    from clapemo.config import artefact_config_path

    text = str(config)
    if not text.endswith((".yaml", ".yml")) and os.sep not in text and "/" not in text:
        return artefact_config_path(text)  # an artefact name: "table3", "figure2"
    return project_path(config)


def notebook_config(config: str | os.PathLike, *, profile: str | None = None, seed: int | None = None,
                    device: str | None = None, output_dir: str | os.PathLike | None = None,
                    overlays: str | os.PathLike | Sequence[str | os.PathLike] | None = (),
                    overrides: str | Sequence[str] | None = (), absolute_paths: bool = True) -> "Config":
    """The experiment config a notebook runs (module docstring: the layering).

    Parameters
    ----------
    config : an experiment config file (relative to the project root, or absolute) or an artefact name
        (``"figure2"`` -> ``configs/figure2_prompts.yaml``).
    profile : synthetic benchmark size (``tiny``, ``default``, ``large``); ``tiny`` also layers tiny.yaml's keys.
    seed : seed of the synthetic benchmark (``synth.seed``).
    device : ``auto``, ``cpu`` or ``cuda`` for the encoders and training.
    output_dir : where experiment results go (``evaluate.results_dir``).
    overlays : overlay files (only the keys they change), a list or one whitespace-separated string.
    overrides : ``section.key=value`` items, a list or one whitespace-separated string (``make SET=...``).
    absolute_paths : make every relative path field absolute under the project root (default).

    Returns
    -------
    Config
    """
    from clapemo.book.progress import install
    from clapemo.config import anchored, replace, resolve_config, to_dict

    install()  # in a notebook kernel: progress bars to the terminal, not the page (idempotent)
    path = _artefact_path(config)
    source: Any = path
    if profile == "tiny" and path.name != "tiny.yaml" and (root() / "configs" / "tiny.yaml").is_file():
        source = to_dict(resolve_config(path, overrides=_tiny_overrides()))
    items = []
    if profile is not None:
        items.append(f"synth.profile={profile}")
    if seed is not None:
        items.append(f"synth.seed={int(seed)}")
    if device is not None:
        items += [f"encoders.device={device}", f"train.device={device}"]
    if output_dir is not None:
        items.append(f"evaluate.results_dir={output_dir}")
    cfg = resolve_config(source, overlays=_paths(overlays), overrides=items + _items(overrides))
    return anchored(cfg, root()) if absolute_paths else cfg


def emotion_corpora(config: "Config") -> list[str]:
    """The emotion corpora this config provides (``clapemo.experiments.provided_emotion_corpora``)."""
    from clapemo.experiments import provided_emotion_corpora

    return provided_emotion_corpora(config)


def notebook_configs(notebooks: Sequence[str | os.PathLike]) -> list[Path]:
    """The experiment configs the notebooks' ``parameters`` cells name (string literals ending in ``.yaml``
    assigned to a name ending in ``config`` or ``config_path``), absolute, in first-seen order."""
    import ast

    import nbformat

    out: list[Path] = []
    for notebook in notebooks:
        nb = nbformat.read(str(project_path(notebook)), as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code" or "parameters" not in cell.metadata.get("tags", []):
                continue
            for stmt in ast.parse(cell.source).body:
                if (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant)
                        and isinstance(stmt.value.value, str) and stmt.value.value.endswith((".yaml", ".yml"))
                        and any(isinstance(t, ast.Name) and t.id.endswith(("config", "config_path"))
                                for t in stmt.targets)):
                    path = project_path(stmt.value.value)
                    if path not in out:
                        out.append(path)
    return out


def needs_synth(configs: Sequence[str | os.PathLike], *, profile: str | None = None,
                overlays: Any = (), overrides: str | Sequence[str] | None = ()) -> bool:
    """Whether any of these experiment configs, with the notebooks' layering, reads the synthetic benchmark
    (``data.source = synth``), i.e. whether ``make reproduce`` must generate it."""
    return any(notebook_config(c, profile=profile, overlays=overlays, overrides=overrides,
                               absolute_paths=False).data.source == "synth" for c in configs)
