"""Run one notebook with papermill, its progress on the terminal (``clapemo book run``, used by the Makefile).

The kernel starts in the project root (or ``cwd``) with the interpreter running this (its folder first on
``PATH``, so the ``python3`` kernelspec that ipykernel ships is this environment's). Its progress bars and step
lines reach the terminal through the side channel of :mod:`clapemo.book.progress`; the executed notebook holds
none of them. The kernel's log level is ERROR: it otherwise warns, for every notebook, that it runs over TCP
without encryption (a local kernel whose ports only papermill knows).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping, TextIO

from clapemo.book.config import project_path, root
from clapemo.book.progress import PROGRESS_ENV, Relay
from clapemo.errors import ClapEmoError, DataError

__all__ = ["run_notebook", "fold_injected_parameters", "KERNEL_ARGUMENTS", "NOTEBOOK_ENV"]

#: extra kernel command-line arguments (see the module docstring)
KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=ERROR",)
#: the environment variable naming the executed notebook (its stem) inside the kernel: the source lines under
#: tables and figures name the notebook and cell that made them (:mod:`clapemo.book.source`)
NOTEBOOK_ENV = "CLAPEMO_NOTEBOOK"


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _first_lines(path: Path, *, injected: bool) -> list[str]:
    """The first non-blank line of each code cell, with papermill's injected cell after the parameters cell."""
    import nbformat

    out = []
    for cell in nbformat.read(str(path), as_version=4).cells:
        if cell.cell_type != "code":
            continue
        lines = [line for line in cell.source.splitlines() if line.strip()]
        out.append(lines[0].strip() if lines else "")
        if injected and "parameters" in cell.metadata.get("tags", []):
            out.append("# Parameters")  # papermill's injected-parameters cell starts so
    return out


def run_notebook(notebook: str | os.PathLike, output: str | os.PathLike, *,
                 parameters: Mapping[str, Any] | None = None, cwd: str | os.PathLike | None = None,
                 progress: bool = True, out: TextIO | None = None) -> Path:
    """Execute ``notebook`` into ``output`` with papermill (kernel ``python3``), showing its steps and progress
    bars on ``out`` (default stderr) when ``progress``.

    Parameters
    ----------
    notebook, output : paths (relative: under the project root).
    parameters : papermill parameters (injected after the ``parameters`` cell).
    cwd : the kernel's working directory (default: the project root).

    Returns
    -------
    Path of the executed notebook.

    Raises
    ------
    ClapEmoError
        Naming the notebook and the failing cell's error when a cell fails (the output notebook is still
        written, with the error in it).
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook, output = project_path(notebook), project_path(output)
    if not notebook.is_file():
        raise DataError(f"notebook {notebook} does not exist")
    output.parent.mkdir(parents=True, exist_ok=True)
    out = out if out is not None else sys.stderr
    label = notebook.stem
    cells = _first_lines(notebook, injected=bool(parameters))
    bin_dir = str(Path(sys.executable).parent)
    with tempfile.TemporaryDirectory(prefix="clapemo-progress-") as tmp:
        channel = Path(tmp) / "progress.log"
        relay = Relay(channel, label=label, cells=cells, out=out) if progress else contextlib.nullcontext()
        env = {"PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), PROGRESS_ENV: str(channel) if progress
               else "", NOTEBOOK_ENV: output.stem}
        with _environ(**env), relay:
            try:
                papermill.execute_notebook(str(notebook), str(output), parameters=dict(parameters or {}),
                                           kernel_name="python3", cwd=str(cwd if cwd is not None else root()),
                                           progress_bar=False, log_output=False,
                                           extra_arguments=list(KERNEL_ARGUMENTS))
            except PapermillExecutionError as err:
                raise ClapEmoError(f"notebook {notebook.name}: cell {err.exec_count} failed with {err.ename}: "
                                   f"{err.evalue} (the executed notebook with the traceback: {output})") from None
    fold_injected_parameters(output)
    return output


def fold_injected_parameters(path: str | os.PathLike) -> None:
    """Fold (tag ``hide-input``) the parameters cell papermill injected into an executed notebook, as the
    notebook's own parameters cell is: the book shows results first, set-up one click away."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    changed = False
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "hide-input" not in tags:
            tags.append("hide-input")
            changed = True
    if changed:
        nbformat.write(nb, str(path))
