"""clapemo.book.check and clapemo.book.layout: the built book's page check. The rules on hand-made items (no
browser), the myst-nb markup read from HTML, and (slow, headless Chromium) small pages with the markup of a real
jupyter-book 1.x page measured in a 1400 x 1000 px window, and the real built book when there is one."""

from __future__ import annotations

import dataclasses
import struct
import zlib
from pathlib import Path

import pytest

from clapemo.book.check import (BOOK_PAGES, FIRST_SCREEN_PX, LAYOUT_RULES, RULES, check_book, first_screens,
                                page_problems)
from clapemo.book.commands import cli
from clapemo.book.layout import PageItem, find_chromium, page_items, probe_page
from clapemo.errors import ClapEmoError, DataError, ParameterError

REPO = Path(__file__).resolve().parents[1]
BUILT = REPO / "book" / "_build" / "html"
needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="no Chromium (apt-get install -y chromium)")

# myst-nb's markup, as jupyter-book 1.0.4 writes it (copied from a built page)
CODE = ('<div class="cell docutils container">\n<div class="cell_input docutils container">\n'
        '<div class="highlight-ipython3 notranslate"><div class="highlight"><pre><span></span>{code}\n'
        '</pre></div>\n'
        '</div>\n</div>\n{output}</div>\n')
HIDE_INPUT = ('<div class="cell tag_hide-input docutils container">\n'
              '<details class="admonition hide above-input">\n'
              '<summary aria-label="Toggle hidden content">\n<p class="collapsed admonition-title">Show code cell '
              'source</p>\n<p class="expanded admonition-title">Hide code cell source</p>\n</summary>\n'
              '<div class="cell_input docutils container">\n<div class="highlight-python notranslate"><div '
              'class="highlight"><pre><span></span>{code}\n</pre></div>\n</div>\n</div>\n</details>\n'
              '{output}</div>\n')
REMOVE_INPUT = '<div class="cell tag_remove-input docutils container">\n{output}</div>\n'
HIDE_OUTPUT = ('<div class="cell tag_hide-output docutils container">\n<div class="cell_input above-output-prompt '
               'docutils container">\n<div class="highlight-python notranslate"><div class="highlight"><pre>'
               '<span></span>{code}\n</pre></div>\n</div>\n</div>\n<details class="admonition hide below-input">\n'
               '<summary aria-label="Toggle hidden content">\n'
               '<p class="collapsed admonition-title">Show code cell output</p>\n</summary>\n'
               '{output}</details>\n</div>\n')
TABLE = ('<div class="cell_output docutils container">\n<div class="output text_html"><table class="dataframe">'
         '<tr><th>row</th><th>P@10</th></tr><tr><td>4D</td><td>31.2</td></tr></table>{source}</div></div>\n')
FIGURE = ('<div class="cell_output docutils container">\n<img alt="_images/fig.png" src="../_images/fig.png" />\n'
          '{source}</div>\n')
NOTE = ('<div class="cell_output docutils container">\n<div class="output text_html"><div class="clapemo-note">'
        '<p>Table 4 not run: needs the RAVDESS corpus</p></div></div></div>\n')
SOURCE = ('<div class="clapemo-source">Source: <a href="../_static/results/table3.csv">table3.csv</a> · config '
          'table3_ear 1a2b3c · commit abc1234 · cell 5</div>')


def _png(width_px: int, height_px: int) -> bytes:
    """A grey PNG of the given size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * width_px for _ in range(height_px))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width_px, height_px, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _book(tmp_path: Path, *cells: str, name: str = "p", image_px: tuple[int, int] = (400, 300)) -> Path:
    """A built-book folder with one chapter page ``executed/<name>.html`` made of ``cells``."""
    (tmp_path / "executed").mkdir(parents=True, exist_ok=True)
    (tmp_path / "_images").mkdir(exist_ok=True)
    (tmp_path / "_images" / "fig.png").write_bytes(_png(*image_px))
    body = "".join(cells)
    (tmp_path / "executed" / f"{name}.html").write_text(
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>p</title></head><body>\n'
        '<main id="main-content">'
        '<article class="bd-article"><section id="p">\n<h1>Table 3</h1>\n<p>Prose.</p>\n'
        f"{body}</section></article></main>\n</body></html>\n", encoding="utf-8")
    return tmp_path


def _item(kind: str, top_px: float | None = None, hidden: bool = False) -> PageItem:
    return PageItem(kind=kind, hidden=hidden, top_px=top_px, label=kind)


GOOD = [_item("code", 0, hidden=True), _item("table", 300), _item("source", 500), _item("code", 600),
        _item("image", 700), _item("source", 1300), _item("note", 1400)]


def dataclass_copy(item: PageItem, **changes) -> PageItem:
    return dataclasses.replace(item, **changes)


# --- the rules on items (no browser) ---------------------------------------------------------------------------

def test_a_page_that_reads_like_the_paper_passes():
    assert page_problems(GOOD) == []
    assert page_problems([dataclass_copy(i, top_px=None) for i in GOOD], layout=False) == []


def test_first_screen_rule_needs_a_result_within_1000_px():
    pushed = [dataclass_copy(i, top_px=i.top_px + 900) for i in GOOD]
    [(rule, what)] = page_problems(pushed)
    assert rule == "first-screen" and "starts at 1200 px, below the first 1000 px: table 'table'" in what
    assert page_problems(pushed, first_screen_px=1300) == []
    [(rule, what)] = page_problems([_item("code", 0, hidden=True), _item("source", 10)])
    assert rule == "first-screen" and "no result on the page" in what
    folded = [_item("table", 100, hidden=True), _item("source", 200, hidden=True), _item("note", 1200)]
    assert [r for r, _ in page_problems(folded)] == ["first-screen"]  # a folded result is not on the screen


def test_a_note_counts_as_a_result_and_needs_no_source_line():
    assert page_problems([_item("code", 10, hidden=True), _item("note", 200)]) == []


def test_visible_code_above_the_first_result_fails():
    items = [_item("code", 100), _item("code", 200, hidden=True), _item("code", 300)] + GOOD[1:]
    [(rule, what)] = page_problems(items)
    assert rule == "no-code-above"
    assert what.startswith("2 visible code cells above the first result (table 'table' at 300 px)")
    assert "the first: 'code' at 100 px" in what
    assert page_problems(items, layout=False) == []  # a layout rule


def test_every_table_and_figure_needs_its_source_line_before_the_next_result():
    items = [_item("table", 100), _item("image", 200), _item("source", 300), _item("table", 400),
             _item("source", 500, hidden=True)]
    [(rule, what)] = page_problems(items)
    assert rule == "source-line"
    assert what.startswith("2 of 3 tables and figures have no source line")
    assert "table 'table' at 100 px, table 'table' at 400 px" in what
    assert page_problems(items, layout=False)[0][0] == "source-line"


def test_layout_rules_need_measured_items():
    with pytest.raises(ParameterError, match="top_px"):
        page_problems([_item("table")])
    assert set(LAYOUT_RULES) < set(RULES) and FIRST_SCREEN_PX == 1000


# --- the markup, read without a browser ------------------------------------------------------------------------

def test_page_items_reads_the_myst_nb_markup(tmp_path):
    nested = ('<div class="cell_output docutils container"><div class="clapemo-note"><p>n</p><table><tr><td>1</td>'
              '</tr></table><img src="../_images/fig.png"></div></div>')
    book_dir = _book(tmp_path, HIDE_INPUT.format(code="x = 1", output=TABLE.format(source=SOURCE)),
                     REMOVE_INPUT.format(output=FIGURE.format(source="")),
                     HIDE_OUTPUT.format(code="y = 2", output=TABLE.format(source="")),
                     CODE.format(code="book.show(z)", output=nested),
                     '<table><tr><td>prose table</td></tr></table><img src="../_static/logo.png">')
    items = page_items((book_dir / "executed" / "p.html").read_text())
    assert [(i.kind, i.hidden) for i in items] == [
        ("code", True), ("table", False), ("source", False), ("image", False),
        ("code", False), ("table", True), ("code", False), ("note", False)]
    assert items[0].label == "x = 1" and items[3].label == "fig.png" and items[7].label.startswith("n")
    assert items[2].label.startswith("Source: table3.csv · config table3_ear")


def test_check_book_counts_tables_and_images(tmp_path):
    page = '<html><main><table></table><img src="../_images/a.png"></main></html>'
    (tmp_path / "executed").mkdir()
    (tmp_path / "executed" / "p.html").write_text(page)
    out = check_book(tmp_path, pages={"executed/p.html": {"tables": 1, "images": 1}}, layout=False)
    assert out.loc["executed/p.html", "ok"]
    with pytest.raises(DataError, match=r"gone.html: missing\nrules:\n  page: the page exists"):
        check_book(tmp_path, pages={"gone.html": {"tables": 0}}, layout=False)
    with pytest.raises(DataError, match=r"\[minimums\] 1 tables \(need 2\)"):
        check_book(tmp_path, pages={"executed/p.html": {"tables": 2}}, layout=False)
    with pytest.raises(DataError, match=r"0 audio players \(need 1\)"):
        check_book(tmp_path, pages={"executed/p.html": {"audio": 1}}, layout=False)
    player = '<audio controls src="a.wav"></audio></main>'
    (tmp_path / "executed" / "p.html").write_text(page.replace("</main>", player))
    out = check_book(tmp_path, pages={"executed/p.html": {"audio": 1}}, layout=False)
    assert out.loc["executed/p.html", "audio"] == 1
    (tmp_path / "executed" / "p.html").write_text(page.replace("</main>", "Traceback (most recent call last)"))
    with pytest.raises(DataError, match=r"p.html: \[no-errors\] the page shows Traceback"):
        check_book(tmp_path, pages={"executed/p.html": {}}, layout=False)


def test_check_book_without_layout_checks_the_source_lines(tmp_path):
    _book(tmp_path, CODE.format(code="book.format_table3(side)", output=TABLE.format(source="")))
    with pytest.raises(DataError) as err:
        check_book(tmp_path, pages={"executed/p.html": {"tables": 1}}, layout=False)
    text = str(err.value)
    assert "executed/p.html: [source-line] 1 of 1 tables and figures have no source line" in text
    assert "not checked (layout=False, --no-layout): first-screen, no-code-above" in text
    assert "first-screen:" not in text.split("rules:")[-1].split("not checked")[0]
    ok = check_book(tmp_path, pages={"executed/p.html": {"tables": 1, "results": False}}, layout=False)
    assert ok.loc["executed/p.html", "ok"]  # not a results chapter: the rules do not apply
    _book(tmp_path, CODE.format(code="book.format_table3(side)", output=TABLE.format(source=SOURCE)))
    out = check_book(tmp_path, pages={"executed/p.html": {"tables": 1}}, layout=False)
    assert out.loc["executed/p.html", "results"] == 1 and out.loc["executed/p.html", "unsourced"] == 0


def test_chapter_07_is_not_a_results_chapter():
    assert BOOK_PAGES["executed/07_search_your_audio.html"]["results"] is False
    assert all(need.get("results", True) for page, need in BOOK_PAGES.items() if "07_" not in page)


def test_no_chromium_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CHROMIUM", raising=False)
    _book(tmp_path, REMOVE_INPUT.format(output=TABLE.format(source=SOURCE)))
    with pytest.raises(ClapEmoError, match=r"apt-get install -y chromium.*\$CHROMIUM.*--no-layout"):
        check_book(tmp_path, pages={"executed/p.html": {}})
    with pytest.raises(ClapEmoError, match="apt-get install -y chromium"):
        probe_page(tmp_path / "executed" / "p.html")
    assert check_book(tmp_path, pages={"executed/p.html": {}}, layout=False).loc["executed/p.html", "ok"]


def _full_book(tmp_path: Path) -> Path:
    """Every page of BOOK_PAGES with its tables, figures and players, each table and figure with its source."""
    for page, need in BOOK_PAGES.items():
        cells = [REMOVE_INPUT.format(output=TABLE.format(source=SOURCE))] * int(need.get("tables", 0))
        cells += [REMOVE_INPUT.format(output=FIGURE.format(source=SOURCE))] * int(need.get("images", 0))
        cells += ['<audio controls src="a.wav"></audio>'] * int(need.get("audio", 0))
        _book(tmp_path, *cells, name="page")
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "executed" / "page.html").rename(tmp_path / page)
    return tmp_path


def test_cli_check_says_what_it_did_not_check(tmp_path, capsys):
    book_dir = _full_book(tmp_path)
    assert cli(["check", str(book_dir), "--no-layout"]) == 0
    out = capsys.readouterr().out
    assert "not checked (--no-layout): the first-screen rules first-screen, no-code-above" in out
    assert f"book OK: {book_dir}" in out and "unsourced" in out
    (book_dir / "executed" / "02_ear_table.html").unlink()
    with pytest.raises(DataError, match=r"executed/02_ear_table.html: missing"):
        cli(["check", str(book_dir), "--no-layout"])


# --- measured in headless Chromium (slow) ----------------------------------------------------------------------

def _check(book_dir: Path, **kwargs):
    return check_book(book_dir, pages={"executed/p.html": {}}, **kwargs)


@pytest.mark.slow
@needs_chromium
def test_a_folded_code_cell_and_a_sourced_table_on_the_first_screen_pass(tmp_path):
    _book(tmp_path, HIDE_INPUT.format(code="book.format_table3(side)", output=TABLE.format(source=SOURCE)),
          REMOVE_INPUT.format(output=FIGURE.format(source=SOURCE)), CODE.format(code="later()", output=NOTE))
    row = _check(tmp_path).loc["executed/p.html"]
    assert row["ok"] and row["results"] == 3 and row["code_above"] == 0 and row["unsourced"] == 0
    assert 0 < row["first_result_px"] < FIRST_SCREEN_PX


@pytest.mark.slow
@needs_chromium
def test_a_visible_code_cell_above_the_first_result_fails(tmp_path):
    _book(tmp_path, CODE.format(code="config = book.notebook_config(path)", output=""),
          HIDE_INPUT.format(code="book.format_table3(side)", output=TABLE.format(source=SOURCE)))
    with pytest.raises(DataError) as err:
        _check(tmp_path)
    [line] = [ln for ln in str(err.value).splitlines() if "executed/p.html" in ln]
    assert "executed/p.html: [no-code-above] 1 visible code cell above the first result (table 'row P@10" in line
    assert "the first: 'config = book.notebook_config(path)' at" in line


@pytest.mark.slow
@needs_chromium
def test_a_result_pushed_below_the_first_screen_fails(tmp_path):
    tall = '<div style="height: 1200px">a long introduction</div>\n'
    _book(tmp_path, tall, REMOVE_INPUT.format(output=TABLE.format(source=SOURCE)))
    with pytest.raises(DataError, match=r"executed/p.html: \[first-screen\] the first result starts at "
                                        r"1\d\d\d px, below the first 1000 px: table 'row P@10"):
        _check(tmp_path)
    assert _check(tmp_path, first_screen_px=1600).loc["executed/p.html", "ok"]


@pytest.mark.slow
@needs_chromium
def test_images_are_measured_at_their_real_size(tmp_path):
    _book(tmp_path, REMOVE_INPUT.format(output=FIGURE.format(source=SOURCE)),
          REMOVE_INPUT.format(output=TABLE.format(source="")), image_px=(300, 1500))
    items = probe_page(tmp_path / "executed" / "p.html")
    figure, table = (i for i in items if i.kind in ("image", "table"))
    assert table.top_px - figure.top_px >= 1500
    with pytest.raises(DataError, match=r"\[source-line\] 1 of 2 tables and figures have no source line .*"
                                        r"table 'row P@10 4D 31.2' at \d+ px"):
        _check(tmp_path)
    assert not list((tmp_path / "executed").glob(".clapemo-probe*"))  # the measured copy is gone


@pytest.mark.slow
@needs_chromium
def test_the_browser_and_the_parser_list_the_same_items(tmp_path):
    _book(tmp_path, HIDE_INPUT.format(code="x = 1", output=TABLE.format(source=SOURCE)),
          REMOVE_INPUT.format(output=FIGURE.format(source="")),
          HIDE_OUTPUT.format(code="y = 2", output=TABLE.format(source="")), CODE.format(code="z", output=NOTE))
    page = tmp_path / "executed" / "p.html"
    measured, read = probe_page(page), page_items(page.read_text())
    assert [(i.kind, i.hidden) for i in measured] == [(i.kind, i.hidden) for i in read]
    assert all(i.top_px is not None for i in measured)


@pytest.mark.slow
@needs_chromium
def test_first_screens_are_saved_for_each_chapter(tmp_path):
    book_dir = _book(tmp_path / "html", REMOVE_INPUT.format(output=TABLE.format(source=SOURCE)), name="a")
    _book(book_dir, REMOVE_INPUT.format(output=NOTE), name="b")
    [a, b] = first_screens(book_dir, tmp_path / "shots", pages=["executed/a.html", "executed/b.html", "x.html"])
    assert (a.name, b.name) == ("a.png", "b.png")
    assert struct.unpack(">II", a.read_bytes()[16:24]) == (1400, 1000)
    pages = {"executed/a.html": {"tables": 1}, "executed/b.html": {}}
    assert check_book(book_dir, pages=pages, shots_dir=tmp_path / "more")["ok"].all()
    assert sorted(p.name for p in (tmp_path / "more").iterdir()) == ["a.png", "b.png"]


@pytest.mark.slow
@needs_chromium
@pytest.mark.skipif(not BUILT.is_dir(), reason="no built book (make book)")
def test_the_built_book_reads_like_the_paper():
    pages = check_book(BUILT)  # raises naming each page and rule that falls short
    results = [page for page, need in BOOK_PAGES.items() if need.get("results", page.startswith("executed/"))]
    assert pages["ok"].all() and (pages.loc[results, "first_result_px"] < FIRST_SCREEN_PX).all()
