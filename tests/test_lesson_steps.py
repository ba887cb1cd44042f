"""The lesson's steps before and after training, as the cells and the script show them: the data's
summary, --same-loudness, --hidden, the untrained network, one SGD step, the confusion matrix,
the graph's summary, and the excerpts made audible."""
import numpy as np
import pytest

from conftest import report_lines, run_lesson, run_script, separable, write_npz
from test_loudness import plain_rms
from benchmark.reference import NumpyMLP
from lesson_helpers.data import loudness
from lesson_helpers.drawing.graph import graph_summary

SHAPES = [(1200, 256), (256,), (256, 64), (64,), (64, 1), (1,)]


def lessons_start(seed, shapes=SHAPES):
    """The lesson's first weights, drawn here as the lesson describes them: N(0, 0.1^2), in turn."""
    random = np.random.RandomState(seed)
    return [0.1 * random.standard_normal(shape) for shape in shapes]


def halves(n):
    return (np.arange(n) >= n // 2).astype(np.float32)


def louder_rock_file(path):
    """Rock three times as loud as classical: loudness alone tells them apart."""
    train, test = separable(400, 1), separable(100, 2)
    rng = np.random.RandomState(3)
    train, test = (0.05 * rng.standard_normal(rows.shape).astype(np.float32) for rows in (train, test))
    train[200:] *= 3
    test[50:] *= 3
    return write_npz(path, train=train, test=test)


def printed(result, start):
    return [line for line in result.stdout.splitlines() if line.startswith(start)]


# ---------------------------------------------------------------------------
# The script's new lines, against plain NumPy
# ---------------------------------------------------------------------------
def test_the_script_shows_the_data_the_start_and_one_step(small_file):
    result = run_script("--data", small_file, "--updates", "10", "--eval-step", "10", "--seed", "5")
    assert result.returncode == 0, result.stderr
    with np.load(small_file) as arrays:
        train, test = arrays["train"], arrays["test"]
    assert printed(result, "Data:") == ["Data: 400 training excerpts (200 classical, 200 rock), 100 test "
                                        "(50 classical, 50 rock), 1200 samples each"]
    rms = plain_rms(train)
    assert printed(result, "Values from") == ["Values from %.4f to %.4f; mean RMS (loudness) %.4f classical, "
                                              "%.4f rock" % (min(train.min(), test.min()), max(train.max(),
                                              test.max()), rms[:200].mean(), rms[200:].mean())]
    reference = NumpyMLP(lessons_start(5))
    probability = reference.predict(test)[0]
    accuracy = np.mean((probability > 0.5) == (halves(100) > 0.5))
    (line,) = printed(result, "Accuracy before training:")
    assert line == "Accuracy before training: %.2f%%  test loss %.4f" % (100 * accuracy,
                                                                           reference.cost(test, halves(100)))
    # One step on a batch drawn from seed + 1, apart from the training's batches.
    rows = np.random.RandomState(6).randint(0, 400, size=16)
    before = reference.train_batch(train[rows], halves(400)[rows])
    after = reference.cost(train[rows], halves(400)[rows])
    (line,) = printed(result, "One SGD step")
    assert line == ("One SGD step on a batch of 16 training excerpts: its loss %.4f before, %.4f after "
                    "(the weights are then put back)" % (before, after))
    assert after < before
    lines = result.stdout.splitlines()
    assert lines.index(line) < lines.index(printed(result, "Accuracy after update 10/10")[0])


def test_with_updates_0_only_the_loaded_model_is_evaluated(small_file, tmp_path):
    model = str(tmp_path / "model.npz")
    assert run_script("--data", small_file, "--updates", "5", "--eval-step", "5", "--save", model).returncode == 0
    result = run_script("--data", small_file, "--load", model, "--updates", "0")
    assert result.returncode == 0, result.stderr
    assert len(printed(result, "Accuracy of the loaded model:")) == 1
    assert printed(result, "Accuracy before training") == [] and printed(result, "One SGD step") == []


def test_same_loudness_leaves_loudness_alone_at_chance(tmp_path):
    data = louder_rock_file(tmp_path / "loud.npz")
    plain = run_script("--data", data, "--updates", "10", "--eval-step", "10")
    scaled = run_script("--data", data, "--updates", "10", "--eval-step", "10", "--same-loudness")
    assert plain.returncode == 0 and scaled.returncode == 0, scaled.stderr
    assert "loudness alone 100.00%" in report_lines(plain.stdout)[-1]
    # All RMS are then equal but for float32 rounding, which is all the threshold can split on.
    loudness = float(report_lines(scaled.stdout)[-1].split("loudness alone ")[1].split("%")[0])
    assert abs(loudness - 50) <= 10, report_lines(scaled.stdout)[-1]


def test_same_loudness_scales_every_row_to_the_training_sets_mean_rms(genre_mlp):
    rng = np.random.RandomState(0)
    train = (rng.standard_normal((6, 1200)) * np.array([1, 2, 3, 4, 5, 6])[:, None]).astype(np.float32)
    test = (rng.standard_normal((4, 1200)) * 0.1).astype(np.float32)
    test[1] = 0.0  # a silent excerpt: left as it is, no division by zero
    data = genre_mlp.DataServer(arrays=(train.copy(), test.copy()))
    loudness.same_loudness(data)
    target = np.mean(np.sqrt(np.mean(train.astype(np.float64) ** 2, axis=1)))
    np.testing.assert_allclose(plain_rms(data.train), target, rtol=1e-5)
    np.testing.assert_allclose(plain_rms(data.test[[0, 2, 3]]), target, rtol=1e-5)
    assert not data.test[1].any()
    # Each row keeps its shape: only its scale changed.
    np.testing.assert_allclose(data.train[3] / data.train[3, 0], train[3] / train[3, 0], rtol=1e-4)


def test_hidden_sizes_reach_the_model(genre_mlp, small_file, tmp_path):
    saved = str(tmp_path / "model.npz")
    result = run_script("--data", small_file, "--updates", "1", "--eval-step", "1", "--seed", "3",
                        "--hidden", "8,4,2", "--save", saved)
    assert result.returncode == 0, result.stderr
    shapes = [(1200, 8), (8,), (8, 4), (4,), (4, 2), (2,), (2, 1), (1,)]
    assert "  W3  float32  (4, 2)" in result.stdout and "9,657 parameters" in result.stdout
    reference = NumpyMLP(lessons_start(3, shapes))
    reference.train_batch(*genre_mlp.DataServer(small_file, seed=3).get_train_sample(16))
    with np.load(saved) as model:
        assert model["hidden_sizes"].tolist() == [8, 4, 2]
        for index, expected in enumerate(reference.params):
            name = "%s%d" % ("WB"[index % 2], index // 2 + 1)
            np.testing.assert_allclose(model[name], expected, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("value", ["256,x", "0", "", "256,,64", "-4", "2.5"])
def test_bad_hidden_sizes_are_one_line(genre_mlp, capsys, value):
    with pytest.raises(SystemExit) as stop:
        run_lesson(["--hidden", value])
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: argument --hidden: must be positive whole numbers separated by commas, such as 256,64, "
        "not %r; see genre_mlp.py --help" % value]


# ---------------------------------------------------------------------------
# The steps' functions, in this process (the compiled lesson network)
# ---------------------------------------------------------------------------
def test_one_step_puts_back_the_weights_and_leaves_the_batches_alone(genre_mlp, model, small_file):
    data = genre_mlp.DataServer(small_file, seed=2)
    arrays = [param.get_value(borrow=True) for param in model.params]
    start = [array.copy() for array in arrays]
    before, after = genre_mlp.one_step(model, data, 16, seed=2)
    assert after < before
    for param, array, value in zip(model.params, arrays, start):
        assert param.get_value(borrow=True) is array  # the very (aligned) array, not a copy
        np.testing.assert_array_equal(array, value)
    untouched = genre_mlp.DataServer(small_file, seed=2)
    np.testing.assert_array_equal(data.get_train_sample(16)[0], untouched.get_train_sample(16)[0])


def test_confusion_counts_as_plain_numpy_does(genre_mlp, model, small_file):
    data = genre_mlp.DataServer(small_file)
    counts, predictions = genre_mlp.confusion(model, data)
    values = [param.get_value() for param in model.params]
    probability = NumpyMLP(values).predict(data.test)[0]
    np.testing.assert_allclose(predictions, probability, atol=1e-5)
    said, truth = probability > 0.5, halves(100) > 0.5
    expected = [[np.sum(~said[~truth]), np.sum(said[~truth])], [np.sum(~said[truth]), np.sum(said[truth])]]
    assert counts.tolist() == expected and counts.sum() == 100


def test_graph_summary_counts_the_compiled_operations(genre_mlp, model):
    line = graph_summary(model.evaluate)
    total = len(model.evaluate.maker.fgraph.toposort())
    assert line.startswith("%d operations: " % total)
    # The forward pass has one matrix product per layer; training adds the backward ones.
    products = lambda fn: sum("Dot" in type(node.op).__name__ or "Gemm" in type(node.op).__name__
                              for node in fn.maker.fgraph.toposort())
    assert products(model.evaluate) == 3 and products(model.train_batch) > 3


def test_excerpts_are_played_at_8000_hz_with_nothing_above_200():
    from lesson_helpers.sound import listen
    seconds = np.arange(1200) / 400.0
    tone = np.sin(2 * np.pi * 110 * seconds).astype(np.float32)  # an A2, below Nyquist
    played = listen.playable(tone)
    assert played.shape == (24000,)  # the same 3 s
    spectrum = np.abs(np.fft.rfft(played))
    frequencies = np.fft.rfftfreq(len(played), 1 / 8000.0)
    assert abs(frequencies[np.argmax(spectrum)] - 110) < 1
    assert spectrum[frequencies > 210].max() < 0.01 * spectrum.max()
    # The resampled signal passes through the original samples (every 20th), away from the ends.
    np.testing.assert_allclose(played[20 * 100:20 * 1100:20], tone[100:1100], atol=0.02)
    with pytest.raises(ValueError):
        listen.playable(tone, rate=44100)
