"""Checks of the built book: every page, its tables and figures, no errors; a headless-Chromium screenshot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from clapemo.errors import ClapEmoError, DataError, ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["BOOK_PAGES", "check_book", "screenshot", "find_chromium"]

_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


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
    browser = find_chromium()
    if browser is None:
        raise ClapEmoError("screenshot: no Chromium found; install it (apt-get install -y chromium) "
                           "or point $CHROMIUM at a Chrome/Chromium executable")
    png.parent.mkdir(parents=True, exist_ok=True)
    if png.exists():
        png.unlink()
    with tempfile.TemporaryDirectory(prefix="clapemo-chromium-") as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--hide-scrollbars", "--disable-dev-shm-usage",
               f"--user-data-dir={profile}", f"--window-size={width_px},{height_px}",
               "--virtual-time-budget=5000", f"--screenshot={png}", html.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              env={**os.environ, "HOME": profile})
    if not png.is_file() or png.stat().st_size == 0:
        raise DataError(f"screenshot: Chromium wrote no image {png} (exit {proc.returncode}): "
                        f"{proc.stderr.strip()[-500:]}")
    return png


#: the pages of the built book and what each must show (tables / images / audio players at least)
BOOK_PAGES: dict[str, dict[str, int]] = {
    "intro.html": {"tables": 0, "images": 0},
    "executed/01_prompt_generation.html": {"tables": 4, "images": 3},
    "executed/02_ear_table.html": {"tables": 3, "images": 0},
    "executed/03_ser_table.html": {"tables": 3, "images": 0},
    "executed/04_prompt_analysis.html": {"tables": 3, "images": 2},
    "executed/05_report.html": {"tables": 4, "images": 1},
    "executed/06_extensions.html": {"tables": 6, "images": 2},
    "real_data.html": {"tables": 0, "images": 0},
    "executed/07_search_your_audio.html": {"tables": 2, "images": 0, "audio": 1},
}


def check_book(html_dir: str | Path, *, pages: dict[str, dict[str, int]] | None = None) -> "pd.DataFrame":
    """Check a built book: every page exists and shows at least the expected number of tables and images, and
    no notebook output holds an error or a traceback.

    Parameters
    ----------
    html_dir : the ``_build/html`` folder of ``jupyter-book build``.
    pages : page -> ``{"tables": n, "images": m, "audio": a}`` minimums (default :data:`BOOK_PAGES`).

    Returns
    -------
    DataFrame, one row per page: ``tables``, ``images``, ``audio``, ``ok``.

    Raises
    ------
    DataError
        Naming every page that is missing or falls short.
    """
    import pandas as pd

    html_dir = Path(html_dir)
    pages = BOOK_PAGES if pages is None else pages
    rows, problems = [], []
    for page, need in pages.items():
        path = html_dir / page
        if not path.is_file():
            problems.append(f"{page}: missing")
            rows.append({"page": page, "tables": 0, "images": 0, "ok": False})
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        main = text.split('<main', 1)[-1]
        tables = len(re.findall(r"<table\b", main))
        images = len(re.findall(r"<img\b[^>]*src=\"[^\"]*_images/", main))
        audio = len(re.findall(r"<audio\b", main))
        bad = [w for w in ("Traceback (most recent call last)", "ename", "output_error") if w in main]
        ok = (tables >= need.get("tables", 0) and images >= need.get("images", 0)
              and audio >= need.get("audio", 0) and not bad)
        if not ok:
            problems.append(f"{page}: {tables} tables (need {need.get('tables', 0)}), {images} images "
                            f"(need {need.get('images', 0)}), {audio} audio players (need {need.get('audio', 0)})"
                            f"{', errors: ' + ', '.join(bad) if bad else ''}")
        rows.append({"page": page, "tables": tables, "images": images, "audio": audio, "ok": ok})
    if problems:
        raise DataError("the built book falls short:\n  " + "\n  ".join(problems))
    return pd.DataFrame(rows).set_index("page")
