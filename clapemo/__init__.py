"""clapemo: a reproducible companion to *Prompting audios using Acoustic Properties for Emotion Representation*.

Importing the package is light; each stage lives in its own module and pulls its heavy dependencies
(torch, librosa, parselmouth, transformers) only when imported:

``synth`` / ``datasets`` -> ``features`` -> ``prompts`` -> ``encoders`` -> ``model`` / ``loss`` / ``train``
-> ``metrics`` / ``evaluate`` -> ``experiments``.
"""

from clapemo.errors import ClapEmoError, ConfigError, DataError, ParameterError

__version__ = "0.1.0"
__all__ = ["ClapEmoError", "ConfigError", "DataError", "ParameterError", "__version__"]
