"""Experiment configuration: frozen nested dataclasses loaded from YAML.

One :class:`Config` describes one experiment end to end. Every stage takes its own section
(``config.features``, ``config.prompts`` ...), so a function such as ``features.extract`` can be called with
``config=None`` (defaults) or with the section of a loaded experiment.

Rules
-----
* Unknown keys are errors (:class:`~clapemo.errors.ConfigError` naming the dotted key).
* Values are type-checked and range-checked from field metadata (``min``, ``max``, ``choices``).
* Numbers must be finite (NaN and infinity are errors); cross-field rules (``f0_min_hz < f0_max_hz``) live
  with their section.
* A YAML file may start with ``base: other.yaml``, looked up beside the file, then in the project's
  ``configs/`` folder; its keys override the base's, so an experiment config is a small diff of
  ``configs/base.yaml``.
* :func:`config_hash` is a stable hash of the resolved config *without* the fields marked ``path=True``
  (output folders, caches, corpus roots) or ``hashed=False`` (worker counts and other settings that do not change
  a result), so moving a data folder or using more cores does not change a run id.

Layering (one rule for the CLI, the notebooks and the Makefile)
----------------------------------------------------------------
:func:`resolve_config` builds every experiment's config the same way:

1. the **artefact config** (e.g. ``configs/figure2_prompts.yaml``, with its ``base:`` chain),
2. each **overlay file** (a user's YAML anywhere on disk holding only the keys it changes; no ``base:``, no
   ``name``), in order,
3. the ``--set section.key=value`` **overrides**, in order.

``clapemo experiment figure2 --overlay my.yaml``, a notebook run with ``overlays=my.yaml`` and
``make reproduce SET=my.yaml`` therefore give the same config and the same run ids.
:func:`add_config_arguments` / :func:`config_from_args` give every subcommand the same ``--config``,
``--overlay`` and ``--set`` options.

Modules
-------
:mod:`~clapemo.config.sections` (the frozen dataclass of each stage, :class:`Config`),
:mod:`~clapemo.config.dicts` (from and to plain dicts, validation, :func:`config_hash`, :func:`replace`),
:mod:`~clapemo.config.paths` (project root, stored and anchored paths), :mod:`~clapemo.config.layers` (YAML files,
overlays, overrides, the shared command-line options); this package re-exports their public names.
"""

from __future__ import annotations

from clapemo.config.dicts import config_hash, from_dict, replace, to_dict
from clapemo.config.layers import (
    add_config_arguments,
    artefact_config_path,
    config_from_args,
    load_config,
    parse_overrides,
    read_overlay,
    resolve_config,
)
from clapemo.config.paths import anchored, project_root, stored_dict
from clapemo.config.sections import (
    Config,
    DataConfig,
    EncodersConfig,
    EvaluateConfig,
    FeaturesConfig,
    PromptsConfig,
    SynthConfig,
    TrainConfig,
    section,
)

__all__ = [
    "Config",
    "DataConfig",
    "SynthConfig",
    "FeaturesConfig",
    "PromptsConfig",
    "EncodersConfig",
    "TrainConfig",
    "EvaluateConfig",
    "load_config",
    "from_dict",
    "to_dict",
    "config_hash",
    "replace",
    "resolve_config",
    "read_overlay",
    "parse_overrides",
    "project_root", "stored_dict", "anchored",
    "artefact_config_path",
    "add_config_arguments",
    "config_from_args",
    "section",
]
