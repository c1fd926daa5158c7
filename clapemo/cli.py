"""The ``clapemo`` command line: one subcommand per pipeline stage.

Each subcommand lives in its stage module as ``cli(argv) -> int`` and is imported only when run, so
``clapemo --help`` is instant. A subcommand is listed only once its module exists.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from clapemo import __version__
from clapemo.errors import ClapEmoError

# name -> (module, one-line help), in pipeline order
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "synth": ("clapemo.synth", "generate the synthetic emotional-speech benchmark"),
    "manifest": ("clapemo.datasets", "build a manifest of a real corpus from its folder"),
    "features": ("clapemo.features", "extract pitch, intensity, speech rate and articulation rate"),
    "prompts": ("clapemo.prompts", "turn acoustic properties into acoustic prompts"),
    "embed": ("clapemo.encoders", "encode audio and prompts once into the embedding cache"),
    "train": ("clapemo.train", "train the CLAP projections on audio-prompt pairs"),
    "evaluate": ("clapemo.evaluate", "evaluate a trained run (EAR and SER)"),
    "experiment": ("clapemo.experiments", "run one of the paper's experiments (table3, table4, figure2)"),
    "config": ("clapemo.config_cli", "print or validate a resolved experiment config"),
}


def available() -> dict[str, tuple[str, str]]:
    """The subcommands whose modules exist in this installation."""
    return {name: spec for name, spec in SUBCOMMANDS.items() if importlib.util.find_spec(spec[0]) is not None}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    commands = available()
    parser = argparse.ArgumentParser(
        prog="clapemo",
        description="Acoustic prompts for emotion representation: a reproducible companion to arXiv 2310.02298.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="subcommands:\n" + "\n".join(f"  {n:<11} {h}" for n, (_, h) in commands.items())
        + "\n\nRun 'clapemo <subcommand> --help' for its options.",
    )
    parser.add_argument("--version", action="version", version=f"clapemo {__version__}")
    parser.add_argument("subcommand", choices=sorted(commands), metavar="subcommand")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    if not argv:
        parser.print_help()
        return 0
    ns = parser.parse_args(argv[:1])
    module = importlib.import_module(commands[ns.subcommand][0])
    try:
        return int(module.cli(argv[1:]) or 0)
    except ClapEmoError as err:
        print(f"clapemo {ns.subcommand}: error: {err}", file=sys.stderr)
        return 2
