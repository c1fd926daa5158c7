"""Where the report's numbers come from: config names and hashes, key settings, results folders."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from clapemo.book.config import root

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from clapemo.config import Config

__all__ = ["provenance"]


def provenance(configs: "dict[str, Config]") -> "pd.DataFrame":
    """Where each experiment's numbers come from: config name and hash, the settings that matter most, and the
    results folder (relative to the project root when inside it).

    Parameters
    ----------
    configs : display name -> the experiment's config (e.g. ``{"Table 3": config3}``).
    """
    import pandas as pd

    from clapemo.config import config_hash

    base = root()
    rows = []
    for title, cfg in configs.items():
        artefact = {"Table 3": "table3", "Table 4": "table4", "Figure 2": "figure2"}.get(title, title)
        folder = Path(cfg.evaluate.results_dir) / artefact / config_hash(cfg)
        try:
            folder = folder.resolve().relative_to(base)
        except ValueError:
            pass
        rows.append({
            "experiment": title, "config": cfg.name, "config hash": config_hash(cfg),
            "data": cfg.data.source + (f" ({cfg.synth.profile}, seed {cfg.synth.seed})"
                                       if cfg.data.source == "synth" else ""),
            "audio encoder": cfg.encoders.audio, "text encoder": cfg.encoders.text,
            "epochs": cfg.train.epochs, "seeds": ", ".join(map(str, cfg.evaluate.seeds)),
            "results folder": str(folder),
        })
    return pd.DataFrame(rows).set_index("experiment").T
