"""``clapemo config``: print the resolved config of an experiment and its run id."""

from __future__ import annotations

import argparse

from clapemo.config import config_hash, load_config, to_dict


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="clapemo config", description=__doc__)
    parser.add_argument("config", nargs="?", help="YAML experiment config (default: built-in defaults)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override, repeatable")
    args = parser.parse_args(argv)
    import yaml

    config = load_config(args.config, overrides=args.set)
    print(f"# run id: {config_hash(config)}")
    print(yaml.safe_dump(to_dict(config), sort_keys=False), end="")
    return 0
