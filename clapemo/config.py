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
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from clapemo import numerics
from clapemo.errors import ConfigError

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


def _f(default: Any, *, min: float | None = None, max: float | None = None, choices: tuple | None = None,
       path: bool = False, hashed: bool = True, doc: str = "") -> Any:
    """A dataclass field with validation metadata (``min``/``max`` inclusive, ``choices``, ``path``; ``hashed=False``
    keeps a setting that does not change results, e.g. a worker count, out of :func:`config_hash`)."""
    meta = {"min": min, "max": max, "choices": choices, "path": path, "hashed": hashed and not path, "doc": doc}
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: json.loads(json.dumps(default)), metadata=meta)
    return field(default=default, metadata=meta)


class _Section:
    """Mixin: validates every field of a frozen dataclass on construction."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            _check_value(f"{type(self).__name__}.{f.name}", f, getattr(self, f.name))


def _check_value(key: str, f: dataclasses.Field, value: Any) -> None:
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


# --------------------------------------------------------------------------------------------------------------
# Sections. Each stage owns one; field names carry units.
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataConfig(_Section):
    """Which corpora an experiment uses and where they live.

    ``source = "synth"`` uses the generated benchmark (``clapemo.synth``) under ``synth_root``;
    ``source = "real"`` reads each corpus from ``roots[name]`` with ``clapemo.datasets.load``.
    """

    source: str = _f("synth", choices=("synth", "real"))
    synth_root: str = _f("data/synth", path=True, doc="folder of the generated benchmark")
    roots: dict = _f({}, path=True, doc="corpus name -> folder, for source = real")
    iemocap_four_class: bool = _f(True, doc="merge exc into hap and keep hap/sad/ang/neu (EAR collection)")
    test_fold: int | list | dict | None = _f(None, doc="corpora with folds (RAVDESS folds 0-4, CREMA-D 0-4, IEMOCAP "
                                                      "sessions 1-5, folder corpora with a fold column): the "
                                                      "fold(s) used as 'test', the others 'train'; a number, a "
                                                      "list, or a mapping corpus -> number/list; None = each "
                                                      "corpus's default")
    n_jobs: int = _f(-1, min=-1, hashed=False,
                     doc="worker processes for feature extraction in clapemo.corpora; -1: all cores")

    def __post_init__(self) -> None:
        super().__post_init__()

        def folds_ok(value: Any) -> bool:
            folds = value if isinstance(value, list) else [value]
            return bool(folds) and all(isinstance(f, int) and not isinstance(f, bool) for f in folds)

        value = self.test_fold
        if value is not None and not (folds_ok(value) or (isinstance(value, dict) and all(
                isinstance(k, str) and folds_ok(v) for k, v in value.items()))):
            raise ConfigError(f"config key 'data.test_fold' = {value!r} must be a fold number, a list of fold "
                              "numbers, a mapping corpus -> fold number(s), or null")
        if not all(isinstance(k, str) and isinstance(v, str) and v for k, v in self.roots.items()):
            raise ConfigError(f"config key 'data.roots' = {self.roots!r} must map corpus names to folder paths")


@dataclass(frozen=True)
class SynthConfig(_Section):
    """The synthetic emotional-speech benchmark (see ``clapemo.synth``)."""

    profile: str = _f("default", choices=("tiny", "default", "large"))
    seed: int = _f(0, min=0)
    n_jobs: int = _f(-1, min=-1, hashed=False, doc="-1: all cores")
    corpora: list = _f([], doc="subset of synth-* corpora to generate; empty = all seven")


@dataclass(frozen=True)
class FeaturesConfig(_Section):
    """Acoustic properties (``clapemo.features``); syllable-nuclei defaults from de Jong & Wempe v2."""

    pitch_backend: str = _f("praat", choices=("praat", "pyin"),
                            doc="F0-mean track: praat (To Pitch (ac)) or pyin (librosa.pyin, the paper's route)")
    intensity_backend: str = _f("praat", choices=("praat", "librosa"),
                                doc="praat (To Intensity) or librosa (frame RMS); both in dB re 2e-5")
    f0_min_hz: float = _f(50.0, min=20.0, max=400.0)
    f0_max_hz: float = _f(600.0, min=100.0, max=2000.0)
    time_step_s: float = _f(0.02, min=0.001, max=0.1, doc="pitch frame step (de Jong & Wempe v2 use 0.02)")
    silence_threshold_db: float = _f(-25.0, min=-80.0, max=0.0)
    min_dip_db: float = _f(2.0, min=0.0, max=20.0)
    min_pause_s: float = _f(0.3, min=0.0, max=5.0)
    min_duration_s: float = _f(0.1, min=0.0, max=10.0)
    max_clipped_fraction: float = _f(0.01, min=0.0, max=1.0,
                                     doc="clips with more samples stuck at their peak (runs >= 3) are errors")
    analysis_rate_hz: int = _f(16000, min=0, doc="clips above this rate are downsampled first; 0 = never")
    voice_quality: bool = _f(False, doc="also measure clapemo.schema.EXTRA_PROPERTY_COLUMNS (F0 sd, jitter, "
                                        "shimmer, HNR, pause rate; chapter 6)")
    cache_dir: str = _f("data/cache/features", path=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.f0_min_hz < self.f0_max_hz:
            raise ConfigError(f"config keys 'features.f0_min_hz' = {self.f0_min_hz} and 'features.f0_max_hz' = "
                              f"{self.f0_max_hz}: the pitch floor must be below the pitch ceiling")


@dataclass(frozen=True)
class PromptsConfig(_Section):
    """Acoustic prompts (``clapemo.prompts``). Default cuts are *reconstructed* (the paper's text lost them).

    Cuts: ``value < cut`` -> lower bin, ``value >= cut`` -> upper bin. ``binning = "quantile"`` ignores the fixed
    cuts and uses cuts fitted on training data (``clapemo.prompts.fit_thresholds``; quartiles for the 4 pitch
    bins, medians for the 2-bin kinds), pooled, per corpus, per speaker or per sex for pitch
    (``quantile_scope``). Intensity is on Praat's dB scale (re 2e-5), not dBFS.

    Chapter 6 options (defaults keep the paper's prompts): ``levels`` (2, 3 or 5 bins per property; 3 and 5
    need quantile binning), ``form`` (bare phrases or a sentence template), ``extra_kinds`` (prompt columns for
    the voice-quality properties, ``clapemo.prompts.EXTRA_KINDS``; quantile binning only) and ``augment_kinds``
    (the prompts of prompt augmentation).
    """

    binning: str = _f("fixed", choices=("fixed", "quantile"))
    quantile_scope: str = _f("pooled", choices=("pooled", "per_corpus", "per_speaker", "per_sex"),
                             doc="quantile binning only: cuts fitted on all training rows, per corpus, per "
                                 "speaker (each speaker's own quantiles; a test speaker unseen in training is "
                                 "binned by cuts fitted on its own clips: speaker normalisation), or per sex for "
                                 "pitch (the sex column says male/female, each sex's own pitch quantiles give "
                                 "the level; other properties pooled)")
    levels: int = _f(2, choices=(2, 3, 5),
                     doc="bins per property: 2 low/high (median; pitch quartiles), 3 low/normal/high (30/70 %), "
                         "5 very low/low/normal/high/very high (20/40/60/80 %); 3 and 5 need binning = quantile")
    form: str = _f("phrase", choices=("phrase", "sentence"),
                   doc="phrase: 'high pitch anger'; sentence: sentence_template, e.g. 'a person speaking with "
                       "high pitch, sounding angry' (class label: sentence_label_template)")
    sentence_template: str = _f("a person speaking with {properties}, sounding {emotion}",
                                doc="form = sentence, acoustic kinds: {properties} = the bin phrase(s), "
                                    "{emotion} = clapemo.prompts.SENTENCE_WORDS[label]")
    sentence_label_template: str = _f("a person sounding {emotion}",
                                      doc="form = sentence, class_label kind: {emotion} only")
    extra_kinds: list = _f([], doc="prompt kinds of clapemo.prompts.EXTRA_KINDS to add as prompt columns "
                                   "(pitch_variability, jitter, shimmer, hnr, pause_rate; needs "
                                   "features.voice_quality and binning = quantile)")
    augment_kinds: list = _f(["class_label", "pitch", "intensity", "speech_rate", "articulation_rate"],
                             doc="prompt augmentation (train.prompt_kind = augment): each clip paired with "
                                 "these kinds, in order; default clapemo.schema.AUGMENT_KINDS (the paper's 5); "
                                 "may name EXTRA_KINDS (quantile binning only)")
    pitch_cuts_hz: list = _f([132.5, 180.0, 210.0], doc="low male | high male | low female | high female")
    pitch2_cut_hz: float = _f(170.0, min=0.0)
    intensity_cut_db: float = _f(60.0)
    speech_rate_cut_syl_per_s: float = _f(3.12, min=0.0)
    articulation_rate_cut_syl_per_s: float = _f(4.0, min=0.0)
    emotion_words: dict = _f({}, doc="canonical label -> word used in prompts; missing labels use the default map")

    def __post_init__(self) -> None:
        super().__post_init__()
        from clapemo.emotions import EMOTIONS

        cuts = self.pitch_cuts_hz
        if (len(cuts) != 3 or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in cuts)
                or list(cuts) != sorted(cuts)):
            raise ConfigError(f"config key 'PromptsConfig.pitch_cuts_hz' = {cuts!r} must be 3 non-decreasing "
                              "numbers")
        for label, word in self.emotion_words.items():
            if label not in EMOTIONS:
                raise ConfigError(f"config key 'PromptsConfig.emotion_words.{label}': {label!r} is not a "
                                  f"canonical emotion (known: {', '.join(EMOTIONS)})")
            if not isinstance(word, str) or not word.strip():
                raise ConfigError(f"config key 'PromptsConfig.emotion_words.{label}' = {word!r} must be a "
                                  "non-empty str")
        self._check_chapter6_keys()

    def _check_chapter6_keys(self) -> None:
        """levels / form / extra_kinds / augment_kinds: the rules that involve more than one key."""
        import string

        from clapemo.schema import PROMPT_KINDS

        if self.binning == "fixed" and self.levels != 2:
            raise ConfigError(f"config key 'prompts.levels' = {self.levels} needs prompts.binning = 'quantile': "
                              "the fixed (literature) cuts exist for 2 levels only")
        for key, needed in (("sentence_template", ["properties", "emotion"]),
                            ("sentence_label_template", ["emotion"])):
            template = getattr(self, key)
            try:
                fields = [n for _, n, _, _ in string.Formatter().parse(template) if n is not None]
            except (TypeError, ValueError) as err:
                raise ConfigError(f"config key 'prompts.{key}' = {template!r} is not a format string ({err})"
                                  ) from None
            if sorted(fields) != sorted(needed):
                raise ConfigError(f"config key 'prompts.{key}' = {template!r} must hold the placeholders "
                                  f"{' and '.join('{' + n + '}' for n in needed)} once each (found {fields})")
        extra: tuple[str, ...] = ()
        if self.extra_kinds or any(k not in PROMPT_KINDS for k in self.augment_kinds):
            from clapemo.prompts import EXTRA_KINDS  # lazy: clapemo.prompts imports this module

            extra = tuple(EXTRA_KINDS)
        for key, kinds, known in (("extra_kinds", self.extra_kinds, extra),
                                  ("augment_kinds", self.augment_kinds, (*PROMPT_KINDS, *extra))):
            bad = [k for k in kinds if not isinstance(k, str) or k not in known]
            if bad:
                raise ConfigError(f"config key 'prompts.{key}': {bad[0]!r} is not a prompt kind (known: "
                                  f"{', '.join(known)})")
            if len(set(kinds)) != len(kinds):
                raise ConfigError(f"config key 'prompts.{key}' = {kinds!r} names a kind twice")
        if not self.augment_kinds:
            raise ConfigError("config key 'prompts.augment_kinds' is empty: prompt augmentation needs a kind")
        uses_extra = [k for k in (*self.extra_kinds, *self.augment_kinds) if k in extra]
        if uses_extra and self.binning == "fixed":
            key = "extra_kinds" if uses_extra[0] in self.extra_kinds else "augment_kinds"
            raise ConfigError(f"config key 'prompts.{key}' names {uses_extra[0]!r}, which needs prompts.binning "
                              "= 'quantile' (there are no literature cuts for the voice-quality properties)")


@dataclass(frozen=True)
class EncodersConfig(_Section):
    """Frozen audio and text encoders (``clapemo.encoders``)."""

    audio: str = _f("whisper-tiny-layers",
                    choices=("whisper-tiny", "whisper-tiny-layers", "resemblyzer", "cnn14", "egemaps"),
                    doc="whisper-tiny-layers (default, chosen by a validation probe: clapemo.probe): PyTorch, "
                        "statistics of the hidden layers (whisper_layers, whisper_layer_mix, whisper_pooling); "
                        "whisper-tiny: CTranslate2, mean of the last layer (the earlier default); egemaps: the 88 "
                        "eGeMAPS v02 functionals (opensmile), a hand-crafted baseline")
    whisper_layers: list = _f([], doc="whisper-tiny-layers: layers 0-4 (0 = block input, 4 = last); [] = all")
    whisper_layer_mix: str = _f("average", choices=("concat", "average"),
                                doc="whisper-tiny-layers: concatenate the layers' statistics or average them")
    whisper_pooling: str = _f("mean_std", choices=("mean", "mean_std"),
                              doc="whisper-tiny-layers: mean over frames, or mean then standard deviation")
    whisper_precision: str = _f("float32", choices=("float32", "bfloat16"),
                                doc="whisper-tiny-layers: plain float32 (default: the same bits on every x86-64 "
                                    "CPU with AVX2) or bfloat16 autocast (faster, this machine's bits only: "
                                    "fast mode, clapemo.numerics)")
    speaker_centring: bool = _f(False, doc="subtract each speaker's mean audio embedding over the clips of that "
                                           "speaker present in the manifest (clapemo.encoders.centre_per_speaker)")
    audio_checkpoint: str = _f("", path=True, doc="local weights file (cnn14: PANNs Cnn14_mAP=0.431.pth)")
    allow_random_weights: bool = _f(False, doc="let cnn14 run without a checkpoint (tests only)")
    cnn14_sample_rate_hz: int = _f(44100, choices=(32000, 44100),
                                   doc="cnn14 input rate: 44100 = MS-CLAP; PANNs' Cnn14_mAP=0.431.pth is 32000")
    text: str = _f("minilm", choices=("minilm", "bert"))
    text_model: str = _f("", path=True, doc="bert: a local folder or a name already in the HF cache")
    device: str = _f("auto", choices=("auto", "cpu", "cuda"))
    batch_size: int = _f(32, min=1, hashed=False)
    cache_dir: str = _f("data/cache/embeddings", path=True)


@dataclass(frozen=True)
class TrainConfig(_Section):
    """Training of the projections (``clapemo.train``): MS-CLAP defaults."""

    corpora: list = _f([], doc="emotion corpora whose train split is used, e.g. [synth-ravdess]")
    include_4d: bool = _f(True, doc="add the captioned general-audio pairs")
    prompt_kind: str = _f("class_label", choices=(
        "class_label", "pitch", "pitch2", "intensity", "speech_rate", "articulation_rate", "combined", "augment"))
    loss: str = _f("clip", choices=("clip", "multi_positive"))
    projection_dim: int = _f(1024, min=1)
    dropout: float = _f(0.5, min=0.0, max=1.0)
    learning_rate: float = _f(1e-4, min=0.0, max=1.0)
    batch_size: int = _f(128, min=2)
    epochs: int = _f(30, min=0)
    seed: int = _f(0, min=0)
    device: str = _f("auto", choices=("auto", "cpu", "cuda"))
    init_from: str = _f("", path=True, doc="checkpoint to continue from (finetune)")
    runs_dir: str = _f("runs", path=True)
    num_threads: int = _f(0, min=0, doc="torch CPU threads while training; 0 = torch's default (1 in the worker "
                                        "processes of train.n_workers); results depend on it, so set it for "
                                        "byte-identical runs")
    precision: str = _f("float32", choices=("float32", "bfloat16"),
                        doc="matrix products of the training step: plain float32 (default, portable) or bfloat16 "
                            "autocast (fp32 weights, optimizer and loss; faster, this machine's bits only: fast "
                            "mode, clapemo.numerics)")
    checkpoint_every_s: float = _f(30.0, min=0.0, hashed=False,
                                   doc="write the resume state (weights, Adam moments, random states) at most this "
                                       "often, in seconds of training; a run shorter than that writes its weights "
                                       "once, at the end. 0 = after every epoch")
    n_workers: int = _f(-1, min=-1, hashed=False,
                        doc="parallel trainings of an experiment plan (worker processes, one torch thread each); "
                            "-1: one per core, 1: serial in this process")
    scheduler: str = _f("", hashed=False, doc="address of a dask.distributed scheduler that runs the plan "
                                              "(e.g. tcp://host:8786); empty: local processes; env "
                                              "CLAPEMO_SCHEDULER overrides")


@dataclass(frozen=True)
class EvaluateConfig(_Section):
    """Evaluation protocols (``clapemo.evaluate``, ``clapemo.experiments``)."""

    ks: list = _f([1, 5, 10])
    seeds: list = _f([0, 1, 2], doc="training seeds whose spread is reported")
    ear_collection: str = _f("iemocap", doc="corpus name; with data.source = synth its twin synth-<name>")
    ear_split: str = _f("all", choices=("all", "test"),
                        doc="EAR collection: the whole corpus (never trained on in Table 3) or its test split")
    ear_query_kinds: list = _f(["class_label", "pitch", "intensity", "speech_rate", "articulation_rate"],
                               doc="prompt kinds used as EAR queries (Table 3 columns; pitch = 4 bins)")
    ser_target: str = _f("ravdess", doc="corpus name; with data.source = synth its twin synth-<name>")
    emotion_corpora: list = _f([], doc="emotion corpora of the '5ED' rows; empty: every emotion corpus the config "
                                       "provides (roots, or the synthetic twins) minus the evaluation target")
    finetune_epochs: int = _f(0, min=0, doc="epochs of the SER finetune; 0: same as train.epochs")
    prompt_analysis_corpora: list = _f(["ravdess", "cremad"])
    prompt_analysis_kinds: list = _f(["class_label", "pitch", "intensity", "speech_rate", "articulation_rate",
                                      "augment"], doc="training prompt kinds compared in Figure 2")
    zero_shot_template: str = _f("{emotion}", doc="wording of the class prompts used for zero-shot SER")
    results_dir: str = _f("runs/results", path=True)


@dataclass(frozen=True)
class Config(_Section):
    """One experiment, end to end."""

    name: str = _f("base")
    data: DataConfig = field(default_factory=DataConfig)
    synth: SynthConfig = field(default_factory=SynthConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    prompts: PromptsConfig = field(default_factory=PromptsConfig)
    encoders: EncodersConfig = field(default_factory=EncodersConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)


# --------------------------------------------------------------------------------------------------------------
# Machinery
# --------------------------------------------------------------------------------------------------------------


def _type_ok(value: Any, annotation: Any) -> bool:
    origin = typing.get_origin(annotation) or annotation
    if annotation is float or origin is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int or origin is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (types.UnionType, typing.Union):
        return any(_type_ok(value, a) for a in typing.get_args(annotation))
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
        if not _type_ok(value, annotation):
            expected = getattr(annotation, "__name__", str(annotation))
            raise ConfigError(f"config key '{key}' = {value!r} should be of type {expected}")
        _check_value(key, fields[name], value)
        kwargs[name] = value
    return cls(**kwargs)


def to_dict(config: Any, *, include_paths: bool = True, hashed_only: bool = False) -> dict:
    """The config as plain nested dicts (JSON/YAML serialisable).

    ``include_paths=False`` leaves out the path fields; ``hashed_only=True`` keeps only what :func:`config_hash`
    sees (no path fields, no ``hashed=False`` settings).
    """
    out = {}
    for f in dataclasses.fields(config):
        if not include_paths and f.metadata.get("path"):
            continue
        if hashed_only and not f.metadata.get("hashed", True):
            continue
        value = getattr(config, f.name)
        out[f.name] = (to_dict(value, include_paths=include_paths, hashed_only=hashed_only)
                       if dataclasses.is_dataclass(value) else value)
    return json.loads(json.dumps(out))


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


def config_hash(config: Any, *, length: int = 12) -> str:
    """Stable hex digest of a config (any section) without its path and unhashed fields: a run id."""
    # a fast-mode result is this machine's only: it never shares an id with a portable one
    payload = {**to_dict(config, include_paths=False, hashed_only=True), **numerics.identity_extra()}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:length]


def _deep_merge(base: dict, override: Mapping) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def project_root() -> Path | None:
    """The project folder (the one holding ``configs/`` beside the ``clapemo`` package), or None when the package
    is installed without it."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "configs" / "base.yaml").is_file() else None


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
        data = _deep_merge(_read_yaml(_find_base(path, base), seen + (path,)), data)
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
        data = _deep_merge(data, _parse_override(item))
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
        data = _deep_merge(data, read_overlay(file))
    data = _deep_merge(data, parse_overrides(overrides))
    return from_dict(Config, data)


def section(config: Any, cls: type) -> Any:
    """The ``cls`` section of a config: ``config`` itself when it is one, ``getattr(config, <name>)`` of a whole
    :class:`Config`, the defaults for None; anything else is a ParameterError naming the expected type."""
    from clapemo.errors import ParameterError

    if config is None:
        return cls()
    if isinstance(config, cls):
        return config
    if isinstance(config, Config):
        for f in dataclasses.fields(Config):
            value = getattr(config, f.name)
            if isinstance(value, cls):
                return value
    raise ParameterError(f"config must be a {cls.__name__}, a Config or None, got {type(config).__name__}")


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


def replace(config: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` that accepts dotted keys: ``replace(cfg, **{"train.epochs": 3})``."""
    nested: dict = {}
    for key, value in changes.items():
        node = nested
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return from_dict(type(config), _deep_merge(to_dict(config), nested))
