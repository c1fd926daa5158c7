"""Partial corpus trees: the warning for what is missing, and the error for a tree with nothing usable.

Every loader reads the actors / sessions / splits / parts that are present and emits one
:class:`PartialCorpusWarning` naming what is missing (:func:`warn_partial`); a tree with nothing usable is a
:class:`~clapemo.errors.DataError` naming the folder and the layout expected (:func:`nothing_usable`). A leaf
module: the loaders import it, and :mod:`clapemo.datasets` re-exports it.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

from clapemo.errors import DataError

__all__ = ["PartialCorpusWarning", "warn_partial", "nothing_usable"]


class PartialCorpusWarning(UserWarning):
    """A corpus tree lacks some of its actors, sessions, splits, parts or audio files; the rest was loaded."""


def _ranges(items: Sequence, *, shown: int = 8) -> str:
    """``[1, 2, 3, 7]`` -> ``"1-3, 7"`` for integers; other items joined by ``", "`` (the first ``shown``, then
    the count)."""
    items = list(items)
    if not items or not all(isinstance(i, int) for i in items):
        more = f" ... ({len(items)} in all)" if len(items) > shown else ""
        return ", ".join(str(i) for i in items[:shown]) + more
    out, start, prev = [], items[0], items[0]
    for i in items[1:] + [None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    return ", ".join(out)


def warn_partial(name: str, root: os.PathLike | str, *, what: str, missing: Sequence, present: Sequence,
                 detail: str = "", stacklevel: int = 3) -> None:
    """Warn (:class:`PartialCorpusWarning`) that corpus ``name`` under ``root`` lacks some of its ``what``.

    Parameters
    ----------
    name : corpus name.
    root : the corpus folder.
    what : what is counted, plural (``"actors"``, ``"sessions"``, ``"splits"``, ``"parts"``, ``"videos"``).
    missing : the absent ones (nothing is emitted when empty).
    present : the ones loaded.
    detail : appended to the message (e.g. where the loader looked).
    stacklevel : as for :func:`warnings.warn`; the default names the caller of the loader's ``load``.
    """
    if not missing:
        return
    extra = f" ({detail})" if detail else ""
    warnings.warn(f"{name}: partial tree under {root}: missing {what} {_ranges(missing)}{extra}; loaded "
                  f"{what} {_ranges(present)}", PartialCorpusWarning, stacklevel=stacklevel)


def nothing_usable(name: str, root: os.PathLike | str, *, expect: str, found: str) -> DataError:
    """The :class:`DataError` of a tree with nothing usable: names the folder, what was found and the layout."""
    return DataError(f"{name}: nothing usable under {root}: {found}; expected {expect} (see data/README.md)")
