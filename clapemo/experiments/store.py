"""The result store: each artefact's results for a config live in ``<evaluate.results_dir>/<artefact>/<config
hash>/``, computed once and read back after.

A folder holds ``results.csv`` (tidy, per seed), ``items.csv`` (per seed and test item: what the paired claims
need), ``summary.csv`` / ``summary.json``, ``side_by_side.csv`` (ours beside the paper's, for the paper's
artefacts), ``config.yaml`` (the resolved config, no machine paths) and ``provenance.json`` (commit,
environment, wall time and the digests of the data read: :mod:`clapemo.provenance`). ``results.csv`` is written
last: its presence means the folder is complete.

Above :mod:`~clapemo.experiments.paper`; knows no artefact (the artefact record passes its facts).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Sequence

from clapemo.config import Config, config_hash, stored_dict
from clapemo.experiments.paper import side_by_side
from clapemo.experiments.scoring import summarize

__all__ = ["results_folder", "data_provenance", "cached", "read_results"]

#: the columns read as text whatever they hold (a run id of digits stays a text)
_TEXT_COLUMNS = {"run_id": str, "status": str, "trained_on": str}


def results_folder(config: Config, artefact: str) -> Path:
    """``<evaluate.results_dir>/<artefact>/<config_hash>``."""
    return Path(config.evaluate.results_dir) / artefact / config_hash(config)


def data_provenance(config: Config, names: Sequence[str]) -> tuple[dict[str, Path], dict]:
    """The data files of the corpora ``names`` (as loaded) for :func:`clapemo.provenance.collect`, and what else
    says which data.

    Returns ``(manifests, extra)``: ``manifests`` maps ``<corpus>/<file>`` (no machine path) to the file: a
    synthetic corpus's ``manifest.csv``, a real corpus's ``labels.csv`` when its root has one (the other real
    loaders build their manifest from file names: listed in ``extra["data"]["not_digested"]``); ``extra`` holds
    the corpora and, for the synthetic source, the generator version, profile and seed.
    """
    from clapemo import corpora, synth

    manifests: dict[str, Path] = {}
    not_digested = []
    for name in names:
        if name.startswith("synth-"):
            path = corpora.synth_root(config) / name / synth.MANIFEST
        else:
            root = config.data.roots.get(name)
            path = Path(root) / "labels.csv" if root else Path()
        if path.name and path.is_file():
            manifests[f"{name}/{path.name}"] = path
        else:
            not_digested.append(name)
    extra: dict[str, Any] = {"data": {"source": config.data.source, "corpora": list(names),
                                      "not_digested": not_digested}}
    if config.data.source == "synth":
        extra["synth"] = {"generator_version": synth.GENERATOR_VERSION, "profile": config.synth.profile,
                          "seed": config.synth.seed}
    return manifests, extra


def read_results(folder: Path, items: Any = None) -> Any:
    """``results.csv`` of a folder, with its per-item results in ``attrs["items"]`` (read from ``items.csv``
    unless given)."""
    import pandas as pd

    df = pd.read_csv(folder / "results.csv", dtype=_TEXT_COLUMNS)
    df.attrs["items"] = pd.read_csv(folder / "items.csv", dtype={"item": str}) if items is None else items
    return df


def cached(artefact: str, config: Config, compute: Callable[[], Any], *, by: Sequence[str], paper: Any,
           corpora_read: Callable[[], Sequence[str]], force: bool, progress: bool) -> Any:
    """Compute ``(results, items)`` once per config and keep them in the artefact's results folder.

    Parameters
    ----------
    artefact : the artefact's name (its folder under ``evaluate.results_dir``)
    compute : returns ``(results, items)`` frames
    by : the summary keys (:func:`~clapemo.experiments.summarize`)
    paper : the paper's frame of this artefact (``side_by_side.csv``), or None (no paper numbers)
    corpora_read : the corpora the artefact loads, for the provenance's data digests
    force : recompute even when the folder is complete

    Returns
    -------
    The results frame, as read back from ``results.csv`` (a fresh run returns exactly what a later cached read
    returns: dtypes, float text), per-item results in ``attrs["items"]``.
    """
    import yaml

    from clapemo import provenance
    from clapemo.files import atomic_write_text

    folder = results_folder(config, artefact)
    path, items_path = folder / "results.csv", folder / "items.csv"
    if path.is_file() and items_path.is_file() and not force:
        if progress:
            print(f"[{artefact}] reading {path}")
        return read_results(folder)
    start = time.perf_counter()
    df, items = compute()
    summary = summarize(df, by=by)
    atomic_write_text(items_path, items.to_csv(index=False))
    atomic_write_text(folder / "summary.csv", summary.to_csv(index=False))
    atomic_write_text(folder / "summary.json", summary.to_json(orient="records", indent=1))
    if paper is not None:
        atomic_write_text(folder / "side_by_side.csv", side_by_side(summary, paper).to_csv(index=False))
    meta = {"artefact": artefact, "config_hash": config_hash(config),
            "seconds": round(time.perf_counter() - start, 1)}
    atomic_write_text(folder / "config.yaml",
                      yaml.safe_dump({"_meta": meta, **stored_dict(config)}, sort_keys=False))
    manifests, extra = data_provenance(config, corpora_read())
    provenance.write(folder, provenance.collect(config=config, data_manifests=manifests, extra=extra,
                                                steps={"compute": time.perf_counter() - start}))
    atomic_write_text(path, df.to_csv(index=False))  # results.csv last: its presence means the folder is complete
    if progress:
        print(f"[{artefact}] wrote {folder} ({meta['seconds']} s)")
    return read_results(folder, items)
