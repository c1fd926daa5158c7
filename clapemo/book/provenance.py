"""Where the report's numbers come from: config names and hashes, key settings, results folders, and what each
results folder's ``provenance.json`` (:mod:`clapemo.provenance`) records: commit, environment, machine, threads,
device, wall times and data digests; plus one sentence saying whether the chapters agree in commit and
environment."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clapemo.book.config import root
from clapemo.errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from clapemo.book.notes import Note
    from clapemo.config import Config

__all__ = ["provenance", "provenance_agreement"]

#: what a results folder without ``provenance.json`` shows (results computed before it was recorded)
NOT_RECORDED = "not recorded"
#: characters of a commit or digest shown
_SHORT = 12
_DIGEST_SHORT = 8


def _results_folder(title: str, cfg: "Config") -> Path:
    """The results folder of the artefact a column is titled after (``Table 3`` or ``table3``)."""
    from clapemo import experiments

    by_title = {a.title.partition(":")[0]: a for a in experiments.ARTEFACTS.values()}
    return (by_title[title] if title in by_title else experiments.artefact(title)).results_dir(cfg)


def _read(folder: Path) -> dict | None:
    """The folder's provenance record, None when it has none."""
    from clapemo import provenance as prov

    return prov.read(folder) if (folder / prov.FILENAME).is_file() else None


def _seconds(value: Any) -> str:
    return f"{float(value):.1f} s"


def _recorded_rows(info: Mapping) -> dict[str, str]:
    """The displayed rows of one provenance record (field name -> text)."""
    from clapemo.provenance import NUMERIC_PACKAGES

    git = info.get("git") or {}
    if git.get("commit"):
        commit = str(git["commit"])[:_SHORT] + (" (dirty)" if git.get("dirty") else "")
    else:
        commit = f"unknown ({git.get('note') or 'git not recorded'})"
    python = info.get("python") or {}
    packages = info.get("packages") or {}
    espeak = info.get("espeak_ng") or {}
    plat = info.get("platform") or {}
    threads = info.get("threads") or {}
    device = info.get("device") or {}
    extra = info.get("extra") or {}
    synth = extra.get("synth")
    env = ", ".join(f"{var}={threads[var]}" for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
                    if threads.get(var) is not None)
    rows = {
        "commit": commit,
        "python": " ".join(str(python.get(k)) for k in ("implementation", "version") if python.get(k)) or "?",
    }
    for name in NUMERIC_PACKAGES:
        rows[name] = str(packages.get(name) or "absent")
    rows["espeak-ng"] = (f"{espeak.get('library') or 'absent'} (data {espeak.get('data_format') or '?'})"
                         if espeak else "absent")
    rows["platform"] = " ".join(str(plat.get(k)) for k in ("system", "machine") if plat.get(k)) or "?"
    rows["CPU"] = f"{plat.get('cpu_model') or '?'} ({plat.get('cpu_count') or '?'} logical)"
    rows["threads"] = (f"torch {threads.get('torch')} (inter-op {threads.get('torch_interop')})"
                       + (f"; {env}" if env else ""))
    rows["device"] = str(device.get("type") or "?") + (f" ({device['gpu']})" if device.get("gpu") else "")
    steps = info.get("steps_s") or {}
    rows["wall time"] = ", ".join(f"{step} {_seconds(s)}" for step, s in steps.items()) or "none"
    manifests = info.get("manifests") or {}
    rows["data digests"] = ", ".join(f"{name} {str(digest)[:_DIGEST_SHORT]}"
                                     for name, digest in manifests.items()) or "none"
    rows["synthetic generator"] = (f"version {synth.get('generator_version')}, profile {synth.get('profile')}, "
                                   f"seed {synth.get('seed')}" if isinstance(synth, Mapping) else "not used")
    rows["recorded at"] = str(info.get("created_utc") or "?")
    return rows


def provenance(configs: "dict[str, Config]", *, part: str = "table") -> "pd.DataFrame | Note":
    """Where each experiment's numbers come from: config name and hash, the settings that matter most, the
    results folder (relative to the project root when inside it), and from its ``provenance.json`` the commit
    (+ "dirty"), Python, the numeric package versions, espeak-ng, platform/CPU, threads, device, wall time per
    step, the data digests (shortened) and the synthetic generator ("not recorded" when the folder has none).

    Parameters
    ----------
    configs : display name -> the experiment's config (e.g. ``{"Table 3": config3}``).
    part : ``"table"`` (this table) or ``"agreement"`` (:func:`provenance_agreement`, the sentence under it).

    Returns
    -------
    DataFrame, one column per experiment, one row per field (``part="table"``); a Note (``"agreement"``).
    """
    if part == "agreement":
        return provenance_agreement(configs)
    if part != "table":
        raise ParameterError(f"part = {part!r} must be 'table' or 'agreement'")
    import pandas as pd

    from clapemo.config import config_hash

    base = root()
    columns = {}
    for title, cfg in configs.items():
        folder = _results_folder(title, cfg)
        shown = folder
        try:
            shown = folder.resolve().relative_to(base)
        except ValueError:
            pass
        column = {
            "config": cfg.name, "config hash": config_hash(cfg),
            "data": cfg.data.source + (f" ({cfg.synth.profile}, seed {cfg.synth.seed})"
                                       if cfg.data.source == "synth" else ""),
            "audio encoder": cfg.encoders.audio, "text encoder": cfg.encoders.text,
            "epochs": cfg.train.epochs, "seeds": ", ".join(map(str, cfg.evaluate.seeds)),
            "results folder": str(shown),
        }
        info = _read(folder)
        recorded = _recorded_rows(info if info is not None else {})
        column.update({key: (value if info is not None else NOT_RECORDED) for key, value in recorded.items()})
        columns[title] = column
    frame = pd.DataFrame(columns, dtype=object)
    frame.columns.name = "experiment"
    return frame


def provenance_agreement(configs: "dict[str, Config]") -> "Note":
    """One sentence (:func:`clapemo.provenance.summary` of :func:`clapemo.provenance.differences`) saying whether
    the experiments' results folders were produced by the same commit and environment, or in which fields they
    differ; experiments whose folder has no ``provenance.json`` are named apart (a missing record would otherwise
    "differ" in every field)."""
    from clapemo import provenance as prov
    from clapemo.book.notes import Note

    infos = {title: _read(_results_folder(title, cfg)) for title, cfg in configs.items()}
    recorded = {title: info for title, info in infos.items() if info is not None}
    missing = [title for title, info in infos.items() if info is None]
    if len(recorded) >= 2:
        text = prov.summary(prov.differences(recorded))
    elif recorded:
        text = f"Only {next(iter(recorded))} has a provenance record: nothing to compare it with."
    else:
        text = "No experiment has a provenance record."
    dirty = [title for title, info in recorded.items() if (info.get("git") or {}).get("dirty")]
    if dirty:  # the changed files themselves are not compared: the same "dirty" commit may hide different code
        text += f" {_join(dirty)} came from a checkout with uncommitted changes."
    if missing:
        text += (f" {_join(missing)}: {NOT_RECORDED} (results computed before provenance was recorded; "
                 "recompute them to record it).")
    return Note(text)


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
