"""What produced a result: code version, environment, machine, threads, device, timings and input digests.

:func:`collect` gathers it as a JSON-ready dict, :func:`write` stores it as ``provenance.json`` in a run or
results folder, :func:`read` loads it back and :func:`differences` / :func:`compare_folders` say where several
results folders disagree in commit or environment (the book shows that table beside its numbers).

Recorded (keys of the dict):

* ``git``: ``available`` (git and a checkout found), ``commit``, ``dirty`` (uncommitted or untracked changes),
  ``changed`` (up to 20 changed paths), ``note`` (why a field is missing: git not installed, not a checkout);
* ``python``: version and implementation;
* ``packages``: the versions of the libraries that change numbers (:data:`NUMERIC_PACKAGES`; None = absent);
* ``espeak_ng``: the library version and the voice data's format version and digest (the synthetic benchmark's
  audio depends on both);
* ``platform``: OS, machine, CPU model, logical CPU count;
* ``threads``: torch's intra-op thread count and the ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` environment;
* ``numerics``: :func:`clapemo.numerics.state`: the mode (portable / fast), the kernel pins, the kernel paths
  actually used (torch's CPU capability, NumPy's dispatch groups, the BLAS and its core type) and any problem;
* ``device``: ``type`` (cpu/cuda, from ``config.train.device``; ``auto`` resolved), GPU name, CUDA version;
* ``steps_s``: wall time per step, as given by the caller;
* ``manifests``: sha256 of each data manifest file given (keyed by the name given, or the path as given);
* ``extra``: what the caller adds (e.g. the synthetic generator's version, profile and seed; a run's id);
* ``config_name`` / ``config_hash``: :func:`clapemo.config.config_hash` of the config given.

Nothing here names the machine (no host name, user or absolute path), so the file can be shared.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from clapemo import numerics
from clapemo.errors import DataError

__all__ = ["COMPARED", "FILENAME", "NUMERIC_PACKAGES", "collect", "compare_folders", "differences", "read",
           "summary", "write"]

#: libraries whose version can move a number (features, synthesis, encoders, training, metrics)
NUMERIC_PACKAGES = ("torch", "numpy", "scipy", "librosa", "praat-parselmouth", "transformers", "ctranslate2",
                    "scikit-learn", "espeakng-loader", "soundfile", "pandas")
FILENAME = "provenance.json"
#: the sections :func:`differences` compares (timings, digests and the config legitimately differ between folders)
COMPARED = ("git", "python", "packages", "espeak_ng", "platform", "threads", "numerics", "device")
SCHEMA_VERSION = 1
_MAX_CHANGED = 20


# ---------------------------------------------------------------------------------------------------------------
# collect
# ---------------------------------------------------------------------------------------------------------------
def _git(args: Sequence[str], cwd: Path) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=True)
    return out.stdout


def git_state(folder: str | Path | None = None) -> dict:
    """Commit and dirtiness of the git checkout holding ``folder`` (default: the clapemo package).

    Returns ``{"available", "commit", "dirty", "changed", "note"}``; without git or outside a checkout
    ``available`` is False, the other fields None and ``note`` says why.
    """
    folder = Path(folder) if folder is not None else Path(__file__).resolve().parent
    state: dict[str, Any] = {"available": False, "commit": None, "dirty": None, "changed": None, "note": None}
    if shutil.which("git") is None:
        state["note"] = "git is not installed"
        return state
    try:
        state["commit"] = _git(["rev-parse", "HEAD"], folder).strip()
        # porcelain v1: "XY path"; untracked files count (a new module changes what runs); ignored ones do not
        lines = [line for line in _git(["status", "--porcelain"], folder).splitlines() if line.strip()]
    except subprocess.CalledProcessError as err:
        state["commit"] = None
        state["note"] = f"not a git checkout ({(err.stderr or '').strip().splitlines()[0] if err.stderr else err})"
        return state
    except (OSError, subprocess.TimeoutExpired) as err:
        state["note"] = f"git failed: {err}"
        return state
    state.update(available=True, dirty=bool(lines), changed=[line[3:] for line in lines[:_MAX_CHANGED]])
    if len(lines) > _MAX_CHANGED:
        state["note"] = f"{len(lines)} changed paths, first {_MAX_CHANGED} listed"
    return state


def package_versions(names: Iterable[str] = NUMERIC_PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution in ``names`` (None when not installed)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def espeak_ng_state() -> dict:
    """espeak-ng library version and voice-data format version + digest, from the ``espeakng-loader`` wheel."""
    state: dict[str, Any] = {"library": None, "data_format": None, "phondata_sha256": None, "note": None}
    if importlib.util.find_spec("espeakng_loader") is None:
        state["note"] = "espeakng-loader is not installed"
        return state
    import ctypes

    import espeakng_loader

    from clapemo.files import file_sha256

    try:
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        state["library"] = lib.espeak_Info(None).decode()  # needs no espeak_Initialize
    except (OSError, AttributeError) as err:
        state["note"] = f"libespeak-ng could not be loaded: {err}"
    phondata = Path(espeakng_loader.get_data_path()) / "phondata"
    if phondata.is_file():
        # espeak-ng's phondata starts with its data format version, little-endian, digits in hex
        # (0x014801 = 1.48.01)
        version = int.from_bytes(phondata.read_bytes()[:4], "little")
        state["data_format"] = f"{version >> 16:x}.{(version >> 8) & 0xFF:02x}.{version & 0xFF:02x}"
        state["phondata_sha256"] = file_sha256(phondata)[:16]
    return state


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``platform.processor()`` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def platform_state() -> dict:
    """OS, architecture, CPU model and logical CPU count."""
    return {"system": platform.system(), "release": platform.release(), "machine": platform.machine(),
            "cpu_model": cpu_model(), "cpu_count": os.cpu_count()}


def thread_state() -> dict:
    """torch's thread counts (None without torch) and the thread-count environment variables."""
    state: dict[str, Any] = {"torch": None, "torch_interop": None}
    if "torch" in sys.modules or importlib.util.find_spec("torch") is not None:
        import torch

        state.update(torch=torch.get_num_threads(), torch_interop=torch.get_num_interop_threads())
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        state[var] = os.environ.get(var)
    return state


def device_state(requested: str = "auto") -> dict:
    """The device a run on ``requested`` (auto/cpu/cuda) uses here: type, GPU name, CUDA version."""
    state: dict[str, Any] = {"requested": requested, "type": "cpu", "gpu": None, "cuda": None}
    if importlib.util.find_spec("torch") is None:
        state["note"] = "torch is not installed"
        return state
    import torch

    state["cuda"] = torch.version.cuda
    if requested == "cuda" or (requested == "auto" and torch.cuda.is_available()):
        state["type"] = "cuda"
        if torch.cuda.is_available():
            state["gpu"] = torch.cuda.get_device_name(0)
    return state


def collect(*, config: Any = None, data_manifests: Iterable[str | Path] | Mapping[str, str | Path] = (),
            steps: Mapping[str, float] | None = None, extra: Mapping[str, Any] | None = None) -> dict:
    """Provenance of a result produced in this process now.

    Parameters
    ----------
    config : clapemo.config.Config or None
        The resolved config of the result: its name and :func:`~clapemo.config.config_hash`, and
        ``train.device`` for the device (``auto`` when None).
    data_manifests : paths, or mapping name -> path
        Manifest (or any input) files whose sha256 is recorded, keyed by the path as given, or by the name when a
        mapping is given (a name such as ``"synth-ravdess/manifest.csv"`` keeps machine paths out of the file).
    steps : mapping str -> float or None
        Wall time in seconds per named step, e.g. ``{"train": 12.3}`` (rounded to 0.01 s).
    extra : mapping or None
        JSON-ready facts of the caller recorded as ``extra`` (e.g. ``{"synth": {"generator_version": 2, ...}}``);
        not compared by :func:`differences`.

    Returns
    -------
    dict, JSON-ready; see the module docstring for its keys.
    """
    from clapemo.files import file_sha256

    named = (dict(data_manifests) if isinstance(data_manifests, Mapping)
             else {str(path): path for path in data_manifests})
    manifests = {}
    for name, path in named.items():
        try:
            manifests[str(name)] = file_sha256(path)
        except OSError as err:
            raise DataError(f"provenance: data manifest {path} cannot be read ({err.strerror or err}); pass "
                            f"existing files as data_manifests") from None
    requested = "auto"
    info: dict[str, Any] = {"schema": SCHEMA_VERSION,
                            "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    if config is not None:
        from clapemo.config import config_hash

        info["config_name"] = getattr(config, "name", None)
        info["config_hash"] = config_hash(config)
        requested = getattr(getattr(config, "train", None), "device", "auto")
    else:
        info["config_name"] = info["config_hash"] = None
    info.update(
        git=git_state(),
        python={"version": platform.python_version(), "implementation": platform.python_implementation()},
        packages=package_versions(),
        espeak_ng=espeak_ng_state(),
        platform=platform_state(),
        threads=thread_state(),
        numerics=numerics.state(),
        device=device_state(requested),
        steps_s={str(k): round(float(v), 2) for k, v in (steps or {}).items()},
        manifests=manifests,
        extra=dict(extra or {}),
    )
    return info


# ---------------------------------------------------------------------------------------------------------------
# write / read
# ---------------------------------------------------------------------------------------------------------------
def write(folder: str | Path, info: Mapping) -> Path:
    """Write ``info`` (from :func:`collect`) to ``<folder>/provenance.json`` atomically; returns the path."""
    from clapemo.files import atomic_write_text

    path = Path(folder) / FILENAME
    atomic_write_text(path, json.dumps(info, indent=2, sort_keys=True, default=str) + "\n")
    return path


def read(folder: str | Path) -> dict:
    """The provenance of a results folder (``<folder>/provenance.json``, or that file's path)."""
    path = Path(folder)
    if path.is_dir():
        path = path / FILENAME
    try:
        info = json.loads(path.read_text())
    except OSError as err:
        raise DataError(f"provenance file {path} cannot be read ({err.strerror or err}); results written before "
                        f"provenance was recorded have none: recompute them") from None
    except json.JSONDecodeError as err:
        raise DataError(f"provenance file {path} is not valid JSON ({err})") from None
    if not isinstance(info, dict):
        raise DataError(f"provenance file {path} holds a {type(info).__name__}, expected a JSON object")
    return info


# ---------------------------------------------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------------------------------------------
def _flatten(info: Mapping, sections: Sequence[str]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for section in sections:
        value = info.get(section)
        if isinstance(value, Mapping):
            for key, sub in value.items():
                if key == "note" or (section == "git" and key == "changed"):
                    continue  # explanations and file lists, not facts to compare
                flat[f"{section}.{key}"] = sub
        else:
            flat[section] = value
    return flat


def differences(infos: Mapping[str, Mapping], *, sections: Sequence[str] = COMPARED) -> Any:
    """The fields in which several provenance records differ.

    Parameters
    ----------
    infos : mapping name -> provenance dict (e.g. results folder -> :func:`read` of it)
    sections : the top-level sections compared (default :data:`COMPARED`: commit and environment, not timings)

    Returns
    -------
    pandas.DataFrame, one row per differing field (``"git.commit"``, ``"packages.torch"``, ...), one column per
    name, values as recorded (None = absent); empty (no rows) when all agree.
    """
    import pandas as pd

    flat = {name: _flatten(info, sections) for name, info in infos.items()}
    fields = sorted({key for record in flat.values() for key in record})
    rows = {}
    for field in fields:
        values = [record.get(field) for record in flat.values()]
        if any(json.dumps(v, sort_keys=True, default=str) != json.dumps(values[0], sort_keys=True, default=str)
               for v in values[1:]):
            rows[field] = values
    frame = pd.DataFrame(list(rows.values()), index=pd.Index(list(rows), name="field"), columns=list(flat),
                         dtype=object)  # object: an absent value stays None (not NaN), versions stay strings
    return frame


def compare_folders(folders: Sequence[str | Path] | Mapping[str, str | Path]) -> Any:
    """:func:`differences` of the ``provenance.json`` of several results folders.

    ``folders``: paths (named by their path) or name -> path. A folder without ``provenance.json`` shows
    ``provenance = "missing"`` (so it is never silently taken as equal).
    """
    named = dict(folders) if isinstance(folders, Mapping) else {str(f): f for f in folders}
    infos = {}
    for name, folder in named.items():
        path = Path(folder)
        infos[name] = read(path) if (path / FILENAME).is_file() or path.is_file() else {"provenance": "missing"}
    sections = (*COMPARED, "provenance")
    return differences(infos, sections=sections)


def summary(diff: Any) -> str:
    """One sentence for a :func:`differences` table: agreement, or the differing commit / packages / rest."""
    if len(diff) == 0:
        return "All results come from the same commit and environment."
    fields = list(diff.index)
    parts = []
    if "provenance" in fields:
        parts.append("some folders have no provenance record")
    if any(f in ("git.commit", "git.dirty") for f in fields):
        parts.append("commit" + (" (uncommitted changes)" if "git.dirty" in fields else ""))
    packages = [f.split(".", 1)[1] for f in fields if f.startswith(("packages.", "espeak_ng."))]
    if packages:
        parts.append("library versions (" + ", ".join(packages) + ")")
    rest = [f for f in fields if not f.startswith(("git.", "packages.", "espeak_ng.")) and f != "provenance"]
    if rest:
        parts.append(", ".join(rest))
    return "The results differ in " + "; ".join(parts) + "."
