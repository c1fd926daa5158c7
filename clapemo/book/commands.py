"""``clapemo book ...``: the book's build steps, as the Makefile calls them."""

from __future__ import annotations

import argparse
import sys

__all__ = ["cli"]


def _value(text: str) -> int | float | str:
    """A ``-p NAME VALUE`` value as papermill's own ``-p`` reads it: an int, a float, else the string."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clapemo book", description="Build helpers of the book.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a notebook with papermill, its steps and progress on the terminal")
    run.add_argument("notebook")
    run.add_argument("output")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="a notebook parameter (int, float or string); repeatable")
    run.add_argument("-r", "--raw", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="a notebook parameter kept as a string; repeatable")
    run.add_argument("--cwd", default=None, help="the kernel's working directory (default: the project root)")
    run.add_argument("--no-progress", action="store_true", help="show nothing while the notebook runs")
    needs = sub.add_parser("needs-synth", help="print 'yes' when the notebooks' configs read the synthetic "
                                               "benchmark (data.source = synth), else 'no'")
    needs.add_argument("notebooks", nargs="+", help="the notebooks whose parameters cells name the configs")
    needs.add_argument("--profile", default=None)
    needs.add_argument("--overlay", action="append", default=[], metavar="FILE")
    needs.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    check = sub.add_parser("check", help="check a built book: every page, its tables and figures, no errors; on "
                                         "each results chapter a result on the first screen (1400 x 1000 px, "
                                         "headless Chromium), no visible code above it, a source line under "
                                         "every table and figure")
    check.add_argument("html_dir", nargs="?", default="book/_build/html")
    check.add_argument("--no-layout", action="store_true",
                       help="skip the first-screen rules (no Chromium needed); the source lines are still checked")
    check.add_argument("--shots", default=None, metavar="DIR",
                       help="also save each chapter's first screen (1400 x 1000 px) as DIR/<chapter>.png")
    shot = sub.add_parser("screenshot", help="render a built book page to PNG with headless Chromium")
    shot.add_argument("html")
    shot.add_argument("png")
    shot.add_argument("--width", type=int, default=1400)
    shot.add_argument("--height", type=int, default=2000)
    return parser


def cli(argv: list[str] | None = None) -> int:
    """``clapemo book run|needs-synth|check|screenshot ...`` (``--help`` for each); errors are ClapEmoErrors,
    reported by ``clapemo``'s entry point."""
    ns = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    if ns.command == "run":
        from clapemo.book.execute import run_notebook

        parameters = {name: _value(value) for name, value in ns.parameter}
        parameters.update({name: value for name, value in ns.raw})
        run_notebook(ns.notebook, ns.output, parameters=parameters, cwd=ns.cwd, progress=not ns.no_progress)
        return 0
    if ns.command == "needs-synth":
        from clapemo.book.config import needs_synth, notebook_configs

        print("yes" if needs_synth(notebook_configs(ns.notebooks), profile=ns.profile, overlays=ns.overlay,
                                   overrides=ns.set) else "no")
        return 0
    if ns.command == "check":
        from clapemo.book.check import LAYOUT_RULES, check_book

        print(check_book(ns.html_dir, layout=not ns.no_layout, shots_dir=ns.shots).to_string())
        if ns.no_layout:
            print(f"not checked (--no-layout): the first-screen rules {', '.join(LAYOUT_RULES)}")
        if ns.shots:
            print(f"first screens written: {ns.shots}")
        print(f"book OK: {ns.html_dir}")
        return 0
    from clapemo.book.check import screenshot

    out = screenshot(ns.html, ns.png, width_px=ns.width, height_px=ns.height)
    print(f"screenshot written: {out}")
    return 0
