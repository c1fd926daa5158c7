"""One exception family for everything clapemo raises on purpose.

Messages name the argument (or file), the offending value and the rule, so a newcomer can fix the input
without reading the source.
"""

from __future__ import annotations

__all__ = ["ClapEmoError", "ParameterError", "DataError", "ConfigError"]


class ClapEmoError(Exception):
    """Base class of every error clapemo raises deliberately."""


class ParameterError(ClapEmoError, ValueError):
    """A function argument is out of range or of the wrong kind."""


class DataError(ClapEmoError):
    """An input file or table (audio, corpus label file, manifest) breaks a rule."""


class ConfigError(ClapEmoError):
    """A configuration file or value is invalid (unknown key, wrong type, out of range)."""
