"""``clapemo config``: print the resolved config of an experiment and its run id."""

from __future__ import annotations

import argparse

from clapemo.config import add_config_arguments, config_from_args, config_hash, to_dict


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="clapemo config", description=__doc__)
    add_config_arguments(parser, positional=True)
    args = parser.parse_args(argv)
    import yaml

    config = config_from_args(args)
    print(f"# run id: {config_hash(config)}")
    print(yaml.safe_dump(to_dict(config), sort_keys=False), end="")
    return 0
