"""Checks of the built book: every page, its tables and figures, no errors; on each results chapter a result on
the first screen, no visible code above it, and a source line under every table and figure.

The rules (:data:`RULES`), each failure named ``<page>: [<rule>] <what>``:

* ``page``, ``minimums``, ``no-errors`` - every page of :data:`BOOK_PAGES`, on every page;
* ``first-screen``, ``no-code-above``, ``source-line`` - on the *results chapters*: the pages under
  ``executed/`` unless their :data:`BOOK_PAGES` entry says ``"results": False`` (chapter 07 shows the search of a
  user's own audio folder, not the paper's results). The first two are measured in headless Chromium, in a
  1400 x 1000 px window (:func:`clapemo.book.layout.probe_page`); ``layout=False`` (``--no-layout``) skips them
  and reads the source lines from the HTML alone (:func:`clapemo.book.layout.page_items`).

What counts as a result, a visible code cell and a source line is the myst-nb markup described in
:mod:`clapemo.book.layout`: a ``<table>``, an ``<img src=".../_images/...">`` or a ``div.clapemo-note`` in a
``div.cell_output``; a ``div.cell_input`` not inside a closed ``<details>`` (and rendered); a
``div.clapemo-source``. Results folded away (``hide-output``) count for no rule.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from clapemo.book.layout import RESULT_KINDS, PageItem, find_chromium, page_items, probe_page, screenshot
from clapemo.errors import ClapEmoError, DataError, ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["BOOK_PAGES", "RULES", "LAYOUT_RULES", "FIRST_SCREEN_PX", "WINDOW_WIDTH_PX", "check_book",
           "page_problems", "first_screens", "screenshot", "find_chromium"]

#: the first screen: a 1400 px wide window, 1000 px high
WINDOW_WIDTH_PX = 1400
FIRST_SCREEN_PX = 1000

#: the rules of :func:`check_book`, by the name its messages give
RULES: dict[str, str] = {
    "page": "the page exists",
    "minimums": "the page shows at least its tables, figures and audio players (BOOK_PAGES)",
    "no-errors": "no notebook output holds an error or a traceback",
    "first-screen": f"a result (a table, a figure, or a Note in place of one) starts within the first "
                    f"{FIRST_SCREEN_PX} px of the page ({WINDOW_WIDTH_PX} x {FIRST_SCREEN_PX} px window)",
    "no-code-above": "no visible code cell above the first result (tag the cells hide-input or remove-input)",
    "source-line": "every table and figure is followed, before the next result, by its source line "
                   '(<div class="clapemo-source">)',
}
#: the rules that need a browser's layout (skipped by ``layout=False``)
LAYOUT_RULES = ("first-screen", "no-code-above")

#: the pages of the built book and what each must show (tables / images / audio players at least); ``results``:
#: whether the results-chapter rules apply (default: for the pages under ``executed/``)
BOOK_PAGES: dict[str, dict[str, int | bool]] = {
    "intro.html": {"tables": 0, "images": 0},
    "executed/01_prompt_generation.html": {"tables": 4, "images": 3},
    "executed/02_ear_table.html": {"tables": 3, "images": 0},
    "executed/03_ser_table.html": {"tables": 3, "images": 0},
    "executed/04_prompt_analysis.html": {"tables": 3, "images": 2},
    "executed/05_report.html": {"tables": 4, "images": 1},
    "executed/06_extensions.html": {"tables": 6, "images": 2},
    "real_data.html": {"tables": 0, "images": 0},
    "executed/07_search_your_audio.html": {"tables": 2, "images": 0, "audio": 1, "results": False},
}

_KIND_NAMES = {"table": "table", "image": "figure", "note": "Note"}
_SOURCED_KINDS = ("table", "image")  # a Note stands in for a result that did not run: it has no results file


def _name(item: PageItem, *, at: bool = True) -> str:
    where = f" at {item.top_px:.0f} px" if at and item.top_px is not None else ""
    return f"{_KIND_NAMES.get(item.kind, item.kind)} '{item.label}'{where}"


def _unsourced(shown: list[PageItem], results: list[int]) -> list[PageItem]:
    """The shown tables and figures with no shown source line after them before the next result."""
    ends = results[1:] + [len(shown)]
    return [shown[n] for n, end in zip(results, ends) if shown[n].kind in _SOURCED_KINDS
            and not any(i.kind == "source" for i in shown[n + 1:end])]


def page_problems(items: Sequence[PageItem], *, layout: bool = True,
                  first_screen_px: int = FIRST_SCREEN_PX) -> list[tuple[str, str]]:
    """The results-chapter rules on a page's items (document order): ``(rule, what is wrong)`` pairs.

    Parameters
    ----------
    items : the page's :class:`clapemo.book.layout.PageItem` s, as :func:`~clapemo.book.layout.probe_page`
        (positions measured) or :func:`~clapemo.book.layout.page_items` (none) lists them.
    layout : check ``first-screen`` and ``no-code-above`` too (they need ``top_px`` and the browser's
        ``hidden``); False checks ``source-line`` only.
    first_screen_px : the height of the first screen.
    """
    if layout and any(i.top_px is None for i in items):
        raise ParameterError("page_problems: layout=True needs items with top_px (from probe_page); "
                             "items from page_items have none")
    shown = [i for i in items if not i.hidden]
    results = [n for n, i in enumerate(shown) if i.kind in RESULT_KINDS]
    problems: list[tuple[str, str]] = []
    if layout and not results:
        problems.append(("first-screen", "no result on the page (no table, figure or Note in a cell output "
                                         "that is not folded)"))
    if layout and results:
        top = min((shown[n] for n in results), key=lambda i: i.top_px)
        if top.top_px >= first_screen_px:
            problems.append(("first-screen", f"the first result starts at {top.top_px:.0f} px, below the first "
                                             f"{first_screen_px} px: {_name(top, at=False)}"))
        code = [i for i in shown[:results[0]] if i.kind == "code"]
        if code:
            problems.append(("no-code-above", f"{len(code)} visible code cell{'s' * (len(code) > 1)} above the "
                                              f"first result ({_name(shown[results[0]])}), the first: "
                                              f"'{code[0].label}' at {code[0].top_px:.0f} px"))
    bare = _unsourced(shown, results)
    if bare:
        sourced = sum(shown[n].kind in _SOURCED_KINDS for n in results)
        listed = ", ".join(_name(i) for i in bare[:4]) + (", ..." if len(bare) > 4 else "")
        problems.append(("source-line", f"{len(bare)} of {sourced} tables and figures have no source line "
                                        f'(<div class="clapemo-source">) after them: {listed}'))
    return problems


def _counts(page: str, main: str, need: dict[str, int | bool]) -> tuple[dict, list[str]]:
    """The page's tables, images, audio players and error outputs against its minimums."""
    tables = len(re.findall(r"<table\b", main))
    images = len(re.findall(r"<img\b[^>]*src=\"[^\"]*_images/", main))
    audio = len(re.findall(r"<audio\b", main))
    bad = [w for w in ("Traceback (most recent call last)", "ename", "output_error") if w in main]
    problems = []
    if tables < need.get("tables", 0) or images < need.get("images", 0) or audio < need.get("audio", 0):
        problems.append(f"{page}: [minimums] {tables} tables (need {need.get('tables', 0)}), {images} images "
                        f"(need {need.get('images', 0)}), {audio} audio players (need {need.get('audio', 0)})")
    if bad:
        problems.append(f"{page}: [no-errors] the page shows {', '.join(bad)}")
    return {"tables": tables, "images": images, "audio": audio}, problems


def _check_page(html_dir: Path, page: str, need: dict[str, int | bool], *, layout: bool,
                first_screen_px: int) -> tuple[dict, list[str]]:
    """One row of :func:`check_book` and the page's problems."""
    row = {"page": page, "tables": 0, "images": 0, "audio": 0, "results": math.nan, "first_result_px": math.nan,
           "code_above": math.nan, "unsourced": math.nan}
    path = html_dir / page
    if not path.is_file():
        return {**row, "ok": False}, [f"{page}: missing"]
    text = path.read_text(encoding="utf-8", errors="replace")
    counts, problems = _counts(page, text.split("<main", 1)[-1], need)
    row.update(counts)
    if need.get("results", page.startswith("executed/")):
        items = probe_page(path, width_px=WINDOW_WIDTH_PX, height_px=first_screen_px) if layout else \
            page_items(text)
        found = page_problems(items, layout=layout, first_screen_px=first_screen_px)
        problems += [f"{page}: [{rule}] {what}" for rule, what in found]
        shown = [i for i in items if not i.hidden]
        results = [n for n, i in enumerate(shown) if i.kind in RESULT_KINDS]
        row["results"], row["unsourced"] = len(results), len(_unsourced(shown, results))
        if layout and results:
            row["first_result_px"] = round(min(shown[n].top_px for n in results))
            row["code_above"] = sum(i.kind == "code" for i in shown[:results[0]])
    return {**row, "ok": not problems}, problems


def first_screens(html_dir: str | Path, shots_dir: str | Path, *,
                  pages: Sequence[str] | None = None) -> list[Path]:
    """Save each chapter's first screen (``WINDOW_WIDTH_PX`` x ``FIRST_SCREEN_PX``) as ``<shots_dir>/<page>.png``.

    ``pages``: the pages (relative to ``html_dir``) to shoot; default the :data:`BOOK_PAGES` under
    ``executed/``. Pages that do not exist are skipped. Returns the PNGs written.
    """
    html_dir, shots_dir = Path(html_dir), Path(shots_dir)
    pages = [p for p in BOOK_PAGES if p.startswith("executed/")] if pages is None else list(pages)
    return [screenshot(html_dir / page, shots_dir / f"{Path(page).stem}.png", width_px=WINDOW_WIDTH_PX,
                       height_px=FIRST_SCREEN_PX) for page in pages if (html_dir / page).is_file()]


def check_book(html_dir: str | Path, *, pages: dict[str, dict[str, int | bool]] | None = None,
               layout: bool = True, shots_dir: str | Path | None = None,
               first_screen_px: int = FIRST_SCREEN_PX) -> "pd.DataFrame":
    """Check a built book against :data:`RULES`: every page exists and shows at least the expected number of
    tables and images, no notebook output holds an error or a traceback, and each results chapter shows a result
    on its first screen, no visible code above it, and a source line under every table and figure.

    Parameters
    ----------
    html_dir : the ``_build/html`` folder of ``jupyter-book build``.
    pages : page -> ``{"tables": n, "images": m, "audio": a, "results": bool}`` (default :data:`BOOK_PAGES`).
    layout : measure the pages in headless Chromium for the ``first-screen`` and ``no-code-above`` rules; False
        skips those two (no browser needed).
    shots_dir : also save each chapter's first screen there (:func:`first_screens`), pass or fail.
    first_screen_px : the height of the first screen (the window is ``WINDOW_WIDTH_PX`` wide).

    Returns
    -------
    DataFrame, one row per page: ``tables``, ``images``, ``audio``, ``results`` (shown results),
    ``first_result_px``, ``code_above`` (visible code cells above the first result), ``unsourced`` (tables and
    figures without a source line), ``ok``; NaN where a rule does not apply or was not checked.

    Raises
    ------
    DataError
        Naming, for every page that falls short, the page and the rule.
    ClapEmoError
        When ``layout`` or ``shots_dir`` needs Chromium and none is installed.
    """
    import pandas as pd

    html_dir = Path(html_dir)
    pages = BOOK_PAGES if pages is None else pages
    measured = [p for p, need in pages.items() if (html_dir / p).is_file() and (
        shots_dir is not None and p.startswith("executed/")
        or layout and need.get("results", p.startswith("executed/")))]
    if measured and find_chromium() is None:
        raise ClapEmoError("book check: no Chromium found to measure the pages' first screens; install it "
                           "(apt-get install -y chromium) or point $CHROMIUM at a Chrome/Chromium executable, or "
                           "skip the first-screen rules (clapemo book check --no-layout)")
    rows, problems = [], []
    for page, need in pages.items():
        row, found = _check_page(html_dir, page, need, layout=layout, first_screen_px=first_screen_px)
        rows.append(row)
        problems += found
    shots = [] if shots_dir is None else first_screens(html_dir, shots_dir, pages=[
        p for p in pages if p.startswith("executed/")])
    if problems:
        failed = [rule for rule in RULES if any(f": [{rule}]" in line for line in problems)
                  or rule == "page" and any(line.endswith(": missing") for line in problems)]
        where = f"\nfirst screens: {Path(shots_dir)} ({len(shots)} pages)" if shots_dir is not None else ""
        if not layout:
            where += f"\nnot checked (layout=False, --no-layout): {', '.join(LAYOUT_RULES)}"
        raise DataError("the built book falls short:\n  " + "\n  ".join(problems) + "\nrules:\n  "
                        + "\n  ".join(f"{rule}: {RULES[rule]}" for rule in failed) + where)
    return pd.DataFrame(rows).set_index("page")
