"""Corpus names: the built-in corpora and the modules that load them, and the name of a user's own folder corpus.

A leaf module: :mod:`clapemo.datasets` dispatches on these names and :mod:`clapemo.datasets.folder` keeps own
corpora from taking one of them; both import it, and :mod:`clapemo.datasets` re-exports it.
"""

from __future__ import annotations

__all__ = ["DATASETS", "FOLDER"]

#: corpus name of a user's own folder + labels CSV (:mod:`clapemo.datasets.folder`)
FOLDER = "folder"

#: corpus name -> module that loads it (imported on first use)
DATASETS: dict[str, str] = {
    "ravdess": "clapemo.datasets.ravdess",
    "cremad": "clapemo.datasets.cremad",
    "iemocap": "clapemo.datasets.iemocap",
    "meld": "clapemo.datasets.meld",
    "mosi": "clapemo.datasets.mosi",
    "mosei": "clapemo.datasets.mosei",
    "clotho": "clapemo.datasets.clotho",
    "audiocaps": "clapemo.datasets.audiocaps",
    "macs": "clapemo.datasets.macs",
    "fsd50k": "clapemo.datasets.fsd50k",
}
