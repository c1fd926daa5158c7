"""The line under every table and figure of the book: where its numbers come from.

``Source: table3/1a2b3c4d5e6f/results.csv (download) · config table3_ear 1a2b3c4d5e6f · commit 0123456789ab ·
made by book.format_table3(side, results=results) in 02_ear_table.ipynb``: the results file the table or figure reads (copied next to the built pages, so the link
downloads the numbers behind it), the artefact's config name and hash (its results folder), the commit that
computed them (from the folder's ``provenance.json``), and the call of the notebook cell that made the table (the
cell just above, folded; the link downloads the executed notebook).

:func:`source` is called by a notebook cell right after the cell that shows a result; the built book's check
(:mod:`clapemo.book.check`) fails a page whose results lack it (class :data:`CSS_CLASS`).
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clapemo.book.config import root

if TYPE_CHECKING:  # pragma: no cover
    from clapemo.config import Config

__all__ = ["CSS_CLASS", "SourceLine", "source", "source_frame"]

#: the class of the source line's element, which the book check looks for under each result
CSS_CLASS = "clapemo-source"
#: where the results files are copied for the built book (``html_static_path`` copies it to ``_static``)
STATIC_RESULTS = Path("book") / "_static" / "results"
#: characters of a hash or commit shown
_SHORT = 12
#: characters of the call that made a result, shown
_CALL_CHARS = 60


class SourceLine:
    """A rendered source line (HTML in the book, text elsewhere)."""

    def __init__(self, parts: list[tuple[str, str | None]]) -> None:
        self.parts = parts  # (text, link or None)

    def __repr__(self) -> str:
        return "Source: " + " · ".join(text for text, _ in self.parts)

    def _repr_html_(self) -> str:
        shown = [f'<a href="{html.escape(link)}" download>{html.escape(text)}</a>' if link else html.escape(text)
                 for text, link in self.parts]
        return f'<div class="{CSS_CLASS}">Source: {" · ".join(shown)}</div>'

    def _repr_markdown_(self) -> str:
        return "Source: " + " · ".join(f"[{text}]({link})" if link else text for text, link in self.parts)


def _commit(folder: Path) -> str:
    """The commit recorded in the folder's provenance, shortened (``dirty`` when the tree had changes)."""
    from clapemo import provenance

    if not (folder / provenance.FILENAME).is_file():
        return "commit not recorded"
    git = provenance.read(folder).get("git") or {}
    if not git.get("commit"):
        return f"commit unknown ({git.get('note') or 'git not recorded'})"
    return "commit " + str(git["commit"])[:_SHORT] + (" (uncommitted changes)" if git.get("dirty") else "")


def _cell(notebook: str) -> tuple[str, str | None]:
    """The executing cell's number and a link to the executed notebook (``_sources`` of the built book); the
    notebook is the one ``clapemo book run`` executes (:data:`clapemo.book.execute.NOTEBOOK_ENV`), else
    ``notebook``."""
    import os

    from clapemo.book.execute import NOTEBOOK_ENV

    notebook = os.environ.get(NOTEBOOK_ENV) or notebook
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the notebook extras
        return f"{notebook}.ipynb", None
    shell = get_ipython()
    history = shell.user_ns.get("In", []) if shell is not None else []
    # In[-1] is this cell, In[-2] the one that showed the result (papermill runs the cells in order)
    made_by = next((line.strip() for line in (history[-2] if len(history) >= 2 else "").splitlines()
                    if line.strip() and not line.lstrip().startswith("#")), "")
    if len(made_by) > _CALL_CHARS:
        made_by = made_by[:_CALL_CHARS - 1] + "…"
    text = f"made by {made_by} in {notebook}.ipynb" if made_by else f"{notebook}.ipynb"
    return text, f"../_sources/executed/{notebook}.ipynb"


def _artefact_parts(record: Any, config: "Config", file: str, static_dir: Path) -> list[tuple[str, str | None]]:
    """The download link (or why there is none) and the config of one artefact's results file."""
    folder = record.results_dir(config)
    path = folder / file
    if path.is_file():
        rel = Path(record.name) / folder.name / file
        target = static_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        first = (f"{record.name}/{folder.name[:_SHORT]}/{file} (download)", "../_static/results/" + rel.as_posix())
    else:
        first = (f"{record.name}: {file} not written (the artefact did not run)", None)
    return [first, (f"config {record.config_name} {folder.name[:_SHORT]}", None)]


def source(artefact: Any, config: "Config | None" = None, *, file: str = "results.csv",
           static_dir: str | Path | None = None) -> SourceLine:
    """The source line of a result computed with ``config`` of ``artefact`` (an
    :class:`clapemo.experiments.Artefact` or its name), or of several (``artefact``: a mapping artefact ->
    config, ``config`` None): ``file`` of each results folder, copied to ``book/_static/results/`` for download.

    The call it names is the one of the cell executed just before this one (the cell that shows the result).
    ``static_dir``: where the files are copied (default ``<project>/book/_static/results``, which the built book
    serves as ``_static/results``).
    """
    from clapemo import experiments

    pairs = dict(artefact) if isinstance(artefact, dict) else {artefact: config}
    parts: list[tuple[str, str | None]] = []
    commits = []
    notebook = ""
    for name, cfg in pairs.items():
        record = experiments.artefact(name)
        notebook = notebook or record.notebook
        parts += _artefact_parts(record, cfg, file, Path(static_dir) if static_dir else root() / STATIC_RESULTS)
        commits.append(_commit(record.results_dir(cfg)))
    parts += [(c, None) for c in dict.fromkeys(commits)]
    parts.append(_cell(notebook))
    return SourceLine(parts)


def _current_commit() -> str:
    """The commit of the project's checkout now (for results computed in the notebook itself)."""
    from clapemo import provenance

    git = provenance.git_state(root())
    if not git.get("commit"):
        return f"commit unknown ({git.get('note') or 'no git'})"
    return "commit " + str(git["commit"])[:_SHORT] + (" (uncommitted changes)" if git.get("dirty") else "")


def source_frame(frame: Any, config: "Config", *, name: str, static_dir: str | Path | None = None) -> SourceLine:
    """The source line of a table or figure computed in the notebook itself (chapter 1's corpus, bins and
    probes): ``frame`` (the numbers behind it) written as ``<name>.csv`` for download, the config's name and
    hash, the checkout's commit and the call of the cell just before.

    Parameters
    ----------
    frame : DataFrame (or a pandas Styler of one) behind the table or figure
    config : the config the notebook ran
    name : the file's name, without ``.csv`` (letters, digits, ``_`` and ``-``)
    """
    import os
    import re

    from clapemo.book.execute import NOTEBOOK_ENV
    from clapemo.config import config_hash
    from clapemo.errors import ParameterError
    from clapemo.files import atomic_write_text

    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ParameterError(f"name = {name!r} must be letters, digits, '_' or '-' (it names a CSV file)")
    data = getattr(frame, "data", frame)  # a Styler shows its frame
    notebook = os.environ.get(NOTEBOOK_ENV) or "notebook"
    if not hasattr(data, "to_csv"):  # a Note in place of a result that could not be computed
        return SourceLine([(f"{name}: not computed ({frame})", None), _cell(notebook)])
    digest = config_hash(config)
    rel = Path(notebook) / digest / f"{name}.csv"
    base = Path(static_dir) if static_dir else root() / STATIC_RESULTS
    atomic_write_text(base / rel, data.to_csv(index=not _plain_index(data)))
    return SourceLine([(f"{name}.csv (download)", "../_static/results/" + rel.as_posix()),
                       (f"config {config.name} {digest[:_SHORT]}", None), (_current_commit(), None),
                       _cell(notebook)])


def _plain_index(frame: Any) -> bool:
    """Whether a frame's index is a plain 0..n-1 range (not worth a column in the CSV)."""
    import pandas as pd

    return isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1
