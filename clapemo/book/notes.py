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

from clapemo import extensions

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from clapemo.config import Config

__all__ = ["Note", "not_run_reason", "not_run_frame", "tolerates_not_run", "run_artefact", "claims",
           "RESULT_COLUMNS"]

#: the columns of each experiment's result frame and of its per-item results (``attrs["items"]``)
RESULT_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "table3": (("row", "query_kind", "k", "seed", "value", "n_queries", "n_items", "status", "trained_on",
                "run_id"), ("row", "query_kind", "k", "seed", "item", "value")),
    "table4": (("row", "setting", "metric", "seed", "value", "n_items", "n_classes", "status", "trained_on",
                "run_id"), ("row", "setting", "seed", "item", "value")),
    "figure2": (("corpus", "prompt_kind", "metric", "seed", "value", "n_items", "n_classes", "status",
                 "trained_on", "run_id"), ("corpus", "prompt_kind", "seed", "item", "value")),
    "extensions": (extensions.RESULT_COLUMNS, extensions.ITEM_COLUMNS),
}

_FUNCTION_ARTEFACT = {"ear_table": "table3", "ser_table": "table4", "prompt_analysis": "figure2"}


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
    """An empty result frame of ``artefact`` (``table3``, ``table4``, ``figure2``, ``extensions``) with
    ``attrs["not_run"]``."""
    import pandas as pd

    columns, item_columns = RESULT_COLUMNS[artefact]
    frame = pd.DataFrame(columns=list(columns))
    frame.attrs["items"] = pd.DataFrame(columns=list(item_columns))
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


def run_artefact(experiment: Callable[..., "pd.DataFrame"], config: "Config", **kwargs: Any) -> "pd.DataFrame":
    """``experiment(config, progress=True, **kwargs)`` (``clapemo.experiments.ear_table``, ``ser_table`` or
    ``prompt_analysis``), its bars and printed lines sent to the terminal, never the page. When it raises
    :class:`clapemo.experiments.NotRun`, the reason is shown as a note and an empty result frame carrying it is
    returned (:func:`not_run_frame`), so the chapter goes on."""
    from clapemo.book.progress import messages_to_terminal
    from clapemo.experiments import NotRun

    kwargs.setdefault("progress", True)  # bars and printed lines go to the terminal (clapemo.book.progress)
    try:
        with messages_to_terminal():
            return experiment(config, **kwargs)
    except NotRun as err:
        artefact = ("extensions" if getattr(experiment, "__module__", "") == "clapemo.extensions"
                    else _FUNCTION_ARTEFACT.get(getattr(experiment, "__name__", ""), "table3"))
        _display(Note(str(err)))
        return not_run_frame(artefact, str(err))


def claims(**results: Any) -> "pd.DataFrame | Note":
    """``clapemo.experiments.claims(...)`` with the artefacts that did not run left out (their claims are then
    not tested); a :class:`Note` when none ran."""
    from clapemo import experiments

    ran = {k: v for k, v in results.items() if v is not None and not_run_reason(v) is None}
    if not ran:
        reasons = sorted({not_run_reason(v) for v in results.values() if v is not None} - {None})
        return Note("no claim tested: " + ("; ".join(reasons) if reasons else "no results"))
    return experiments.claims(**ran)
