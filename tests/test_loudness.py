"""lesson_helpers/loudness.py: the loudness baseline against a brute-force search written out plainly."""
import math

import numpy as np
import pytest

from lesson_helpers import loudness


def brute_force(train_rms, train_rock, test_rms, test_rock):
    """Every threshold (each training value, and below all of them) in both directions; the first
    best in the order +1 before -1, smaller threshold first. Returns (threshold, direction,
    training accuracy, test accuracy)."""
    best = None
    for direction in (1, -1):
        for threshold in [-math.inf] + sorted(set(train_rms.tolist())):
            called = [(value > threshold) == (direction == 1) for value in train_rms]
            hits = sum(c == r for c, r in zip(called, train_rock))
            if best is None or hits > best[2]:
                best = (threshold, direction, hits)
    threshold, direction, hits = best
    called = [(value > threshold) == (direction == 1) for value in test_rms]
    test_hits = sum(c == r for c, r in zip(called, test_rock))
    return threshold, direction, hits / len(train_rms), test_hits / len(test_rms)


def excerpts(rng, num_rows, classical_level, rock_level, quantum=None):
    """Noise whose loudness is drawn per row, classical around one level and rock around another."""
    levels = np.where(np.arange(num_rows) < num_rows // 2, classical_level, rock_level)
    levels = levels * rng.lognormal(0, 0.6, num_rows)
    if quantum:  # many rows of equal loudness: thresholds must not split between equal values
        levels = np.round(levels / quantum) * quantum + quantum
    rows = rng.standard_normal((num_rows, 1200))
    rows /= np.sqrt(np.mean(rows ** 2, axis=1, keepdims=True))
    return (rows * levels[:, None]).astype(np.float32)


def test_rms_matches_the_definition():
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((2100, 1200)).astype(np.float32) * rng.uniform(0, 1, (2100, 1))
    expected = [math.sqrt(sum(float(v) ** 2 for v in row) / len(row)) for row in rows[::97]]
    np.testing.assert_allclose(loudness.rms(rows)[::97], expected, rtol=1e-12)
    assert loudness.rms(rows).shape == (2100,)


@pytest.mark.parametrize("classical_level, rock_level, quantum", [
    (0.03, 0.1, None),      # the lesson's data: classical quieter
    (0.1, 0.03, None),      # reversed: the threshold must turn round
    (0.05, 0.05, None),     # no difference: about chance
    (0.03, 0.1, 0.01),      # many equal loudnesses
])
def test_matches_brute_force(classical_level, rock_level, quantum):
    rng = np.random.default_rng(7)
    train, test = (excerpts(rng, n, classical_level, rock_level, quantum) for n in (300, 120))
    train_targets = (np.arange(300) >= 150).astype(np.float32)
    test_targets = (np.arange(120) >= 60).astype(np.float32)

    test_accuracy, threshold, direction, train_accuracy = loudness.baseline(
        train, train_targets, test, test_targets)
    expected = brute_force(loudness.rms(train), train_targets > 0.5, loudness.rms(test), test_targets > 0.5)
    assert (threshold, direction, train_accuracy, test_accuracy) == expected
    if classical_level != rock_level:
        assert direction == (1 if rock_level > classical_level else -1)
        assert train_accuracy > 0.75


def test_perfectly_separated_and_one_class():
    rock = np.array([False, False, True, True])
    assert loudness.best_threshold([0.1, 0.2, 0.3, 0.4], rock) == (0.2, 1, 1.0)
    assert loudness.best_threshold([0.4, 0.3, 0.2, 0.1], rock) == (0.2, -1, 1.0)
    # equal loudness on both sides of the class boundary: no threshold can split them
    assert loudness.best_threshold([0.1, 0.2, 0.2, 0.3], rock) == (0.1, 1, 0.75)
    assert loudness.best_threshold([0.5, 0.5], np.array([True, True])) == (-math.inf, 1, 1.0)


def test_summary_line():
    rng = np.random.default_rng(3)
    train, test = excerpts(rng, 200, 0.03, 0.1), excerpts(rng, 100, 0.03, 0.1)
    targets = lambda n: (np.arange(n) >= n // 2).astype(np.float32)
    test_accuracy, threshold, _, _ = loudness.baseline(train, targets(200), test, targets(100))
    line = loudness.summary_line(train, targets(200), test, targets(100), 0.8125)
    assert line == ("Test accuracy: the network 81.25%%, loudness alone %.2f%% (rock when RMS > %.4f, "
                    "the best threshold on the training set)" % (100 * test_accuracy, threshold))
