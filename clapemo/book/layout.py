"""Where a built book page puts its results: headless Chromium measures them, an HTML parser lists them.

A page of the book is a sequence of *items* in document order (:class:`PageItem`): the results of its notebook
cells (a table, a figure image, or a "Note" standing in for a result that could not run), the visible or folded
code inputs, and the source lines under the results. myst-nb (jupyter-book 1.x) renders a cell as::

    <div class="cell tag_hide-input docutils container">
      <details class="admonition hide above-input">      <- tag hide-input (closed: the input is folded)
        <summary>...Show code cell source...</summary>
        <div class="cell_input docutils container">...</div>
      </details>
      <div class="cell_output docutils container">
        <div class="output text_html"><table>...</table><div class="clapemo-source">Source: ...</div></div>
      </div>
    </div>

with no ``cell_input`` at all for ``remove-input`` cells, the output inside a closed ``<details>`` for
``hide-output`` / ``hide-cell``, and a figure as ``<img src="../_images/<hash>.png">`` in the ``cell_output``.
:func:`probe_page` loads the page in headless Chromium (a 1400 x 1000 px window) and measures each item's top
edge in page pixels; :func:`page_items` reads the same items from the HTML alone (no positions, no CSS).
"""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from clapemo.errors import ClapEmoError, DataError, ParameterError

__all__ = ["RESULT_KINDS", "PageItem", "find_chromium", "require_chromium", "screenshot", "probe_page",
           "page_items"]

#: the item kinds that are results (a table, a figure image, a Note in place of a result)
RESULT_KINDS = ("table", "image", "note")

_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                   "track", "wbr"})
_BREAKS = frozenset({"td", "th", "tr", "p", "div", "li", "br"})
_LABEL_CHARS = 60


@dataclass(frozen=True)
class PageItem:
    """One item of a book page, in document order.

    kind : ``table``, ``image``, ``note`` (results), ``code`` (a ``div.cell_input``) or ``source`` (a
        ``div.clapemo-source`` line).
    hidden : folded into a closed ``<details>`` (a ``hide-input`` / ``hide-output`` / ``hide-cell`` cell), or,
        as measured in a browser, not rendered at all (``display: none``).
    top_px : the top edge in page pixels (``getBoundingClientRect().top + scrollY``); None when not measured.
    label : a short text to name the item: the code's first line, the image file, the note's or line's text.
    """

    kind: str
    hidden: bool = False
    top_px: float | None = None
    label: str = ""


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable (``$CHROMIUM`` first), or None."""
    env = os.environ.get("CHROMIUM")
    if env and (shutil.which(env) or Path(env).is_file()):
        return shutil.which(env) or env
    for name in _CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium(what: str) -> str:
    """:func:`find_chromium`, or a ClapEmoError saying how to install it (``what`` names the caller)."""
    browser = find_chromium()
    if browser is None:
        raise ClapEmoError(f"{what}: no Chromium found; install it (apt-get install -y chromium) "
                           "or point $CHROMIUM at a Chrome/Chromium executable")
    return browser


def _run_chromium(browser: str, url: str, *, width_px: int, height_px: int, extra: list[str],
                  budget_ms: int, timeout_s: float) -> subprocess.CompletedProcess:
    """Headless Chromium on ``url`` in a throw-away profile, a ``width_px`` x ``height_px`` window."""
    with tempfile.TemporaryDirectory(prefix="clapemo-chromium-") as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--hide-scrollbars", "--disable-dev-shm-usage",
               f"--user-data-dir={profile}", f"--window-size={width_px},{height_px}",
               f"--virtual-time-budget={budget_ms}", *extra, url]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              env={**os.environ, "HOME": profile})


def screenshot(html: str | Path, png: str | Path, *, width_px: int = 1400, height_px: int = 2000,
               timeout_s: float = 120.0) -> Path:
    """Render ``html`` with headless Chromium and save a PNG of the first ``width_px`` × ``height_px``.

    Raises
    ------
    DataError
        When ``html`` does not exist or Chromium wrote no image.
    ClapEmoError
        When no Chromium is installed (``apt-get install chromium``, or set ``$CHROMIUM``).
    """
    html, png = Path(html).resolve(), Path(png).resolve()
    if not html.is_file():
        raise DataError(f"screenshot: page {html} does not exist (build the book first: make book)")
    if width_px < 100 or height_px < 100:
        raise ParameterError(f"screenshot: window {width_px}x{height_px} px is too small (at least 100x100)")
    browser = require_chromium("screenshot")
    png.parent.mkdir(parents=True, exist_ok=True)
    if png.exists():
        png.unlink()
    proc = _run_chromium(browser, html.as_uri(), width_px=width_px, height_px=height_px,
                         extra=[f"--screenshot={png}"], budget_ms=5000, timeout_s=timeout_s)
    if not png.is_file() or png.stat().st_size == 0:
        raise DataError(f"screenshot: Chromium wrote no image {png} (exit {proc.returncode}): "
                        f"{proc.stderr.strip()[-500:]}")
    return png


# Runs in the page: after `load` (images decoded, so at their real size) lists the items in document order with
# their top edge, and writes them as JSON into <pre id="clapemo-probe">, which --dump-dom prints.
_PROBE_JS = """
<script>
(function () {
  var RESULT = '.cell_output table, .cell_output .clapemo-note';
  function kindOf(el) {
    if (el.matches('.clapemo-source')) return 'source';
    if (el.matches('.cell_input')) return 'code';
    if (el.matches('.cell_output .clapemo-note')) return 'note';
    if (el.matches('.cell_output table')) return 'table';
    if (el.matches('.cell_output img') && /(^|\\/)_images\\//.test(el.getAttribute('src') || '')) return 'image';
    return null;
  }
  function label(el, kind) {
    var pre = kind === 'code' ? el.querySelector('pre') : null;
    var text = kind === 'image' ? (el.getAttribute('src') || '').split('/').pop()
                                : ((pre || el).innerText || (pre || el).textContent);
    return text.replace(/\\s+/g, ' ').trim().slice(0, LABEL_CHARS);
  }
  function probe() {
    if (document.getElementById('clapemo-probe')) return;
    var items = [];
    var sel = '.cell_input, .clapemo-source, .cell_output table, .cell_output .clapemo-note, .cell_output img';
    document.querySelectorAll(sel).forEach(function (el) {
      var kind = kindOf(el);
      if (kind === null) return;
      if (kind !== 'code' && kind !== 'source' && el.parentElement && el.parentElement.closest(RESULT)) return;
      var box = el.getBoundingClientRect();
      var hidden = el.closest('details:not([open])') !== null || el.getClientRects().length === 0;
      items.push({kind: kind, hidden: hidden, top_px: box.top + window.scrollY, label: label(el, kind)});
    });
    var pre = document.createElement('pre');
    pre.id = 'clapemo-probe';
    pre.textContent = JSON.stringify({loaded: document.readyState === 'complete', items: items});
    document.body.appendChild(pre);
  }
  window.addEventListener('load', function () {
    (document.fonts ? document.fonts.ready : Promise.resolve()).then(function () { setTimeout(probe, 50); });
  });
  setTimeout(probe, BUDGET_MS);
})();
</script>
"""


def probe_page(html: str | Path, *, width_px: int = 1400, height_px: int = 1000, budget_ms: int = 10000,
               timeout_s: float = 120.0) -> list[PageItem]:
    """The items of a built page with their top edges, as headless Chromium lays the page out.

    The page is copied, with a measuring script, to a temporary file next to it (so its relative CSS, JS and
    image paths resolve), loaded in a ``width_px`` x ``height_px`` window, and the copy deleted.

    Returns
    -------
    The page's :class:`PageItem` s in document order, each with ``top_px``.

    Raises
    ------
    DataError
        When the page does not exist, or Chromium printed no measurement (or measured before the page loaded).
    ClapEmoError
        When no Chromium is installed.
    """
    html = Path(html).resolve()
    if not html.is_file():
        raise DataError(f"probe_page: page {html} does not exist (build the book first: make book)")
    browser = require_chromium(f"the first-screen check of {html.name}")
    script = (_PROBE_JS.replace("LABEL_CHARS", str(_LABEL_CHARS))
              .replace("BUDGET_MS", str(max(budget_ms - 1000, budget_ms // 2))))
    text = html.read_text(encoding="utf-8", errors="replace")
    cut = text.rfind("</body>")
    text = text[:cut] + script + text[cut:] if cut >= 0 else text + script
    fd, name = tempfile.mkstemp(prefix=f".clapemo-probe-{html.stem}-", suffix=".html", dir=html.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        proc = _run_chromium(browser, Path(name).as_uri(), width_px=width_px, height_px=height_px,
                             extra=["--dump-dom"], budget_ms=budget_ms, timeout_s=timeout_s)
    finally:
        Path(name).unlink(missing_ok=True)
    return _parse_probe(proc.stdout, page=html.name, stderr=proc.stderr)


def _parse_probe(dom: str, *, page: str, stderr: str = "") -> list[PageItem]:
    """The items out of the ``<pre id="clapemo-probe">`` of a dumped DOM."""
    found = re.search(r'<pre id="clapemo-probe"[^>]*>(.*?)</pre>', dom, flags=re.S)
    if found is None:
        raise DataError(f"probe_page: Chromium printed no measurement of {page}: {stderr.strip()[-500:]}")
    data = json.loads(html_lib.unescape(found.group(1)))
    if not data["loaded"]:
        raise DataError(f"probe_page: {page} had not finished loading when it was measured (images not at "
                        "their size); raise budget_ms")
    return [PageItem(kind=i["kind"], hidden=bool(i["hidden"]), top_px=float(i["top_px"]), label=i["label"])
            for i in data["items"]]


class _ItemParser(HTMLParser):
    """Lists a page's items in document order from its HTML (what :func:`page_items` returns)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, set[str], bool, int | None]] = []  # tag, classes, closed details?, item
        self.items: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        classes = set((attr.get("class") or "").split())
        in_output = "cell_output" in classes or any("cell_output" in c for _, c, _, _ in self.stack)
        in_result = any(i is not None and self.items[i]["kind"] in ("table", "note") for *_, i in self.stack)
        kind = None
        if "clapemo-source" in classes:
            kind = "source"
        elif "cell_input" in classes:
            kind = "code"
        elif in_output and not in_result and "clapemo-note" in classes:
            kind = "note"
        elif in_output and not in_result and tag == "table":
            kind = "table"
        elif in_output and not in_result and tag == "img" and _is_figure(attr.get("src") or ""):
            kind = "image"
        index = None
        if tag in _BREAKS:  # the browser's innerText puts a space or a line between cells and blocks
            for *_, outer in reversed(self.stack):
                if outer is not None:
                    self.items[outer]["text"] += " "
                    break
        if kind is not None:
            hidden = any(closed for _, _, closed, _ in self.stack)
            label = (attr.get("src") or "").rsplit("/", 1)[-1][:_LABEL_CHARS] if kind == "image" else ""
            self.items.append({"kind": kind, "hidden": hidden, "text": "", "label": label})
            index = len(self.items) - 1
        if tag not in _VOID:
            self.stack.append((tag, classes, tag == "details" and "open" not in attr, index))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        for *_, index in reversed(self.stack):
            if index is not None:
                item = self.items[index]
                if item["kind"] != "image" and len(item["text"]) < 4 * _LABEL_CHARS:
                    item["text"] += data
                return


def _is_figure(src: str) -> bool:
    return src.startswith("_images/") or "/_images/" in src


def page_items(html: str) -> list[PageItem]:
    """The items of a built page (its HTML text) in document order, from the markup alone: ``top_px`` None, and
    ``hidden`` only for a closed ``<details>`` (what CSS hides is not known without a browser)."""
    parser = _ItemParser()
    parser.feed(html)
    parser.close()
    return [PageItem(kind=i["kind"], hidden=i["hidden"],
                     label=i["label"] or " ".join(i["text"].split())[:_LABEL_CHARS]) for i in parser.items]
