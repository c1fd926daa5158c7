"""Rendering and I/O: one planned clip -> int16 audio; :func:`generate` writes the corpora (twins of RAVDESS and
CREMA-D in their real layouts) and :func:`load` reads a manifest back through the shared manifest validation."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from clapemo.audio import resample
from clapemo.config import SynthConfig
from clapemo.emotions import CORPUS_LABELS
from clapemo.errors import DataError, ParameterError
from clapemo.schema import MANIFEST_COLUMNS
from clapemo.synth.engine import ESPEAK_RATE_HZ, engine
from clapemo.synth.plan import CORPORA, CORPUS_SPECS, VOICE_ORDER, plan_corpus, rng_of
from clapemo.synth.signal import active_rms, db_to_amp, event, finish, reverb

__all__ = ["GENERATOR_VERSION", "MARKER", "MANIFEST", "SCHEMA", "render", "generate", "is_current", "load"]

#: part of every corpus marker: bump when the same seed would give other files (v2: real RAVDESS/CREMA-D texts
#: and CREMA-D layout, clapemo.audio.resample, fold-based CREMA-D split; v3: integer `fold` column, as the real
#: loaders write it; v4: every chunk of clips renders in a fresh process, see generate)
GENERATOR_VERSION = 4
#: clips per rendering task
CHUNK_CLIPS = 96
MARKER = ".complete"
MANIFEST = "manifest.csv"
#: the manifest schema (:data:`clapemo.schema.MANIFEST_COLUMNS`) as a list
SCHEMA = list(MANIFEST_COLUMNS)
#: the CREMA-D twin's actor table, as in the real release (columns ActorID, Sex)
CREMAD_DEMOGRAPHICS = "VideoDemographics.csv"
#: columns of the synthetic manifests read as str-or-None besides the schema's
EXTRA_STRING_COLUMNS = ("caption", "kind", "fold", "voice", "dialect", "espeak_voice")

def _speech(plan: dict) -> np.ndarray:
    """espeak rendering + vocal-effort tilt + lead/trail silence, float at the espeak rate."""
    ssml = plan["ssml"]
    raw = engine().synth(ssml, voice=plan["espeak_voice"], rate_wpm=plan["espeak_rate_wpm"],
                          pitch=plan["espeak_pitch"], pitch_range=plan["espeak_range"], seed=plan["seed"])
    x = raw.astype(np.float64) / 32768.0
    # vocal effort: louder speech has a flatter spectrum (more high-frequency energy), softer speech a steeper one
    k = plan["effort_tilt"]
    x = x + k * np.diff(x, prepend=0.0)
    lead = np.zeros(int(plan["lead_s"] * ESPEAK_RATE_HZ))
    trail = np.zeros(int(plan["trail_s"] * ESPEAK_RATE_HZ))
    return np.concatenate([lead, x, trail])


# --------------------------------------------------------------------------------------------------------------
# Rendering (runs in worker processes)
# --------------------------------------------------------------------------------------------------------------
def render(row: dict) -> tuple[np.ndarray, int]:
    """Render one planned clip: int16 samples and the corpus sample rate."""
    corpus = row["dataset"]
    spec = CORPUS_SPECS[corpus]
    plan = row["plan"]
    rate = spec.sample_rate_hz
    rng = np.random.default_rng(plan["noise_seed"])
    kind = row["extra"].get("kind", "speech")
    if kind == "speech":  # level and room at the espeak rate, then the corpus rate
        x = _speech(plan)
        x = x * (db_to_amp(plan["gt"]["intended_level_db"]) / max(active_rms(x, ESPEAK_RATE_HZ), 1e-12))
        x = resample(reverb(x, rate_hz=ESPEAK_RATE_HZ, room=row["room"]), orig_rate_hz=ESPEAK_RATE_HZ,
                     target_rate_hz=rate).astype(np.float64)
    else:
        x, _ = event(kind, np.random.default_rng(row["extra"]["event_seed"]), rate, row["extra"]["event_dur_s"])
        x = x * (db_to_amp(spec.level_db + float(rng.normal(0, 5))) / max(active_rms(x, rate), 1e-12))
        x = reverb(x, rate_hz=rate, room=row["room"])
    return finish(x, rate_hz=rate, spec=spec, rng=rng), rate


def _render_task(task: tuple[list[dict], str]) -> list[tuple[str, float]]:
    return _render_chunk(*task)


def _render_chunk(rows: list[dict], folder: str) -> list[tuple[str, float]]:
    import soundfile as sf

    out = []
    for row in rows:
        audio, rate = render(row)
        path = Path(folder) / row["relpath"]
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), audio, rate, subtype="PCM_16")
        out.append((row["utterance_id"], len(audio) / rate))
    return out


def _caption(row: dict, rng: np.random.Generator) -> str:
    """A caption for a synth-4d item (sound events carry theirs; speech is described like AudioCaps does)."""
    if row["extra"]["kind"] != "speech":  # the same draws as the rendering, so counts in the caption match
        return event(row["extra"]["kind"], np.random.default_rng(row["extra"]["event_seed"]),
                      CORPUS_SPECS["synth-4d"].sample_rate_hz, row["extra"]["event_dur_s"])[1]
    who = "a man" if row["sex"] == "male" else "a woman"
    how = ""
    gt = row["plan"]["gt"]
    if rng.random() < 0.4:
        how = " quickly" if gt["intended_rate_wpm"] > 180 else (" slowly" if gt["intended_rate_wpm"] < 150 else "")
    where = ["in a quiet room", "while a fan hums in the background", "into a microphone", "indoors", ""]
    verb = ["speaks", "talks", "is speaking", "reads aloud"][int(rng.integers(4))]
    return f"{who} {verb}{how} {where[int(rng.integers(len(where)))]}".strip()


# --------------------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------------------
def _manifest_frame(rows: list[dict], durations: dict[str, float], seed: int) -> Any:
    import pandas as pd

    records = []
    for row in rows:
        rec = {"utterance_id": row["utterance_id"], "path": row["relpath"], "dataset": row["dataset"],
               "speaker": row["speaker"], "sex": row["sex"], "label": row["label"], "raw_label": row["raw_label"],
               "text": row["text"], "start_s": float("nan"), "end_s": float("nan"), "split": row["split"]}
        if row["dataset"] == "synth-4d":
            rec["caption"] = _caption(row, rng_of(seed, row["utterance_id"], "caption"))
            rec["kind"] = row["extra"]["kind"]
        if "fold" in row["extra"]:
            rec["fold"] = row["extra"]["fold"]
        rec["sample_rate_hz"] = CORPUS_SPECS[row["dataset"]].sample_rate_hz
        rec["duration_s"] = round(durations[row["utterance_id"]], 6)
        speech = row["extra"].get("kind", "speech") == "speech"
        rec.update({k: (v if speech else None) for k, v in row["plan"]["gt"].items()})
        rec["espeak_voice"] = row["plan"]["espeak_voice"] if speech else None
        for key in ("espeak_pitch", "espeak_range", "espeak_rate_wpm"):
            rec[key] = row["plan"][key] if speech else None
        records.append(rec)
    return pd.DataFrame.from_records(records)


def _write_demographics(rows: list[dict], path: Path) -> None:
    """``VideoDemographics.csv`` of the CREMA-D twin: one line per actor (ActorID, Sex as Male/Female)."""
    actors = sorted({(row["speaker"], row["sex"]) for row in rows})
    lines = ["ActorID,Sex"] + [f"{actor},{sex.capitalize()}" for actor, sex in actors]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _n_jobs(n_jobs: int) -> int:
    return max(os.cpu_count() or 1, 1) if n_jobs == -1 else max(n_jobs, 1)


def _stamp(config: SynthConfig) -> dict:
    return {"generator_version": GENERATOR_VERSION, "profile": config.profile, "seed": config.seed}


def _read_marker(marker: Path) -> dict | None:
    try:
        return json.loads(marker.read_text())
    except (OSError, ValueError):
        return None


def is_current(folder: str | Path, config: SynthConfig) -> bool:
    """Whether the corpus folder ``<root>/<profile>/<corpus>`` is complete and was written by this generator
    version with ``config``'s profile and seed (else :func:`generate` rebuilds it)."""
    return _read_marker(Path(folder) / MARKER) == _stamp(config)


def generate(*, root: str | Path, config: SynthConfig | None = None, progress: bool = True) -> Path:
    """Render the benchmark under ``<root>/<profile>/<corpus>/`` and return ``<root>/<profile>``.

    A corpus whose ``.complete`` marker matches (seed, profile, generator version) is skipped, so re-running is
    instant; any other existing corpus folder is rebuilt.

    Parameters
    ----------
    root : folder of the benchmark (``data.synth_root``)
    config : :class:`~clapemo.config.SynthConfig` (profile, seed, n_jobs, corpora); ``None`` = defaults
    progress : show tqdm bars

    Returns
    -------
    Path : ``<root>/<profile>``, the folder :func:`load` takes.
    """
    config = config or SynthConfig()
    corpora = list(config.corpora) or list(CORPORA)
    unknown = [c for c in corpora if c not in CORPORA]
    if unknown:
        raise ParameterError(f"synth.corpora contains {unknown}; known: {list(CORPORA)}")
    out = Path(root) / config.profile
    out.mkdir(parents=True, exist_ok=True)
    stamp = _stamp(config)
    used: dict = {}
    todo = []
    for corpus in VOICE_ORDER:  # plan in fixed order: voice allocation depends on the earlier corpora
        rows = plan_corpus(corpus, profile=config.profile, seed=config.seed, used=used)
        folder = out / corpus
        marker = folder / MARKER
        if corpus not in corpora:
            continue
        if _read_marker(marker) == stamp:
            continue
        todo.append((corpus, rows, folder))
    if not todo:
        return out
    from clapemo.executor import LOCAL, map_tasks, progress_bar

    # espeak-ng keeps state across the clips a process renders that reseeding, espeak_Terminate +
    # espeak_Initialize, a priming utterance and a forced voice reload do not reset: about 1 clip in 20 of some
    # voices comes out (slightly) differently after other clips. So every chunk renders in a process of its own
    # (fresh_process_per_task), with n_jobs = 1 too: a clip's bytes depend on its chunk only, never on which
    # worker was free or how many workers there are.
    for corpus, rows, folder in todo:
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        chunks = [rows[i:i + CHUNK_CLIPS] for i in range(0, len(rows), CHUNK_CLIPS)]
        durations: dict[str, float] = {}
        bar = progress_bar(total=len(rows), desc=corpus, unit="clip", enabled=progress)

        def rendered(_: int, result: list[tuple[str, float]]) -> None:
            durations.update(result)
            bar.update(len(result))

        try:
            map_tasks(_render_task, [(chunk, str(folder)) for chunk in chunks], n_workers=_n_jobs(config.n_jobs),
                      scheduler=LOCAL, progress=False, fresh_process_per_task=True, on_result=rendered)
        finally:
            bar.close()
        frame = _manifest_frame(rows, durations, config.seed)
        frame.to_csv(folder / MANIFEST, index=False, float_format="%.6g", lineterminator="\n")
        if corpus == "synth-cremad":
            _write_demographics(rows, folder / CREMAD_DEMOGRAPHICS)
        (folder / MARKER).write_text(json.dumps(stamp))
    return out


def load(name: str, root: str | Path) -> Any:
    """The manifest of one generated corpus (CONTRIBUTING.md schema, then ground-truth columns).

    The csv goes through :func:`clapemo.datasets.manifest.read_manifest_csv`, the validation of the real loaders
    (paths inside the corpus folder, unique ids, existing files, segments, non-empty train and test splits ...),
    then the labels are checked against the corpus's own label set.

    Parameters
    ----------
    name : ``synth-mosei``, ``synth-iemocap``, ``synth-meld``, ``synth-cremad``, ``synth-ravdess``,
        ``synth-mosi`` or ``synth-4d``
    root : ``<synth_root>/<profile>``, the folder holding the corpus folders (what :func:`generate` returns)

    Returns
    -------
    DataFrame : one row per clip; ``path`` absolute; ``label`` canonical (None for synth-4d, which adds
        ``caption``); ``split`` speaker-independent train/test (synth-ravdess and synth-cremad also have an int
        ``fold`` 0..4, their real loaders' speaker folds; fold 0 is the test split).
    """
    from clapemo.datasets.manifest import read_manifest_csv

    if name not in CORPORA:
        raise DataError(f"unknown synthetic corpus {name!r}; known: {list(CORPORA)}")
    folder = Path(root) / name
    manifest = folder / MANIFEST
    if not (folder / MARKER).is_file() or not manifest.is_file():
        raise DataError(f"synthetic corpus {name!r} not found (or incomplete) in {folder}: run "
                        f"'clapemo synth -o <synth_root>' or clapemo.synth.generate(root=<synth_root>)")
    version = (_read_marker(folder / MARKER) or {}).get("generator_version")
    if version != GENERATOR_VERSION:
        raise DataError(f"synthetic corpus {name!r} in {folder} was written by generator version {version}, this "
                        f"is version {GENERATOR_VERSION}: regenerate it ('clapemo synth -o <synth_root>', or "
                        f"'make data'; finished corpora of this version are kept)")
    frame = read_manifest_csv(manifest, name=name, root=folder, string_columns=EXTRA_STRING_COLUMNS,
                              caption=name == "synth-4d", expect_splits=("train", "test"))
    if "fold" in frame.columns:  # an int column, as the real loaders give it
        try:
            frame["fold"] = frame["fold"].astype(int)
        except (TypeError, ValueError):
            raise DataError(f"{name}: {manifest}: column 'fold' must hold integers (fold numbers)") from None
    if name != "synth-4d":
        allowed = set(CORPUS_LABELS[name.removeprefix("synth-")])
        bad = sorted(set(frame["label"]) - allowed)
        if bad:
            raise DataError(f"{name}: {manifest}: labels {bad} are not in the {name} label set {sorted(allowed)}")
    return frame
