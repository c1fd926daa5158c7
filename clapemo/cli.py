"""The ``clapemo`` command line: one subcommand per pipeline stage.

Each subcommand lives in its stage module as ``cli(argv) -> int`` (or ``module:function`` for a module with
several) and is imported only when run, so ``clapemo --help`` is instant. A subcommand is listed only once its
module exists. A broken pipe (``clapemo config ... | head``) ends quietly.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
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
    "runs": ("clapemo.runs", "list the trained runs (corpora, prompt kind, seed, headline metric) and their names"),
    "describe": ("clapemo.describe", "measure your own audio and print its acoustic-prompt words"),
    "index": ("clapemo.search:index_cli", "embed a folder of audio with a trained run into a searchable index"),
    "search": ("clapemo.search:search_cli", "search an index with text queries (\"high pitch anger\")"),
    "classify": ("clapemo.classify", "zero-shot emotion recognition of your own audio with a trained run"),
    "book": ("clapemo.book", "build helpers of the book (notebook config, page check, screenshot)"),
    "doctor": ("clapemo.doctor", "check the environment against the lock, the device and the data folders"),
    "verify": ("clapemo.verify", "compare a built run's results with the published ones, number by number"),
    "portability": ("clapemo.portability", "run a micro slice here and on an emulated older CPU, compare the bits"),
}


def _target(spec: str) -> tuple[str, str]:
    module, _, function = spec.partition(":")
    return module, function or "cli"


def available() -> dict[str, tuple[str, str]]:
    """The subcommands whose modules exist in this installation."""
    out = {}
    for name, spec in SUBCOMMANDS.items():
        try:
            found = importlib.util.find_spec(_target(spec[0])[0]) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            out[name] = spec
    return out


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
    module_name, function = _target(commands[ns.subcommand][0])
    if {"--quiet", "-q"} & set(argv[1:]):
        # quiet means every bar of the command: nested stages (a train that extracts features or regenerates a
        # corpus) and the worker processes it starts read the same switch (clapemo.executor.progress_disabled)
        os.environ["TQDM_DISABLE"] = "1"
    module = importlib.import_module(module_name)
    try:
        return int(getattr(module, function)(argv[1:]) or 0)
    except ClapEmoError as err:
        print(f"clapemo {ns.subcommand}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (| head): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"clapemo {ns.subcommand}: interrupted", file=sys.stderr)
        return 130
