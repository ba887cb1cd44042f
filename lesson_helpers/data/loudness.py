"""Loudness alone as a classifier: the baseline a genre network has to beat.

Classical excerpts are quieter than rock on average, so one threshold on the
RMS of each excerpt already tells many apart. The threshold and its direction
are chosen on the training set only; the test set just measures them.
NumPy only, so that the report costs no compilation.
"""
import numpy as np


def rms(excerpts, block=1024):
    """Root mean square of each row, accumulated in float64 (a block of rows at a time keeps
    the temporary small)."""
    excerpts = np.asarray(excerpts)
    out = np.empty(len(excerpts))
    for first in range(0, len(excerpts), block):
        rows = excerpts[first:first + block]
        out[first:first + block] = np.sqrt(np.mean(np.square(rows, dtype=np.float64), axis=1))
    return out


def best_threshold(loudness, is_rock):
    """The rule `rock iff loudness > t` (direction +1) or `rock iff loudness <= t` (-1) that
    classifies the most rows correctly; returns (t, direction, accuracy).

    Candidates are every value of `loudness` (a split just above it) and -inf (no split).
    Among equals the first wins: direction +1 before -1, smaller t before larger.
    """
    loudness = np.asarray(loudness, dtype=np.float64)
    is_rock = np.asarray(is_rock, dtype=bool)
    order = np.argsort(loudness, kind="stable")
    values, rock_sorted = loudness[order], is_rock[order]
    # After a split following sorted position k: the k+1 quietest are called classical.
    classical_below = np.concatenate(([0], np.cumsum(~rock_sorted)))
    rock_above = is_rock.sum() - np.concatenate(([0], np.cumsum(rock_sorted)))
    correct = classical_below + rock_above          # for direction +1; length n + 1
    # Only splits between distinct values can be made with a threshold.
    usable = np.concatenate(([True], values[1:] > values[:-1], [True]))
    thresholds = np.concatenate(([-np.inf], values))
    n = len(loudness)
    louder_rock = np.where(usable, correct, -1)
    louder_classical = np.where(usable, n - correct, -1)
    up, down = int(np.argmax(louder_rock)), int(np.argmax(louder_classical))  # argmax: the first best
    if louder_rock[up] >= louder_classical[down]:
        return float(thresholds[up]), 1, louder_rock[up] / n
    return float(thresholds[down]), -1, louder_classical[down] / n


def accuracy(loudness, is_rock, threshold, direction):
    called_rock = np.asarray(loudness) > threshold
    if direction < 0:
        called_rock = ~called_rock
    return float(np.mean(called_rock == np.asarray(is_rock, dtype=bool)))


def baseline(train, train_targets, test, test_targets):
    """(test accuracy, threshold, direction, training accuracy) of the best loudness threshold."""
    threshold, direction, train_accuracy = best_threshold(rms(train), np.asarray(train_targets) > 0.5)
    test_accuracy = accuracy(rms(test), np.asarray(test_targets) > 0.5, threshold, direction)
    return test_accuracy, threshold, direction, train_accuracy


def rule_text(train_loudness, threshold, direction):
    """The rule in words; a threshold that calls every training excerpt one class is said as that."""
    called_rock = accuracy(train_loudness, np.ones(len(train_loudness), bool), threshold, direction)
    if called_rock not in (0.0, 1.0):
        return "rock when RMS %s %.4f, the best threshold on the training set" % (
            ">" if direction > 0 else "<=", threshold)
    said = "every excerpt called %s" % ("rock" if called_rock else "classical")
    if np.ptp(train_loudness) == 0:
        return "%s: the training excerpts all have RMS %.4f, so no threshold tells them apart" % (
            said, train_loudness[0])
    return "%s: no threshold on the training set does better" % said


def summary_line(train, train_targets, test, test_targets, network_accuracy):
    test_accuracy, threshold, direction, _ = baseline(train, train_targets, test, test_targets)
    return ("Test accuracy: the network %.2f%%, loudness alone %.2f%% (%s)"
            % (100 * network_accuracy, 100 * test_accuracy, rule_text(rms(train), threshold, direction)))


def same_loudness(data):
    """--same-loudness: every excerpt scaled to one RMS, the training set's mean, so that
    loudness tells the classes apart no more; silent excerpts stay as they are."""
    target = float(np.mean(rms(data.train)))
    for excerpts in (data.train, data.test):
        level = rms(excerpts)
        scale = np.where(level > 0, target / np.where(level > 0, level, 1.0), 1.0)
        excerpts *= scale[:, None].astype(excerpts.dtype)


def describe_data(data):
    """Two lines: the sizes of the splits and their classes, the values' range and loudness."""
    def count(targets):
        return "%d classical, %d rock" % (np.sum(targets < 0.5), np.sum(targets > 0.5))
    print("Data: %d training excerpts (%s), %d test (%s), %d samples each"
          % (len(data.train), count(data.train_targets), len(data.test), count(data.test_targets),
             data.train.shape[1]))
    level = rms(data.train)
    print("Values from %.4f to %.4f; mean RMS (loudness) %.4f classical, %.4f rock"
          % (min(data.train.min(), data.test.min()), max(data.train.max(), data.test.max()),
             level[data.train_targets < 0.5].mean(), level[data.train_targets > 0.5].mean()))


def summary_of(data, history):
    """The network's last test accuracy beside the best loudness threshold's."""
    return summary_line(data.train, data.train_targets, data.test, data.test_targets, history[-1][3])


def accuracy_alone(data):
    """The test accuracy of loudness alone: the curve's reference line."""
    return baseline(data.train, data.train_targets, data.test, data.test_targets)[0]


# Within a point (20 of 2000 test excerpts) is as close as seeds alone move the two apart: on the
# stand-in, seeds 1234, 1 and 2 put the network 0.10 below, 0.50 and 0.50 above loudness (docs/data.md).
SAME_WITHIN_POINTS = 1.0


def verdict(data, network_accuracy, stand_in):
    """The run's answer in one sentence: the network beside loudness alone, in percentage points
    of the accuracies as printed, and what the difference means. `data` has the lesson's
    DataServer attributes (train, train_targets, test, test_targets)."""
    loudness_accuracy = baseline(data.train, data.train_targets, data.test, data.test_targets)[0]
    network, alone = round(100 * network_accuracy, 2), round(100 * loudness_accuracy, 2)
    points = round(network - alone, 2)
    side = "above" if points > 0 else "below" if points < 0 else "level with"
    gap = "%.2f points %s" % (abs(points), side) if points else "level with"
    if abs(points) < SAME_WITHIN_POINTS:
        meaning = "so it learned about as much as the volume tells, and nothing this test set can show beyond it"
    elif points > 0:
        meaning = "so it learned %.2f points beyond what the volume tells, from the shape of the waveform" % points
    else:
        meaning = "so it learned less than the volume alone tells"
    return "Verdict%s: the network's %.2f%% is %s loudness alone (%.2f%%), %s." % (
        " on the generated stand-in" if stand_in else "", network, gap, alone, meaning)
