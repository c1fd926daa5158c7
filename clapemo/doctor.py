"""``clapemo doctor``: is this environment the one the book's numbers came from?

It prints the installed packages against the lock (``requirements.lock``: every package version of the
environment that produced the book, written by ``make lock`` / ``clapemo doctor --write-lock``), the device, the
thread settings, the data folders found, and names everything that would make a run differ from the book's:

* a package missing, or at another version than the lock (the local build label, e.g. ``+cpu``, is shown
  but not compared: the lock pins ``torch==2.13.0``, which a CPU or a CUDA build satisfies);
* a dirty git tree (uncommitted or untracked changes) or no git checkout at all;
* a training thread count that is not fixed (``train.num_threads = 0`` follows the machine's core count, and
  float sums change with it) or ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` set to something else;
* numerics (:mod:`clapemo.numerics`) that are not the portable ones: fast mode, or a library using wider kernels
  than AVX2 (imported before clapemo); ``--env`` prints the variables to export for processes clapemo does not
  start itself (dask workers elsewhere);
* with ``--against FOLDER``: any difference in commit or environment from that results folder's
  ``provenance.json`` (:mod:`clapemo.provenance`).

Exit status 0 when everything matches, 1 when something differs (2 for a usage error). Packages installed
beside the lock (not in it) are listed as notes only: they do not change clapemo's numbers unless imported.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clapemo.errors import DataError

__all__ = ["LOCK_NAME", "Finding", "canonical_name", "check_against", "check_git", "check_threads", "cli",
           "compare_lock", "data_folders", "numerics_summary", "default_lock_path", "diagnose", "freeze_lines", "installed_versions",
           "public_version", "read_lock", "required_distributions", "write_lock"]

LOCK_NAME = "requirements.lock"
_LOCK_HEADER = """\
# The environment the book's numbers come from: every installed package, pinned (pip constraints format).
# `make setup` installs with `pip install -c {name}`; refresh with `make lock` (clapemo doctor --write-lock)
# after changing the extras in pyproject.toml. Local build labels (+cpu, +cu126) are dropped: any build of
# the pinned torch version satisfies it. Python {python}.
"""
_LINE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)\s*(?:#.*)?$")


@dataclass(frozen=True)
class Finding:
    """One line of the diagnosis: ``differs`` (would change a run: exit 1) or a note."""

    topic: str
    message: str
    differs: bool = True


# ---------------------------------------------------------------------------------------------------------------
# the lock
# ---------------------------------------------------------------------------------------------------------------
def canonical_name(name: str) -> str:
    """PEP 503 normalised distribution name (``PyYAML`` -> ``pyyaml``, ``ruamel.yaml`` -> ``ruamel-yaml``).

    One regular expression (the PEP's own rule), so that ``import clapemo.doctor`` needs no ``packaging``.
    """
    return re.sub(r"[-_.]+", "-", name).lower()


def public_version(version: str) -> str:
    """A version without its local build label: ``2.13.0+cpu`` -> ``2.13.0``."""
    return version.split("+", 1)[0]


def default_lock_path() -> Path:
    """``requirements.lock`` at the project root (beside ``pyproject.toml``), or in the working folder when the
    package is installed without its project folder."""
    from clapemo.config import project_root

    root = project_root()
    return (root if root is not None else Path.cwd()) / LOCK_NAME


#: installers kept in the lock although nothing requires them (make setup upgrades pip under the lock)
_INSTALLERS = ("pip", "setuptools", "wheel")


def required_distributions(root: str = "clapemo", *, extras: Sequence[str] = ("all",)) -> set[str]:
    """Canonical names of the installed distributions ``root[extras]`` needs, transitively (markers evaluated
    here, extras followed), plus :data:`_INSTALLERS`.

    Written here because pip has no "freeze only what this project needs"; the requirement and marker
    parsing is ``packaging``'s.
    """
    from packaging.requirements import Requirement

    needed: set[str] = set(_INSTALLERS)
    seen: set[tuple[str, str]] = set()
    todo = [(canonical_name(root), extra) for extra in ("", *extras)]
    while todo:
        name, extra = todo.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        try:
            requirements = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # required but not installed: compare_lock reports it from the lock's side
        needed.add(name)
        for line in requirements:
            req = Requirement(line)
            if req.marker is not None and not req.marker.evaluate({"extra": extra}):
                continue
            if req.marker is None and extra:
                continue  # unconditional requirements were followed with extra ""
            child = canonical_name(req.name)
            todo += [(child, e) for e in ("", *sorted(req.extras))]
    return needed


def freeze_lines(*, exclude: Sequence[str] = ("clapemo",), only_required: bool = True) -> list[str]:
    """``name==version`` of the packages of this interpreter, from ``pip freeze --all --exclude-editable``.

    With ``only_required`` (the default), only what ``clapemo[all]`` needs (:func:`required_distributions`):
    tools installed by hand beside it (a profiler, a linter) stay out of the lock, so that ``make setup`` on a
    fresh machine installs exactly the lock. A package installed from a file or URL (``name @ file:///...``) is
    written as ``name==<its version>``, so the lock never holds a path of this machine; local build labels are
    dropped (see :func:`public_version`).
    """
    keep = required_distributions() if only_required else None
    try:
        out = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
                             capture_output=True, text=True, check=True, timeout=300).stdout
    except (OSError, subprocess.SubprocessError) as err:
        raise DataError(f"`{sys.executable} -m pip freeze` failed ({err}); is pip installed in this "
                        f"environment?") from None
    skip = {canonical_name(n) for n in exclude}
    lines = {}
    for raw in out.splitlines():
        raw = raw.strip()
        if not raw or raw.startswith(("#", "-e ")):
            continue
        if " @ " in raw:
            name = raw.split(" @ ", 1)[0].strip()
            version = importlib.metadata.version(name)
        else:
            match = _LINE.match(raw)
            if match is None:
                raise DataError(f"pip freeze printed a line the lock cannot hold: {raw!r}")
            name, version = match.groups()
        key = canonical_name(name)
        if key not in skip and (keep is None or key in keep):
            lines[key] = f"{name}=={public_version(version)}"
    return [lines[key] for key in sorted(lines)]


def write_lock(path: str | Path | None = None) -> Path:
    """Write :func:`freeze_lines` to ``path`` (default :func:`default_lock_path`) atomically; returns the path."""
    import platform

    from clapemo.files import atomic_write_text

    path = Path(path) if path is not None else default_lock_path()
    text = _LOCK_HEADER.format(name=path.name, python=platform.python_version()) + "\n".join(freeze_lines()) + "\n"
    atomic_write_text(path, text)
    return path


def read_lock(path: str | Path) -> dict[str, tuple[str, str]]:
    """The pins of a lock file: canonical name -> (name as written, version).

    Raises :class:`~clapemo.errors.DataError` naming the file and line for anything but ``name==version``,
    comments and blank lines.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise DataError(f"lock file {path} cannot be read ({err.strerror or err}); write one with `make lock`")\
            from None
    pins: dict[str, tuple[str, str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise DataError(f"{path}, line {number}: {line.strip()!r} is not 'name==version'")
        name, version = match.groups()
        pins[canonical_name(name)] = (name, version)
    return pins


def installed_versions() -> dict[str, str]:
    """canonical name -> version of every distribution this interpreter sees (first on ``sys.path`` wins)."""
    out: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name and canonical_name(name) not in out:
            out[canonical_name(name)] = dist.version
    return out


def compare_lock(pins: Mapping[str, tuple[str, str]], installed: Mapping[str, str], *,
                 ignore: Sequence[str] = ("clapemo",)) -> list[Finding]:
    """Findings for each pinned package missing or at another version, and a note for unpinned extras."""
    skip = {canonical_name(n) for n in ignore}
    findings = []
    for key in sorted(pins):
        name, want = pins[key]
        have = installed.get(key)
        if have is None:
            findings.append(Finding("packages", f"{name} is not installed (lock: {want})"))
        elif public_version(have) != public_version(want):
            findings.append(Finding("packages", f"{name} {have} is installed, the lock has {want}"))
    extra = sorted(k for k in installed if k not in pins and k not in skip)
    if extra:
        findings.append(Finding("packages", f"{len(extra)} package(s) not in the lock: {', '.join(extra)}",
                                differs=False))
    return findings


# ---------------------------------------------------------------------------------------------------------------
# the other checks
# ---------------------------------------------------------------------------------------------------------------
def check_git(state: Mapping[str, Any]) -> list[Finding]:
    """Findings for a :func:`clapemo.provenance.git_state`: no checkout, or uncommitted changes."""
    if not state.get("available"):
        return [Finding("git", f"no commit to compare with: {state.get('note')}")]
    if state.get("dirty"):
        changed = state.get("changed") or []
        shown = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
        return [Finding("git", f"the tree at {state['commit'][:12]} has uncommitted changes ({shown})")]
    return []


def check_threads(*, train_threads: int, threads: Mapping[str, Any]) -> list[Finding]:
    """Findings for the thread settings.

    Parameters
    ----------
    train_threads : ``train.num_threads`` of the config (0 = torch's default, which follows the core count)
    threads : :func:`clapemo.provenance.thread_state` (``torch``, ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``)
    """
    findings = []
    if train_threads == 0:
        findings.append(Finding("threads", f"train.num_threads = 0 trains with torch's default, here "
                                           f"{threads.get('torch')} threads (the core count): sums, and so numbers, "
                                           f"change with the machine; the book's configs fix it (1)"))
    from clapemo import numerics

    pinned = numerics.environment() if numerics.portable() else {}
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        value = threads.get(var)
        if str(value) == pinned.get(var):  # portable numerics fix it on purpose (clapemo.numerics)
            continue
        if value not in (None, "") and train_threads and str(value) != str(train_threads):
            findings.append(Finding("threads", f"{var}={value} while training uses {train_threads} thread(s): "
                                               f"feature and embedding steps run with {value}", differs=False))
    return findings


def check_against(reference: Mapping, here: Mapping, *, name: str = "reference") -> list[Finding]:
    """Findings for every commit/environment field in which ``here`` differs from a recorded provenance."""
    from clapemo import provenance

    diff = provenance.differences({name: reference, "here": here})
    return [Finding("provenance", f"{field}: {row[name]!r} in {name}, {row['here']!r} here")
            for field, row in diff.iterrows()]


def data_folders(config: Any) -> list[tuple[str, str]]:
    """(what, description) of the data folders the config points to: synthetic profiles, caches, runs, results."""
    rows = []
    synth = Path(config.data.synth_root)
    profiles = sorted(p.name for p in synth.iterdir() if p.is_dir()) if synth.is_dir() else []
    for profile in profiles:
        corpora = sorted(p.name for p in (synth / profile).iterdir() if p.is_dir())
        rows.append((f"synthetic benchmark ({profile})", f"{synth / profile}: {len(corpora)} corpora"
                                                         + (f" ({', '.join(corpora)})" if corpora else "")))
    if not profiles:
        rows.append(("synthetic benchmark", f"{synth}: none generated yet (make data PROFILE=...)"))
    for what, folder in (("feature cache", config.features.cache_dir), ("embedding cache", config.encoders.cache_dir),
                         ("trained runs", config.train.runs_dir), ("results", config.evaluate.results_dir)):
        folder = Path(folder)
        if folder.is_dir():
            rows.append((what, f"{folder}: {sum(1 for _ in folder.iterdir())} entries"))
        else:
            rows.append((what, f"{folder}: absent"))
    return rows


def _latest_provenance(results_dir: Path) -> Path | None:
    found = sorted(results_dir.glob("*/*/provenance.json"), key=lambda p: p.stat().st_mtime) \
        if results_dir.is_dir() else []
    return found[-1].parent if found else None


def numerics_summary(state: Mapping[str, Any]) -> str:
    """One line of :func:`clapemo.numerics.state`: the mode and the kernel paths in use."""
    torch_state = state.get("torch") or {}
    blas = ", ".join(f"{b.get('internal_api')} {b.get('architecture') or ''} ({b.get('num_threads')} thread(s))"
                     for b in state.get("blas") or []) or "not loaded"
    wide = state.get("numpy", {}).get("dispatch_enabled") or []
    return (f"{state.get('mode')}; torch kernels {torch_state.get('cpu_capability', 'not loaded')}, NumPy dispatch "
            f"{', '.join(wide) or 'baseline only'}, BLAS {blas}"
            + (f"; kept from the environment: {state['kept']}" if state.get("kept") else ""))


def diagnose(*, config: Any, lock: str | Path | None = None, against: str | Path | None = None,
             installed: Mapping[str, str] | None = None) -> tuple[list[tuple[str, str]], list[Finding]]:
    """Everything ``clapemo doctor`` reports: (facts to print, findings).

    Parameters
    ----------
    config : the resolved config (thread count, data folders, device)
    lock : lock file (default :func:`default_lock_path`); a missing file is a finding
    against : a results folder whose ``provenance.json`` the environment is compared with (None: none)
    installed : canonical name -> version (default :func:`installed_versions`; tests pass a fake one)
    """
    from clapemo import provenance

    lock = Path(lock) if lock is not None else default_lock_path()
    installed = installed_versions() if installed is None else installed
    here = provenance.collect(config=config)
    facts: list[tuple[str, str]] = []
    findings: list[Finding] = []
    if lock.is_file():
        pins = read_lock(lock)
        facts.append(("lock", f"{lock} ({len(pins)} packages)"))
        findings += compare_lock(pins, installed)
    else:
        findings.append(Finding("packages", f"no lock file at {lock}: cannot compare versions (make lock)"))
    versions = ", ".join(f"{k} {v}" for k, v in here["packages"].items() if v)
    facts.append(("python", f"{here['python']['version']} ({sys.executable})"))
    facts.append(("libraries", versions))
    esp = here["espeak_ng"]
    facts.append(("espeak-ng", f"library {esp['library']}, data format {esp['data_format']}"))
    git = here["git"]
    facts.append(("git", f"{git['commit'][:12]}{' (dirty)' if git['dirty'] else ''}" if git["available"]
                  else str(git["note"])))
    findings += check_git(git)
    dev = here["device"]
    facts.append(("device", f"{dev['type']}" + (f" ({dev['gpu']})" if dev["gpu"] else "")
                  + f"; train.device = {dev['requested']}; CPU {here['platform']['cpu_model']}, "
                    f"{here['platform']['cpu_count']} cores"))
    if dev["requested"] == "cuda" and not dev["gpu"]:
        findings.append(Finding("device", "train.device = cuda but no CUDA device is available"))
    th = here["threads"]
    facts.append(("threads", (f"train.num_threads = {config.train.num_threads}; torch default {th['torch']} "
                              f"(interop {th['torch_interop']}); OMP_NUM_THREADS={th['OMP_NUM_THREADS']}, "
                              f"MKL_NUM_THREADS={th['MKL_NUM_THREADS']}")))
    findings += check_threads(train_threads=config.train.num_threads, threads=th)
    facts.append(("numerics", numerics_summary(here["numerics"])))
    findings += [Finding("numerics", problem) for problem in here["numerics"]["problems"]]
    facts += data_folders(config)
    if against is not None:
        reference = provenance.read(against)
        facts.append(("compared with", f"{against} (provenance.json)"))
        findings += check_against(reference, here, name=str(against))
    return facts, findings


def cli(argv: Sequence[str]) -> int:
    """``clapemo doctor [--config ...] [--lock FILE] [--against FOLDER | --latest] [--write-lock [FILE]]``."""
    from clapemo.config import add_config_arguments, config_from_args

    parser = argparse.ArgumentParser(
        prog="clapemo doctor", description="Check this environment against the lock, and name what would make "
        "a run differ from the book's. Exit status 0: all matches; 1: something differs.")
    add_config_arguments(parser)
    parser.add_argument("--lock", default=None, help=f"lock file (default: {LOCK_NAME} at the project root)")
    parser.add_argument("--against", default=None, metavar="FOLDER",
                        help="also compare with the provenance.json of this results folder")
    parser.add_argument("--latest", action="store_true",
                        help="compare with the newest results folder under evaluate.results_dir")
    parser.add_argument("--write-lock", nargs="?", const="", default=None, metavar="FILE",
                        help="write the lock of this environment (default file: the project's) and exit")
    parser.add_argument("--env", action="store_true",
                        help="print the portable-numerics variables as shell exports (for dask workers, a "
                             "JupyterLab server, a script that imports NumPy before clapemo) and exit")
    args = parser.parse_args(list(argv))
    if args.env:
        from clapemo import numerics

        print("\n".join(f"export {name}={shlex.quote(value)}" for name, value in numerics.environment().items()))
        return 0
    if args.write_lock is not None:
        path = write_lock(args.write_lock or args.lock or None)
        print(f"wrote {path} ({len(read_lock(path))} packages)")
        return 0
    config = config_from_args(args, default="training")
    against = args.against
    if args.latest and against is None:
        against = _latest_provenance(Path(config.evaluate.results_dir))
    facts, findings = diagnose(config=config, lock=args.lock, against=against)
    width = max(len(what) for what, _ in facts)
    for what, text in facts:
        print(f"{what:<{width}}  {text}")
    differs = [f for f in findings if f.differs]
    notes = [f for f in findings if not f.differs]
    for f in notes:
        print(f"note: {f.topic}: {f.message}")
    print()
    if differs:
        print(f"{len(differs)} thing(s) would make a run differ from the book's:")
        for f in differs:
            print(f"  - {f.topic}: {f.message}")
        return 1
    print("everything matches the book's environment")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(cli(sys.argv[1:]))

