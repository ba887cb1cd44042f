"""The Theano graph against an independent NumPy implementation of the same network."""
import numpy as np
import pytest

from benchmark.reference import NumpyMLP
from conftest import separable


def test_parameters_are_the_lessons(model):
    shapes = [(p.name, p.get_value().dtype, p.get_value().shape) for p in model.params]
    assert shapes == [("W1", np.float32, (1200, 256)), ("B1", np.float32, (256,)),
                      ("W2", np.float32, (256, 64)), ("B2", np.float32, (64,)),
                      ("W3", np.float32, (64, 1)), ("B3", np.float32, (1,))]
    assert model.num_parameters() == 323969
    W1 = model.params[0].get_value()
    assert abs(W1.mean()) < 0.002 and abs(W1.std() - 0.1) < 0.002  # N(0, 0.1^2)


def test_aligned_copies_keep_values_and_start_on_64_bytes():
    from lesson_helpers.data.aligned import aligned
    for shape, dtype in [((1200, 256), np.float32), ((256,), np.float32), ((3, 5), np.float64), ((7,), np.int8)]:
        for _ in range(8):  # several allocations: NumPy's own land on 16-byte boundaries at random
            values = np.arange(np.prod(shape)).reshape(shape).astype(dtype)
            copy = aligned(values)
            assert copy.ctypes.data % 64 == 0 and copy.dtype == dtype and copy.flags.c_contiguous
            np.testing.assert_array_equal(copy, values)
            assert not np.shares_memory(copy, values)


def test_weights_stay_aligned_where_theano_updates_them(genre_mlp, model):
    from lesson_helpers.command_line.model_file import load_parameters
    addresses = [p.get_value(borrow=True).ctypes.data for p in model.params]
    assert all(address % 64 == 0 for address in addresses)
    model.train_batch(separable(16), np.ones(16, np.float32))
    # The update wrote in place: the BLAS keeps working on the aligned arrays.
    assert [p.get_value(borrow=True).ctypes.data for p in model.params] == addresses
    saved = {p.name: p.get_value() + 1 for p in model.params}
    load_parameters(model, saved)
    for param in model.params:
        assert param.get_value(borrow=True).ctypes.data % 64 == 0
        np.testing.assert_array_equal(param.get_value(), saved[param.name])


def test_200_updates_match_numpy(genre_mlp, model):
    reference = NumpyMLP([p.get_value() for p in model.params], learning_rate=genre_mlp.LEARNING_RATE)
    data = genre_mlp.DataServer(arrays=(separable(800, 3), separable(200, 4)), seed=7)
    theano_losses, numpy_losses = [], []
    for _ in range(200):
        inputs, targets = data.get_train_sample(genre_mlp.BATCH_SIZE)
        theano_losses.append(model.train_batch(inputs, targets))
        numpy_losses.append(reference.train_batch(inputs, targets))
    np.testing.assert_allclose(theano_losses, numpy_losses, rtol=1e-4, atol=1e-5)
    assert numpy_losses[-1] < 0.5 * numpy_losses[0]  # it learned, so the comparison means something
    for param, expected in zip(model.params, reference.params):
        np.testing.assert_allclose(param.get_value(), expected, atol=1e-5, err_msg=param.name)
    test_inputs, test_targets = data.get_test()
    predictions, loss = model.evaluate(test_inputs, test_targets)
    np.testing.assert_allclose(predictions, reference.predict(test_inputs)[0], atol=1e-5)
    np.testing.assert_allclose(loss, reference.cost(test_inputs, test_targets), rtol=1e-4)


@pytest.mark.parametrize("logit", [20.0, -20.0, 100.0, -100.0])
@pytest.mark.parametrize("target", [0.0, 1.0])
def test_saturated_output_stays_finite_and_correct(genre_mlp, model, logit, target):
    # W3 = 0 and B3 = logit make every excerpt's logit exactly `logit`.
    params = {p.name: p for p in model.params}
    params["W3"].set_value(np.zeros((64, 1), np.float32))
    params["B3"].set_value(np.array([logit], np.float32))
    inputs = separable(16)
    targets = np.full(16, target, np.float32)
    predictions, loss = model.evaluate(inputs, targets)
    expected_loss = np.logaddexp(0, logit) - target * logit  # softplus(z) - t z
    assert np.isfinite(loss) and np.isclose(loss, expected_loss, rtol=1e-6, atol=1e-7)
    train_loss = model.train_batch(inputs, targets)
    assert np.isclose(train_loss, expected_loss, rtol=1e-6, atol=1e-7)
    # d loss / d B3 = mean(sigmoid(z) - t): +-1 when saturated the wrong way, 0 the right way.
    gradient = 1 / (1 + np.exp(-logit)) - target
    new_bias = params["B3"].get_value()[0]
    assert np.isfinite(new_bias)
    assert np.isclose(new_bias, logit - genre_mlp.LEARNING_RATE * gradient, atol=1e-5)
    assert all(np.isfinite(p.get_value()).all() for p in model.params)


def test_squared_error_matches_numpy(genre_mlp):
    # --loss mse, the lesson's own cost; a second compile, kept to this one test.
    model = genre_mlp.Model(loss="mse", seed=11)
    reference = NumpyMLP([p.get_value() for p in model.params], loss="mse")
    data = genre_mlp.DataServer(arrays=(separable(800, 3), separable(200, 4)), seed=8)
    for _ in range(50):
        inputs, targets = data.get_train_sample(16)
        np.testing.assert_allclose(model.train_batch(inputs, targets),
                                   reference.train_batch(inputs, targets), rtol=1e-4, atol=1e-6)
    for param, expected in zip(model.params, reference.params):
        np.testing.assert_allclose(param.get_value(), expected, atol=1e-5, err_msg=param.name)


def test_training_loop_reports_each_evaluation(genre_mlp, model, capsys):
    data = genre_mlp.DataServer(arrays=(separable(800, 3), separable(200, 4)), seed=9)
    history = genre_mlp.train(model, data, num_updates=300, eval_step=100)
    lines = capsys.readouterr().out.splitlines()
    assert [row[0] for row in history] == [100, 200, 300]
    assert lines[0].startswith("Accuracy after update 100/300: ")
    assert history[-1][3] > 0.95  # separable data is learned
    assert history[-1][2] < history[0][2]


def test_test_set_kept_beside_the_parameters_evaluates_the_same(genre_mlp):
    # genre_mlp.py keeps the test set in a shared variable (on the GPU, where there is one).
    data = genre_mlp.DataServer(arrays=(separable(40, 3), separable(200, 4)))
    model = genre_mlp.Model(seed=12, test_set=data.get_test())
    on_device = model.evaluate_test()
    passed_in = model.evaluate(*data.get_test())
    np.testing.assert_array_equal(on_device[0], passed_in[0])
    assert on_device[1] == passed_in[1]
    assert genre_mlp.evaluate_test_set(model, data)[1] == pytest.approx(float(passed_in[1]))


class Recorded(object):
    """The model as train() sees it, keeping every batch loss its train_batch returns."""

    def __init__(self, model):
        self.model, self.losses = model, []
        self.evaluate, self.evaluate_test = model.evaluate, model.evaluate_test
        self.learning_rate = model.learning_rate  # train() names it when a loss diverges

    def train_batch(self, inputs, targets):
        self.losses.append(float(self.model.train_batch(inputs, targets)))
        return self.losses[-1]


def test_train_loss_is_the_mean_since_the_last_evaluation_and_the_end_is_evaluated(genre_mlp, model, capsys):
    data = genre_mlp.DataServer(arrays=(separable(800, 3), separable(200, 4)), seed=9)
    recorded = Recorded(model)
    history = genre_mlp.train(recorded, data, num_updates=250, eval_step=100)
    lines = capsys.readouterr().out.splitlines()
    # 250 is no multiple of 100: the last 50 updates get an evaluation of their own.
    assert [row[0] for row in history] == [100, 200, 250] and len(recorded.losses) == 250
    for (update, train_loss, _, _), first in zip(history, [0, 100, 200]):
        assert train_loss == pytest.approx(np.mean(recorded.losses[first:update]), rel=1e-6)
    assert lines[-1].startswith("Accuracy after update 250/250: ")
    assert "train loss %.4f" % np.mean(recorded.losses[200:]) in lines[-1]
    # The last row describes the network as training left it.
    assert history[-1][2:] == genre_mlp.evaluate_test_set(model, data)[::-1]
