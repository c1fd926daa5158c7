"""What the experiments train: the corpora a config provides, one trained model as a :class:`RunSpec`, its training
config, and fitting a set of (spec, seed) keys in parallel, with a record beside each run of what it is and which
artefact cells use it (:func:`clapemo.runs.write_run_record`).

The lowest layer of :mod:`clapemo.experiments`: it knows no artefact.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from clapemo import runs
from clapemo.config import Config, EvaluateConfig
from clapemo.emotions import CAPTION_CORPORA, EMOTION_CORPORA
from clapemo.errors import ClapEmoError, ConfigError, ParameterError
from clapemo.evaluate import base_corpus

__all__ = ["KIND_NAMES", "RunSpec", "NotRun", "NO_4D", "no_emotion_corpora", "provided_emotion_corpora",
           "missing_paper_corpora", "caption_corpora_available", "check_corpus", "emotion_corpora",
           "training_config", "fit_run", "fit_many", "fit_plan", "root_problems"]

#: display names of the training prompt kinds (Figure 2's bars)
KIND_NAMES: dict[str, str] = {
    "class_label": "CL", "pitch": "pitch", "pitch2": "pitch (2 bins)", "intensity": "intensity",
    "speech_rate": "speech rate", "articulation_rate": "articulation rate", "combined": "combined",
    "augment": "PA",
}


@dataclass(frozen=True)
class RunSpec:
    """What one trained model is: its emotion corpora, whether 4D is added, the prompt kind, and (finetune) the run
    it continues from."""

    corpora: tuple[str, ...]
    include_4d: bool
    prompt_kind: str
    finetune_from: "RunSpec | None" = None

    def __post_init__(self) -> None:
        if not self.corpora and not self.include_4d:
            raise ParameterError("a RunSpec needs emotion corpora or include_4d")
        if not self.corpora:  # 4D only: no emotion prompts, one identity
            object.__setattr__(self, "prompt_kind", "class_label")
        object.__setattr__(self, "corpora", tuple(sorted(self.corpora)))

    def describe(self) -> str:
        parts = (["4D"] if self.include_4d else []) + list(self.corpora)
        text = " + ".join(parts) + (f" [{KIND_NAMES[self.prompt_kind]}]" if self.corpora else "")
        return f"{self.finetune_from.describe()} -> finetune {text}" if self.finetune_from else text


class NotRun(ClapEmoError):
    """An artefact cannot run with the corpora this config provides (e.g. its evaluation corpus has no root).

    The message says what is missing and what to add; the book renders it as a "not run" note.
    """


#: the reason a row needing the general-audio caption sets is not run
NO_4D = "not run: no 4D caption corpora (data.roots has none of clotho, audiocaps, macs, fsd50k, or " \
        "train.include_4d is false)"


def no_emotion_corpora(target: str) -> str:
    """The reason a row needing emotion corpora besides ``target`` is not run."""
    return f"not run: no emotion corpora besides {target} (add data.roots or evaluate.emotion_corpora)"


def provided_emotion_corpora(config: Config) -> list[str]:
    """The emotion corpora a config provides: the six ``synth-*`` twins (``data.source = synth``), or every
    corpus under ``data.roots`` that is not a 4D caption set (the paper's six in the paper's order, then a user's
    own folder corpora in name order)."""
    if config.data.source == "synth":
        return ["synth-" + name for name in EMOTION_CORPORA]
    roots = [n for n in config.data.roots if n not in CAPTION_CORPORA]
    return [n for n in EMOTION_CORPORA if n in roots] + sorted(n for n in roots if n not in EMOTION_CORPORA)


def missing_paper_corpora(config: Config) -> list[str]:
    """The paper's six emotion corpora that this config does not provide (bare names)."""
    provided = {base_corpus(n) for n in provided_emotion_corpora(config)}
    return [n for n in EMOTION_CORPORA if n not in provided]


def caption_corpora_available(config: Config) -> list[str]:
    """The 4D caption corpora a training may add: none when ``train.include_4d`` is false; ``synth-4d``; or the
    real ones with a root."""
    if not config.train.include_4d:
        return []
    if config.data.source == "synth":
        return ["synth-4d"]
    return [n for n in CAPTION_CORPORA if n in config.data.roots]


def check_corpus(config: Config, name: str, key: str) -> str:
    """``name`` as loaded (``synth-`` prefix under the synthetic source) when the config provides it; a paper
    corpus without a root is :class:`NotRun`; anything else is a ConfigError naming ``key``."""
    from clapemo.corpora import resolve_name

    resolved = resolve_name(name, config)
    if resolved in provided_emotion_corpora(config):
        return resolved
    if base_corpus(resolved) in EMOTION_CORPORA and config.data.source == "real":
        raise NotRun(f"not run: needs corpus {resolved!r} ({key}); add its folder as data.roots.{resolved}")
    raise ConfigError(f"config key '{key}' = {name!r} is not an emotion corpus this config provides; known: "
                      f"{provided_emotion_corpora(config)} (data.source = {config.data.source!r})")


def emotion_corpora(config: Config, *, target: str | None = None) -> list[str]:
    """The emotion corpora of the '5ED' rows: ``evaluate.emotion_corpora`` when set (each must be provided),
    else every provided corpus (:func:`provided_emotion_corpora`); without ``target`` (the evaluation corpus)."""
    if config.evaluate.emotion_corpora:
        chosen = [check_corpus(config, n, "evaluate.emotion_corpora") for n in config.evaluate.emotion_corpora]
    else:
        chosen = provided_emotion_corpora(config)
    return [c for c in dict.fromkeys(chosen) if c != target]


def root_problems(config: Config) -> dict[str, str]:
    """Corpus name -> why its ``data.roots`` folder cannot be read (missing, not a folder, empty), for the real
    source; {} for the synthetic one. Known before any work starts, so a plan says it instead of "ok"."""
    if config.data.source == "synth":
        return {}
    out = {}
    for name, root in config.data.roots.items():
        path = Path(root)
        problem = ("no such folder" if not path.exists() else "not a folder" if not path.is_dir()
                   else "an empty folder" if not any(path.iterdir()) else None)
        if problem:
            out[name] = f"data.roots.{name} = {root!r}: {problem}"
    return out


def training_config(config: Config, spec: RunSpec, *, seed: int, init_from: str = "") -> Config:
    """The config :func:`clapemo.train.fit` gets for ``spec``: the experiment config reduced to what training
    depends on (``name`` and ``evaluate`` reset to fixed values, ``train`` given the spec's corpora, 4D, prompt kind
    and the seed), so artefacts that need the same model share one run."""
    epochs = config.train.epochs
    if spec.finetune_from is not None and config.evaluate.finetune_epochs > 0:
        epochs = config.evaluate.finetune_epochs
    train_section = dataclasses.replace(config.train, corpora=list(spec.corpora), include_4d=spec.include_4d,
                                        prompt_kind=spec.prompt_kind, seed=int(seed), epochs=epochs,
                                        init_from=init_from)
    return dataclasses.replace(config, name="run", evaluate=EvaluateConfig(), train=train_section)


def fit_run(config: Config, spec: RunSpec, *, seed: int, progress: bool = False) -> Path:
    """Train (or reuse) the run of ``spec`` for one seed; a finetune first fits the run it continues from."""
    from clapemo import train  # torch: imported when a training starts, not by a plan

    init_from = ""
    if spec.finetune_from is not None:
        init_from = str(fit_run(config, spec.finetune_from, seed=seed, progress=progress) / "checkpoint.pt")
    return Path(train.fit(training_config(config, spec, seed=seed, init_from=init_from), progress=progress))


def fit_many(config: Config, configs: list[Config], *, progress: bool) -> list[Path]:
    """Train (or reuse) each training config: in this process with ``train.n_workers = 1`` (which also lets tests
    fake :func:`clapemo.train.fit`), else :func:`clapemo.train.fit_many` on ``train.n_workers`` processes or the
    dask scheduler of ``train.scheduler``. The folders, in the order of ``configs``."""
    from clapemo import train  # torch: imported when a training starts, not by a plan

    if not configs:
        return []
    if config.train.n_workers == 1 or len(configs) == 1:
        return [Path(train.fit(c, progress=progress)) for c in configs]
    return [Path(p) for p in train.fit_many(configs, n_workers=config.train.n_workers,
                                            scheduler=config.train.scheduler, progress=progress)]


def fit_plan(config: Config, keys: Sequence[tuple[RunSpec, int]], *,
             uses: Mapping[RunSpec, Sequence[str]] | None = None, progress: bool = False) -> dict:
    """Train (or reuse) every (spec, seed) in ``keys`` in parallel: first all runs that start from scratch, then
    the finetunes from their parents' checkpoints (:func:`fit_many`). Results are those of training each in turn.

    Each run folder gets its record (:func:`clapemo.runs.write_run_record`): what it is (the spec) and ``uses``
    (spec -> the artefact cells that use it, e.g. ``table3:4D + [5ED - PA]``; a finetune's parent is recorded as
    used by the same cells, marked ``(parent)``).

    Returns
    -------
    dict (spec, seed) -> run folder, for the keys and the parents of their finetunes
    """
    uses = uses or {}
    wanted = list(dict.fromkeys(keys))
    first = list(dict.fromkeys([(s.finetune_from or s, seed) for s, seed in wanted]))
    done = dict(zip(first, fit_many(config, [training_config(config, s, seed=seed) for s, seed in first],
                                    progress=progress)))
    finetunes = [(s, seed) for s, seed in wanted if s.finetune_from is not None]
    configs = [training_config(config, s, seed=seed,
                               init_from=str(done[(s.finetune_from, seed)] / "checkpoint.pt"))
               for s, seed in finetunes]
    done.update(zip(finetunes, fit_many(config, configs, progress=progress)))
    for (spec, seed), run_dir in done.items():
        cells = list(uses.get(spec, ()))
        cells += [f"{use} (parent)" for child, _ in finetunes if child.finetune_from == spec
                  for use in uses.get(child, ())]
        runs.write_run_record(run_dir, what=spec.describe(), seed=seed, uses=cells)
    return done
