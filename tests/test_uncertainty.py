import numpy as np
import pytest

from clapemo.errors import ParameterError
from clapemo.uncertainty import paired_difference, verdict


def test_identical_models_have_zero_difference_and_a_degenerate_interval():
    a = np.random.default_rng(0).integers(0, 2, size=(3, 50)).astype(float)
    d = paired_difference(a, a.copy())
    assert d.mean == 0 and d.low == 0 and d.high == 0 and d.mdd == 0
    assert verdict([d]) == "undecided"


def test_known_mean_and_interval_covers_it():
    rng = np.random.default_rng(1)
    b = rng.integers(0, 2, size=(5, 400)).astype(float)
    a = b.copy()
    flip = rng.random(b.shape) < 0.2  # a is right on 20 % more items, where b was wrong
    a[flip & (b == 0)] = 1.0
    expected = float((a - b).mean())
    d = paired_difference(a, b, n_boot=500)
    assert d.mean == pytest.approx(expected)
    assert d.low < expected < d.high and d.low > 0
    assert verdict([d]) == "holds"
    assert verdict([paired_difference(b, a, n_boot=500)]) == "does not hold"


def test_pairing_removes_the_shared_item_difficulty():
    # items differ a lot in difficulty, models differ by a constant 0.05: paired SE is tiny
    rng = np.random.default_rng(2)
    difficulty = rng.random(200)
    b = np.tile(difficulty, (3, 1))
    a = b + 0.05
    d = paired_difference(a, b, n_boot=300)
    assert d.mean == pytest.approx(0.05) and d.high - d.low < 1e-9


def test_deterministic_and_nan_cells_are_left_out():
    a = np.array([[1.0, 0.0, np.nan], [1.0, 1.0, 0.0]])
    b = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    d1, d2 = paired_difference(a, b, n_boot=200), paired_difference(a, b, n_boot=200)
    assert d1 == d2
    assert d1.mean == pytest.approx(2 / 5)  # 5 scored cells, differences 1, 0, 1, 0, 0


def test_bad_input():
    with pytest.raises(ParameterError, match="one shape"):
        paired_difference(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ParameterError, match="n_boot"):
        paired_difference(np.zeros((2, 3)), np.zeros((2, 3)), n_boot=5)
    with pytest.raises(ParameterError, match="at least one"):
        verdict([])
