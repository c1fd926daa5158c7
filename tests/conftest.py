"""Imported by pytest before any test module: ``clapemo`` first, so that its portable-numerics pins
(:mod:`clapemo.numerics`) are in the environment before NumPy or torch load in the test process."""

import clapemo  # noqa: F401  (the import sets the pins)
