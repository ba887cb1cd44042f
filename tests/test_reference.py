"""benchmark/reference.py, the tests' oracle, against brute force: its gradients against finite
differences of its loss, its loss against the formulas written out here."""
import numpy as np
import pytest

from benchmark.reference import NumpyMLP

SIZES = (6, 5, 4, 1)


def start(seed=0):
    rng = np.random.RandomState(seed)
    params = []
    for rows, columns in zip(SIZES[:-1], SIZES[1:]):
        params += [rng.standard_normal((rows, columns)) * 0.7, rng.standard_normal(columns) * 0.3]
    inputs = rng.standard_normal((8, SIZES[0]))  # float64: the loss is then computed in float64
    return [p.astype(np.float32) for p in params], inputs, np.float64([0, 1, 1, 0, 1, 0, 0, 1])


def loss_by_hand(params, inputs, targets, loss):
    """The network's mean loss, written out: ReLU layers, a sigmoid output."""
    hidden = inputs
    for W, B in zip(params[0:-2:2], params[1:-2:2]):
        hidden = np.maximum(hidden @ W.astype(np.float64) + B, 0)
    prob = 1 / (1 + np.exp(-(hidden @ params[-2].astype(np.float64) + params[-1])[:, 0]))
    if loss == "bce":
        return np.mean(-targets * np.log(prob) - (1 - targets) * np.log(1 - prob))
    return np.mean((prob - targets) ** 2)


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_one_step_follows_the_finite_difference_gradient(loss):
    params, inputs, targets = start()
    model = NumpyMLP(params, learning_rate=1.0, loss=loss)
    cost = model.train_batch(inputs, targets)
    assert cost == pytest.approx(loss_by_hand(params, inputs, targets, loss), rel=1e-6)
    for index, (before, after) in enumerate(zip(params, model.params)):
        step = before.astype(np.float64) - after  # learning rate 1: the gradient itself
        for position in np.ndindex(before.shape):
            up, down = [p.copy() for p in params], [p.copy() for p in params]
            up[index][position] += np.float32(1e-3)
            down[index][position] -= np.float32(1e-3)
            width = float(up[index][position]) - float(down[index][position])
            slope = (loss_by_hand(up, inputs, targets, loss) - loss_by_hand(down, inputs, targets, loss)) / width
            assert step[position] == pytest.approx(slope, rel=2e-3, abs=2e-6), (loss, index, position)


def test_the_callers_arrays_stay_untouched():
    params, inputs, targets = start(1)
    kept = [p.copy() for p in params]
    NumpyMLP(params).train_batch(inputs, targets)
    assert all(np.array_equal(p, k) for p, k in zip(params, kept))
