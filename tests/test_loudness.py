"""lesson_helpers/data/loudness.py: the loudness baseline against a brute-force search written out plainly."""
import math

import numpy as np
import pytest

from lesson_helpers.data import loudness


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


def plain_rms(rows):
    """Each row's RMS in float64, written out here rather than taken from loudness.rms."""
    return np.sqrt((np.asarray(rows, dtype=np.float64) ** 2).sum(axis=1) / np.shape(rows)[1])


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

    assert train.dtype == np.float32  # the rows as the script hands them over (floatX)
    test_accuracy, threshold, direction, train_accuracy = loudness.baseline(
        train, train_targets, test, test_targets)
    expected = brute_force(plain_rms(train), train_targets > 0.5, plain_rms(test), test_targets > 0.5)
    assert (threshold, direction, train_accuracy, test_accuracy) == expected
    # float32 rows give the float64 copy's answer, to the last bit of the threshold
    assert loudness.baseline(train.astype(np.float64), train_targets, test.astype(np.float64),
                             test_targets) == (test_accuracy, threshold, direction, train_accuracy)
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


def constant_rows(levels):
    """float32 rows whose RMS is the level itself (every sample equal to it)."""
    return np.repeat(np.array(levels, np.float32)[:, None], 1200, axis=1)


def test_summary_line():
    # Worked out by hand. Training: classical at 0.01, 0.02, 0.03, rock at 0.04, 0.05, 0.06, so
    # "rock when RMS > 0.03" is right on all six. Test: classical 0.02 (right), 0.05 (wrong); rock
    # 0.04 (right), 0.01 (wrong): 50%.
    train, test = constant_rows([0.01, 0.02, 0.03, 0.04, 0.05, 0.06]), constant_rows([0.02, 0.05, 0.04, 0.01])
    halves = lambda n: (np.arange(n) >= n // 2).astype(np.float32)
    assert loudness.summary_line(train, halves(6), test, halves(4), 0.8125) == (
        "Test accuracy: the network 81.25%, loudness alone 50.00% (rock when RMS > 0.0300, "
        "the best threshold on the training set)")
    # Louder classical: the rule turns round. Test: 0.05 and 0.04 classical (right), 0.02 rock (right),
    # 0.06 rock (wrong): 75%.
    train, test = constant_rows([0.06, 0.05, 0.04, 0.03, 0.02, 0.01]), constant_rows([0.05, 0.04, 0.02, 0.06])
    assert loudness.summary_line(train, halves(6), test, halves(4), 0.5) == (
        "Test accuracy: the network 50.00%, loudness alone 75.00% (rock when RMS <= 0.0300, "
        "the best threshold on the training set)")


def test_a_rule_that_calls_everything_one_class_is_said_so():
    halves = lambda n: (np.arange(n) >= n // 2).astype(np.float32)
    # All silent: every RMS is 0, so any threshold gives the same answer to every excerpt.
    silent = np.zeros((4, 1200), np.float32)
    line = loudness.summary_line(silent, halves(4), silent[:2], halves(2), 0.5)
    assert line == ("Test accuracy: the network 50.00%, loudness alone 50.00% (every excerpt called rock: "
                    "the training excerpts all have RMS 0.0000, so no threshold tells them apart)")
    assert "-inf" not in line
    # Both classes at 0.1 and 0.2: every split is right on 2 of 4 (worked out by hand), so the first
    # candidate, no split at all, wins; the test set, the same levels, is then half right.
    levels = constant_rows([0.1, 0.2, 0.1, 0.2])
    assert loudness.summary_line(levels, halves(4), levels, halves(4), 0.75) == (
        "Test accuracy: the network 75.00%, loudness alone 50.00% (every excerpt called rock: "
        "no threshold on the training set does better)")


class Split:
    """What loudness.verdict reads of the lesson's DataServer."""

    def __init__(self, train, test):
        halves = lambda n: (np.arange(n) >= n // 2).astype(np.float32)
        self.train, self.train_targets, self.test, self.test_targets = train, halves(len(train)), test, halves(len(test))


@pytest.mark.parametrize("network, stand_in, sentence", [
    # Loudness alone gets 50.00% on this test set (test_summary_line, by hand).
    (0.5095, False, "Verdict: the network's 50.95% is 0.95 points above loudness alone (50.00%), so it learned about "
                    "as much as the volume tells, and nothing this test set can show beyond it."),
    (0.5, True, "Verdict on the generated stand-in: the network's 50.00% is level with loudness alone (50.00%), so it "
                "learned about as much as the volume tells, and nothing this test set can show beyond it."),
    (0.51, False, "Verdict: the network's 51.00% is 1.00 points above loudness alone (50.00%), so it learned 1.00 "
                  "points beyond what the volume tells, from the shape of the waveform."),
    (0.8125, False, "Verdict: the network's 81.25% is 31.25 points above loudness alone (50.00%), so it learned 31.25 "
                    "points beyond what the volume tells, from the shape of the waveform."),
    (0.4905, False, "Verdict: the network's 49.05% is 0.95 points below loudness alone (50.00%), so it learned about "
                    "as much as the volume tells, and nothing this test set can show beyond it."),
    (0.25, True, "Verdict on the generated stand-in: the network's 25.00% is 25.00 points below loudness alone "
                 "(50.00%), so it learned less than the volume alone tells."),
])
def test_the_verdict_in_words(network, stand_in, sentence):
    data = Split(constant_rows([0.01, 0.02, 0.03, 0.04, 0.05, 0.06]), constant_rows([0.02, 0.05, 0.04, 0.01]))
    assert loudness.verdict(data, network, stand_in) == sentence


def test_the_verdict_compares_the_accuracies_as_printed():
    # 50.004% prints as 50.00%, level with loudness alone's 50.00%: no difference of 0.00 points above.
    data = Split(constant_rows([0.01, 0.02, 0.03, 0.04, 0.05, 0.06]), constant_rows([0.02, 0.05, 0.04, 0.01]))
    assert "is level with loudness alone (50.00%)" in loudness.verdict(data, 0.50004, False)
