"""The sections of an experiment config, one frozen dataclass per stage (field names carry units), each field
with its validation metadata; :class:`Config` holds them all and :func:`section` picks one."""

from __future__ import annotations

import dataclasses
import json
import string
from dataclasses import dataclass, field
from typing import Any

from clapemo.config.dicts import check_value
from clapemo.emotions import EMOTIONS
from clapemo.errors import ConfigError, ParameterError
from clapemo.schema import (
    ALL_PROMPT_KINDS,
    AUGMENT_KIND,
    AUGMENT_KINDS,
    EXTRA_PROMPT_KINDS,
    PAPER_KINDS,
    SYLLABLE_METHODS,
    TRAIN_PROMPT_KINDS,
)

__all__ = ["Config", "DataConfig", "SynthConfig", "FeaturesConfig", "PromptsConfig", "EncodersConfig",
           "TrainConfig", "EvaluateConfig", "section"]


def _f(default: Any, *, min: float | None = None, max: float | None = None, choices: tuple | None = None,
       path: bool = False, hashed: bool = True, hash_default: bool = True, doc: str = "") -> Any:
    """A dataclass field with validation metadata (``min``/``max`` inclusive, ``choices``, ``path``; ``hashed=False``
    keeps a setting that does not change results, e.g. a worker count, out of :func:`config_hash`;
    ``hash_default=False`` leaves an option added later out of the hash while it holds its default, the behaviour
    from before it existed, so the ids of runs and results that do not use it stay what they were)."""
    meta = {"min": min, "max": max, "choices": choices, "path": path, "hashed": hashed and not path,
            "hash_default": hash_default, "default": default, "doc": doc}
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: json.loads(json.dumps(default)), metadata=meta)
    return field(default=default, metadata=meta)


class _Section:
    """Mixin: validates every field of a frozen dataclass on construction."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            check_value(f"{type(self).__name__}.{f.name}", f, getattr(self, f.name))


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
    syllables: str = _f("nuclei", choices=SYLLABLE_METHODS, hash_default=False,
                        doc="how n_syllables (the speech and articulation rates) is counted: nuclei (Praat's "
                            "syllable nuclei, the paper's), transcript (the manifest's text, CMUdict; a clip "
                            "without text is an error row) or asr (Whisper tiny.en's transcript, CMUdict); the "
                            "phonation time is the nuclei's in all three")
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
    augment_kinds: list = _f(list(AUGMENT_KINDS),
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
        for key, kinds, known in (("extra_kinds", self.extra_kinds, EXTRA_PROMPT_KINDS),
                                  ("augment_kinds", self.augment_kinds, ALL_PROMPT_KINDS)):
            bad = [k for k in kinds if not isinstance(k, str) or k not in known]
            if bad:
                raise ConfigError(f"config key 'prompts.{key}': {bad[0]!r} is not a prompt kind (known: "
                                  f"{', '.join(known)})")
            if len(set(kinds)) != len(kinds):
                raise ConfigError(f"config key 'prompts.{key}' = {kinds!r} names a kind twice")
        if not self.augment_kinds:
            raise ConfigError("config key 'prompts.augment_kinds' is empty: prompt augmentation needs a kind")
        uses_extra = [k for k in (*self.extra_kinds, *self.augment_kinds) if k in EXTRA_PROMPT_KINDS]
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
    prompt_kind: str = _f("class_label", choices=TRAIN_PROMPT_KINDS)
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
    ear_query_kinds: list = _f(list(PAPER_KINDS),
                               doc="prompt kinds used as EAR queries (Table 3 columns; pitch = 4 bins)")
    ser_target: str = _f("ravdess", doc="corpus name; with data.source = synth its twin synth-<name>")
    emotion_corpora: list = _f([], doc="emotion corpora of the '5ED' rows; empty: every emotion corpus the config "
                                       "provides (roots, or the synthetic twins) minus the evaluation target")
    finetune_epochs: int = _f(0, min=0, doc="epochs of the SER finetune; 0: same as train.epochs")
    prompt_analysis_corpora: list = _f(["ravdess", "cremad"])
    prompt_analysis_kinds: list = _f([*PAPER_KINDS, AUGMENT_KIND],
                                     doc="training prompt kinds compared in Figure 2")
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


def section(config: Any, cls: type) -> Any:
    """The ``cls`` section of a config: ``config`` itself when it is one, ``getattr(config, <name>)`` of a whole
    :class:`Config`, the defaults for None; anything else is a ParameterError naming the expected type."""
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
