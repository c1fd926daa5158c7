"""clapemo: a reproducible companion to *Prompting audios using Acoustic Properties for Emotion Representation*.

Importing the package is light; each stage lives in its own module and pulls its heavy dependencies
(torch, librosa, parselmouth, transformers) only when imported:

``synth`` / ``datasets`` -> ``features`` -> ``prompts`` -> ``encoders`` -> ``model`` / ``loss`` / ``train``
-> ``metrics`` / ``evaluate`` -> ``experiments``.

Importing it also sets the portable-numerics environment (:mod:`clapemo.numerics`): import ``clapemo`` before
NumPy or torch, or run with ``CLAPEMO_NUMERICS=fast``.
"""

from clapemo import numerics as _numerics
from clapemo.errors import ClapEmoError, ConfigError, DataError, ParameterError

# the kernel pins must be in the environment before NumPy or torch load, in this process and those it starts
_numerics.apply()

__version__ = "0.1.0"
__all__ = ["ClapEmoError", "ConfigError", "DataError", "ParameterError", "__version__"]
