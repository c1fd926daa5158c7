"""What a chapter shows when part of it cannot run: a "not run: needs ..." note instead of a failure.

An experiment that cannot run with the corpora a config provides raises :class:`clapemo.experiments.NotRun`
(e.g. ``data.source: real`` without the evaluation corpus). :func:`run_artefact` turns that into an *empty
result frame* (the artefact's columns, no rows) carrying the reason in ``attrs["not_run"]`` and shows the reason
as the cell's output; the book helpers given such a frame (or a table made from it) return a :class:`Note`
instead of a table or a figure, so the rest of the chapter renders notes and the book still builds.
"""

from __future__ import annotations

import functools
import html
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from clapemo.config import Config

__all__ = ["Note", "not_run_reason", "not_run_frame", "tolerates_not_run", "run_artefact", "claims"]

class Note:
    """A short message a notebook cell shows in place of a table or a figure (HTML, Markdown or text)."""

    def __init__(self, text: str) -> None:
        self.text = str(text)

    def __repr__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Note) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def _repr_html_(self) -> str:
        return f'<div class="clapemo-note"><p>{html.escape(self.text)}</p></div>'

    def _repr_markdown_(self) -> str:
        return f"> **Note:** {self.text}"


def not_run_reason(obj: Any) -> str | None:
    """The not-run reason carried by a frame (``attrs["not_run"]``) or a :class:`Note`, else None."""
    if isinstance(obj, Note):
        return obj.text
    attrs = getattr(obj, "attrs", None)
    if isinstance(attrs, dict) and attrs.get("not_run"):
        return str(attrs["not_run"])
    return None


def not_run_frame(artefact: str, reason: str) -> "pd.DataFrame":
    """An empty result frame of ``artefact`` (``table3``, ``table4``, ``figure2``, ``extensions``, or its
    :class:`clapemo.experiments.Artefact` record) with ``attrs["not_run"]``."""
    import pandas as pd

    from clapemo import experiments

    record = experiments.artefact(artefact)
    frame = pd.DataFrame(columns=list(record.result_columns))
    frame.attrs["items"] = pd.DataFrame(columns=list(record.item_columns))
    frame.attrs["not_run"] = str(reason)
    return frame


def _display(note: Note) -> None:
    try:
        from IPython.display import display
    except ImportError:  # pragma: no cover - outside a notebook the return value says it
        return
    display(note)


def tolerates_not_run(fn: Callable) -> Callable:
    """A book helper whose first argument may carry a not-run reason: it then returns a :class:`Note` (a pair of
    them for helpers that return a pair, ``pair=True`` in ``fn.__clapemo_pair__``) instead of failing."""

    @functools.wraps(fn)
    def wrapper(first: Any, *args: Any, **kwargs: Any) -> Any:
        reason = not_run_reason(first)
        if reason is not None:
            note = Note(reason)
            return (note, note) if getattr(fn, "__clapemo_pair__", False) else note
        return fn(first, *args, **kwargs)

    return wrapper


def run_artefact(artefact: Any, config: "Config", **kwargs: Any) -> "pd.DataFrame":
    """Compute (or read) an artefact for ``config`` (``artefact``: a :class:`clapemo.experiments.Artefact` such as
    ``experiments.TABLE3``, or its name), its bars and printed lines sent to the terminal, never the page. When it
    raises :class:`clapemo.experiments.NotRun`, the reason is shown as a note and an empty result frame carrying
    it is returned (:func:`not_run_frame`), so the chapter goes on."""
    from clapemo import experiments
    from clapemo.book.progress import messages_to_terminal

    record = experiments.artefact(artefact)
    kwargs.setdefault("progress", True)  # bars and printed lines go to the terminal (clapemo.book.progress)
    try:
        with messages_to_terminal():
            return record(config, **kwargs)
    except experiments.NotRun as err:
        _display(Note(str(err)))
        return not_run_frame(record.name, str(err))


def claims(**results: Any) -> "pd.DataFrame | Note":
    """``clapemo.experiments.claims(...)`` with the artefacts that did not run left out (their claims are then
    not tested); a :class:`Note` when none ran."""
    from clapemo import experiments

    ran = {k: v for k, v in results.items() if v is not None and not_run_reason(v) is None}
    if not ran:
        reasons = sorted({not_run_reason(v) for v in results.values() if v is not None} - {None})
        return Note("no claim tested: " + ("; ".join(reasons) if reasons else "no results"))
    return experiments.claims(**ran)
