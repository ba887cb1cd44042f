"""genre_cnn.py, the second lesson: its convolutional graph and gradients against an independent NumPy
implementation (benchmark/reference_cnn.py), Adam against steps worked out by hand, the parameter
count, every option's bad input, --help and `import genre_cnn`, and a short run end to end."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from benchmark.reference_cnn import NumpyCNN
from conftest import ROOT, run_lesson, separable, stderr_lines, write_npz
from lesson_helpers import exercises

CNN_SCRIPT = os.path.join(ROOT, "genre_cnn.py")
FILTERS = (32, 32, 48, 48)  # lesson 06's, written out here
STRIDES = (4, 3, 2, 2)  # 1200 samples -> 300 -> 100 -> 50 -> 25 steps


@pytest.fixture(scope="session")
def genre_cnn():
    import genre_cnn
    return genre_cnn


# ---- The graph against NumPy ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def float64_graph(genre_cnn):
    """genre_cnn.forward() on float64 copies of the lesson's initial parameters (their biases moved off
    zero, so that each is tested), compiled once: the logits, both losses, each convolution's output,
    and every parameter's gradient of each loss, for 3 excerpts."""
    import theano
    import theano.tensor as T
    from genre_mlp import cost_of
    start = genre_cnn.make_parameters(FILTERS, STRIDES, seed=5)
    assert [p.name for p in start] == ["K1", "B1", "K2", "B2", "K3", "B3", "K4", "B4", "W5", "B5", "W6", "B6"]
    rng = np.random.RandomState(0)
    values = [p.get_value().astype(np.float64) + (0.05 * rng.standard_normal(p.get_value().shape)
                                                  if p.name.startswith("B") else 0) for p in start]
    shared = [theano.shared(value, name=p.name) for value, p in zip(values, start)]
    inputs, targets = T.dmatrix("inputs"), T.dvector("targets")
    logits, predictions, convolutions = genre_cnn.forward(inputs, shared, STRIDES)
    costs = [cost_of(logits, predictions, targets, loss) for loss in ("bce", "mse")]
    outputs = [logits, predictions] + costs + convolutions
    for cost in costs:
        outputs += theano.grad(cost, shared)
    function = theano.function([inputs, targets], outputs)
    excerpts = rng.uniform(-1, 1, (3, 1200)) * np.array([[0.2], [0.5], [1.0]])  # three loudnesses
    return values, excerpts, np.array([0.0, 1.0, 1.0]), function(excerpts, np.array([0.0, 1.0, 1.0]))


def test_each_convolution_shrinks_time_by_its_stride(float64_graph):
    *_, outputs = float64_graph
    # (excerpts, filters, 1 row, steps): ceil(1200 / 4) = 300, ceil(300 / 3) = 100, 50, 25.
    assert [out.shape for out in outputs[4:8]] == [(3, 32, 1, 300), (3, 32, 1, 100), (3, 48, 1, 50),
                                                   (3, 48, 1, 25)]
    assert outputs[0].shape == (3,)


def test_forward_pass_matches_numpy(float64_graph):
    values, excerpts, targets, outputs = float64_graph
    logits, predictions, bce, mse = outputs[:4]
    for loss, theano_cost in (("bce", bce), ("mse", mse)):
        reference = NumpyCNN(values, STRIDES, loss=loss, dtype=np.float64)
        expected_logits = reference.forward(excerpts)[0]
        np.testing.assert_allclose(logits, expected_logits, rtol=1e-5, atol=1e-12)
        np.testing.assert_allclose(predictions, 1 / (1 + np.exp(-expected_logits)), rtol=1e-5)
        assert theano_cost == pytest.approx(reference.cost(excerpts, targets), rel=1e-5)
    for theano_layer, numpy_layer in zip(outputs[4:8], reference.convolutions(excerpts)):
        np.testing.assert_allclose(theano_layer[:, :, 0, :], numpy_layer, rtol=1e-5, atol=1e-12)
        # Some units on and some off: the ReLUs and the biases are tested, not bypassed.
        assert 0.1 < np.mean(numpy_layer > 0) < 0.9


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_every_gradient_matches_numpys_backprop(float64_graph, loss):
    values, excerpts, targets, outputs = float64_graph
    gradients = outputs[8:20] if loss == "bce" else outputs[20:32]
    cost, expected = NumpyCNN(values, STRIDES, loss=loss, dtype=np.float64).gradients(excerpts, targets)
    names = ["K1", "B1", "K2", "B2", "K3", "B3", "K4", "B4", "W5", "B5", "W6", "B6"]
    for name, theano_gradient, numpy_gradient, value in zip(names, gradients, expected, values):
        assert theano_gradient.shape == numpy_gradient.shape == value.shape, name
        assert np.abs(numpy_gradient).max() > 1e-6, name  # a gradient of zeros would prove nothing
        scale = np.abs(numpy_gradient).max()
        np.testing.assert_allclose(theano_gradient, numpy_gradient, rtol=1e-5, atol=1e-5 * scale, err_msg=name)


def small_network(seed=0, width=60):
    """A network of genre_cnn.py's shape, small enough for finite differences: filters (2, 2, 3, 3) of
    widths 5, 5, 3, 3, the lesson's strides (60 samples -> 15 -> 5 -> 3 -> 2 steps), a hidden layer of 4."""
    rng = np.random.RandomState(seed)
    params, channels = [], 1
    for filters, kernel in zip((2, 2, 3, 3), (5, 5, 3, 3)):
        params += [rng.standard_normal((filters, channels, 1, kernel)) * 0.6, rng.standard_normal(filters) * 0.2]
        channels = filters
    params += [rng.standard_normal((3 * 2, 4)) * 0.6, rng.standard_normal(4) * 0.2,
               rng.standard_normal((4, 1)) * 0.6, rng.standard_normal(1) * 0.2]
    return params, rng.standard_normal((5, width)), np.array([0.0, 1, 1, 0, 1])


def convolve_by_hand(row, kernel, stride):
    """One channel, one kernel: the kernel laid on the sound as it is (genre_cnn.py's conv2d with
    filter_flip=False, Keras's Conv1D), 'half' padding, the stride, one output step at a time."""
    pad = len(kernel) // 2
    padded = [0.0] * pad + list(row) + [0.0] * pad
    return [sum(padded[start + j] * kernel[j] for j in range(len(kernel)))
            for start in range(0, len(row), stride)]


def test_the_reference_convolves_as_written_by_hand():
    params, excerpts, _ = small_network()
    reference = NumpyCNN(params, STRIDES, dtype=np.float64)
    first = reference.convolutions(excerpts)[0]  # (5, 2, 15)
    for excerpt in range(5):
        for kernel in range(2):
            by_hand = np.maximum(np.array(convolve_by_hand(excerpts[excerpt], params[0][kernel, 0, 0], 4))
                                 + params[1][kernel], 0)
            np.testing.assert_allclose(first[excerpt, kernel], by_hand, rtol=1e-12, atol=1e-12)
    assert [layer.shape[2] for layer in reference.convolutions(excerpts)] == [15, 5, 3, 2]
    # Flipped (conv2d's default, the textbook convolution), it is the same sums with every kernel mirrored in time.
    mirrored = [p[..., ::-1] if p.ndim == 4 else p for p in params]
    for unflipped, flipped in zip(reference.convolutions(excerpts),
                                  NumpyCNN(mirrored, STRIDES, dtype=np.float64, flip=True).convolutions(excerpts)):
        np.testing.assert_allclose(flipped, unflipped, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("flip", [False, True])  # Keras's cross-correlation (the lesson's), and conv2d's convolution
@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_the_references_gradients_follow_finite_differences(loss, flip):
    params, excerpts, targets = small_network(1)

    def network(values):
        return NumpyCNN(values, STRIDES, loss=loss, dtype=np.float64, flip=flip)
    cost, gradients = network(params).gradients(excerpts, targets)
    rng = np.random.RandomState(2)
    for index, (value, gradient) in enumerate(zip(params, gradients)):
        assert gradient.shape == value.shape
        positions = list(np.ndindex(value.shape))
        for pick in rng.choice(len(positions), min(6, len(positions)), replace=False):
            position = positions[pick]
            up, down = [p.copy() for p in params], [p.copy() for p in params]
            up[index][position] += 1e-6
            down[index][position] -= 1e-6
            slope = (network(up).cost(excerpts, targets) - network(down).cost(excerpts, targets)) / 2e-6
            assert gradient[position] == pytest.approx(slope, rel=1e-5, abs=1e-9), (loss, flip, index, position)


# ---- The model, Adam ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cnn_model(genre_cnn):
    """The lesson's network as genre_cnn.py compiles it (lesson 06's layers, Adam at 0.001)."""
    return genre_cnn.Model()


def test_the_default_model_has_lesson_06s_parameters(cnn_model):
    shapes = [(p.name, p.get_value().dtype, p.get_value().shape) for p in cnn_model.params]
    assert shapes == [("K1", np.float32, (32, 1, 1, 31)), ("B1", np.float32, (32,)),
                      ("K2", np.float32, (32, 32, 1, 31)), ("B2", np.float32, (32,)),
                      ("K3", np.float32, (48, 32, 1, 15)), ("B3", np.float32, (48,)),
                      ("K4", np.float32, (48, 48, 1, 15)), ("B4", np.float32, (48,)),
                      ("W5", np.float32, (1200, 64)), ("B5", np.float32, (64,)),
                      ("W6", np.float32, (64, 1)), ("B6", np.float32, (1,))]
    # 992 + 32 + 31,744 + 32 + 23,040 + 48 + 34,560 + 48 + 76,800 + 64 + 64 + 1: lesson 06's count.
    assert cnn_model.num_parameters() == 167425
    # Glorot-uniform, as Keras draws a convolution's: K1's limit is sqrt(6 / (1 * 31 + 32 * 31)) = 0.07658.
    K1 = cnn_model.params[0].get_value()
    assert 0.073 < np.abs(K1).max() <= 0.07658 and all(not p.get_value().any() for p in cnn_model.params[1::2])


def test_three_adam_updates_match_numpy(genre_cnn, cnn_model):
    # The compiled train_batch, float32 as the lesson runs it, against the reference's Adam.
    reference = NumpyCNN([p.get_value() for p in cnn_model.params], STRIDES, learning_rate=0.001)
    inputs = separable(16, seed=3)
    targets = np.repeat(np.float32([0, 1]), 8)
    theano_losses = [float(cnn_model.train_batch(inputs, targets)) for _ in range(3)]
    numpy_losses = [reference.train_batch(inputs, targets) for _ in range(3)]
    np.testing.assert_allclose(theano_losses, numpy_losses, rtol=1e-5)
    assert numpy_losses[2] < numpy_losses[0]  # it moved
    for param, expected in zip(cnn_model.params, reference.params):
        np.testing.assert_allclose(param.get_value(), expected, rtol=0, atol=1e-5, err_msg=param.name)
    predictions, loss = cnn_model.evaluate(inputs, targets)
    np.testing.assert_allclose(predictions, reference.predict(inputs)[0], atol=1e-5)


@pytest.fixture(scope="module")
def adam_on_a_bowl(genre_cnn):
    """adam_updates compiled for the cost (w1^2 + w2^2) / 2, whose gradient is w itself, from w = (1, -0.5),
    at a learning rate of 0.1; returns (step, w, t, m, v)."""
    import theano
    w = theano.shared(np.float32([1.0, -0.5]), name="w")
    updates = genre_cnn.adam_updates((w ** 2).sum() / 2, [w], 0.1)
    shared = {variable.name: variable for variable, _ in updates}
    assert sorted(shared) == ["m_w", "t", "v_w", "w"]
    return theano.function([], [], updates=updates), w, shared["t"], shared["m_w"], shared["v_w"]


def test_two_adam_steps_worked_out_by_hand(adam_on_a_bowl):
    step, w, t, m, v = adam_on_a_bowl
    step()
    # Step 1, g = (1, -0.5): m = 0.1 g = (0.1, -0.05), v = 0.001 g^2 = (0.001, 0.00025). Corrected by
    # 1 - 0.9 = 0.1 and 1 - 0.999 = 0.001, they are g and g^2 again, so each weight moves by
    # 0.1 * g / |g| = 0.1 towards zero (epsilon, 1e-8, changes the 9th digit): w = (0.9, -0.4).
    assert float(t.get_value()) == 1
    np.testing.assert_allclose(m.get_value(), [0.1, -0.05], rtol=1e-6)
    # (1 - 0.999 is 0.00100005 in float32: the running averages are float32, as the weights are.)
    np.testing.assert_allclose(v.get_value(), [0.001, 0.00025], rtol=5e-5)
    np.testing.assert_allclose(w.get_value(), [0.9, -0.4], rtol=1e-6)
    step()
    # Step 2, g = (0.9, -0.4): m = 0.9 m + 0.1 g = (0.09 + 0.09, -0.045 - 0.04) = (0.18, -0.085);
    # v = 0.999 v + 0.001 g^2 = (0.000999 + 0.00081, 0.00024975 + 0.00016) = (0.001809, 0.00040975).
    # Corrected by 1 - 0.9^2 = 0.19 and 1 - 0.999^2 = 0.001999:
    #   w1 = 0.9 - 0.1 * (0.18 / 0.19) / sqrt(0.001809 / 0.001999) = 0.9 - 0.1 * 0.947368 / 0.951290 = 0.800412
    #   w2 = -0.4 + 0.1 * (0.085 / 0.19) / sqrt(0.00040975 / 0.001999) = -0.4 + 0.1 * 0.447368 / 0.452748
    #      = -0.301188
    assert float(t.get_value()) == 2
    np.testing.assert_allclose(m.get_value(), [0.18, -0.085], rtol=1e-6)
    np.testing.assert_allclose(v.get_value(), [0.001809, 0.00040975], rtol=5e-5)
    np.testing.assert_allclose(w.get_value(), [0.800412, -0.301188], rtol=2e-6)


# ---- The command line -----------------------------------------------------------------------------

@pytest.mark.parametrize("args, code, message", [
    (["--filters", "32,32,48"], 2, "--filters: must be four positive whole numbers separated by commas"),
    (["--filters", "32,0,48,48"], 2, "not '32,0,48,48'"),
    (["--filters", "a,b,c,d"], 2, "not 'a,b,c,d'"),
    (["--filters", "32,32,48,48,48"], 2, "not '32,32,48,48,48'"),
    (["--strides", "4,3,2"], 2, "--strides: must be four positive whole numbers separated by commas"),
    (["--strides", "4,3,2,0"], 2, "not '4,3,2,0'"),
    (["--strides", "4,3,2,-2"], 2, "not '4,3,2,-2'"),
    (["--optimizer", "rmsprop"], 2, "--optimizer: invalid choice: 'rmsprop' (choose from 'adam', 'sgd')"),
    (["--learning-rate", "0"], 2, "--learning-rate: must be a finite number greater than 0, not 0"),
    (["--learning-rate", "nan"], 2, "--learning-rate: must be a finite number greater than 0, not nan"),
    (["--updates", "0"], 2, "--updates must be greater than 0"),
    (["--updates", "100", "--eval-step", "500"], 2, "--eval-step 500 is larger than --updates 100"),
    (["--batch-size", "0"], 2, "--batch-size: must be a whole number greater than 0, not 0"),
    (["--loss", "hinge"], 2, "--loss: invalid choice: 'hinge'"),
    (["--seed", "-1"], 2, "--seed: must be a whole number from 0 to 4294967295, not -1"),
    (["--plot", "c.txt"], 2, "--plot: c.txt: matplotlib cannot write a .txt file; give a file ending in one of "),
    (["--plot-samples", "samples"], 2, "--plot-samples: samples: matplotlib cannot write a file without an "),
    (["--curve", "no/such/folder/c.csv"], 2, "--curve: no/such/folder/c.csv: its folder does not exist"),
    (["--stand-in", "--data", "x.npz"], 2, "--stand-in and --data exclude each other"),
    # The first lesson's model options are not this lesson's.
    (["--hidden", "32"], 2, "unrecognized arguments: --hidden 32; see genre_cnn.py --help"),
    (["--save", "m.npz"], 2, "unrecognized arguments: --save m.npz"),
    (["--load", "m.npz"], 2, "unrecognized arguments: --load m.npz"),
    (["--filter", "8,8,8,8"], 2, "unrecognized arguments: --filter 8,8,8,8 (did you mean --filters?)"),
    # Found once the data is there, before anything compiles.
    (["--data", "absent.npz"], 1, "absent.npz not found; give the lesson's data file"),
    (["--stand-in", "--batch-size", "8001"], 1, "error: --batch-size 8001 is larger than the training set "
                                                "(8000 excerpts); give --batch-size 8000 or less"),
])
def test_bad_options_give_one_line(genre_cnn, capsys, monkeypatch, args, code, message):
    def compile_nothing(*args, **kwargs):
        raise AssertionError("compiled before the options were checked")
    monkeypatch.setattr(genre_cnn.theano, "function", compile_nothing)
    with pytest.raises(SystemExit) as stop:
        run_lesson(args, script=CNN_SCRIPT)
    # argparse exits 2 having written its line; the script's own errors end in SystemExit("error: ..."),
    # which Python prints, exiting 1.
    if code == 2:
        assert stop.value.code == 2
        text = capsys.readouterr().err
    else:
        text = stop.value.code
        assert isinstance(text, str)
    assert message in text and text.startswith("error: ")
    assert text.strip().count("\n") == 0, text  # one line: the usage is in --help
    if code == 2:
        assert text.rstrip().endswith("; see genre_cnn.py --help")


def script_run(*args, python_flags=()):
    return subprocess.run([sys.executable] + list(python_flags) + [CNN_SCRIPT] + list(args), capture_output=True,
                          text=True, cwd=ROOT, timeout=600)


def test_a_bad_option_from_the_shell_is_one_line_before_theano_loads():
    result = script_run("--filters", "8,8,8", python_flags=("-X", "importtime"))
    assert result.returncode == 2 and result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if not line.startswith("import time:")]
    assert lines == ["error: argument --filters: must be four positive whole numbers separated by commas, one for "
                     "each convolution, such as 32,32,48,48, not '8,8,8'; see genre_cnn.py --help"]
    modules = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "argparse" in modules and not any(name.split(".")[0] == "theano" for name in modules)


def test_bad_data_from_the_shell_is_one_line_without_a_traceback(tmp_path):
    bad = write_npz(tmp_path / "odd.npz", train=separable(21), test=separable(20))
    result = script_run("--data", bad)
    assert result.returncode == 1 and result.stdout == "" and "Traceback" not in result.stderr
    assert stderr_lines(result) == [line for line in result.stderr.splitlines() if line.strip()]
    assert len(stderr_lines(result)) == 1 and "odd number of rows (21)" in result.stderr
    assert result.stderr.startswith("error: ")


def test_help_answers_before_theano_loads():
    result = script_run("--help", python_flags=("-X", "importtime"))
    assert result.returncode == 0
    modules = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "argparse" in modules and not any(name.split(".")[0] == "theano" for name in modules)
    text = " ".join(result.stdout.split())
    assert result.stdout.startswith("usage: genre_cnn.py ")
    for option in ("--filters N,N,N,N", "--strides N,N,N,N", "--optimizer {adam,sgd}", "--same-loudness",
                   "--stand-in"):
        assert option in text, option
    # Its defaults are the lesson's constants: lesson 06's layers, Adam's rate.
    assert "(default 32,32,48,48)" in text and "(default 4,3,2,2;" in text and "default 0.001" in text
    assert "--hidden" not in text and "--save" not in text and "--predict" not in text


def test_importing_genre_cnn_prints_nothing_and_runs_no_step():
    # Options on the command line of the importing program are not the lesson's to read.
    result = subprocess.run([sys.executable, "-c", "import genre_cnn; print(sorted(n for n in ('args', 'data', "
                             "'model', 'history') if hasattr(genre_cnn, n)))", "--filters", "bad"],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n" and result.stderr == ""


# ---- A short run, end to end ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def short_run(genre_cnn):
    """genre_cnn.py --stand-in --updates 200 --eval-step 100, run as the script runs (in this process):
    what it printed, and its variables."""
    import io
    import contextlib
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        cells = run_lesson(["--stand-in", "--updates", "200", "--eval-step", "100"], script=CNN_SCRIPT)
    return printed.getvalue(), cells


def test_a_short_run_prints_the_report_then_ends_with_the_verdict(short_run):
    from lesson_helpers.data import loudness
    out, cells = short_run
    lines = out.splitlines()
    assert lines[0].startswith("Training on the generated stand-in (seed 1234)")
    assert "167,425 parameters in all" in lines
    shapes = [line for line in lines if line.startswith(("the excerpts ", "after convolution", "the logits"))]
    assert shapes == ["the excerpts           (16, 1, 1, 1200)", "after convolution 1    (16, 32, 1, 300)",
                      "after convolution 2    (16, 32, 1, 100)", "after convolution 3    (16, 48, 1, 50)",
                      "after convolution 4    (16, 48, 1, 25)", "the logits             (16,)"]
    evaluations = [line for line in lines if line.startswith("Accuracy after update")]
    # The network's two evaluations, then the MLP's one (5000 updates, as genre_mlp.py trains it).
    assert [line.split(":")[0] for line in evaluations] == ["Accuracy after update 100/200",
                                                            "Accuracy after update 200/200",
                                                            "Accuracy after update 5000/5000"]
    network, mlp = (re.match(r"Accuracy after update \d+/\d+: ([\d.]+)%", line).group(1)
                    for line in evaluations[1:])
    # The MLP on the same stand-in is genre_mlp.py's own run, as the first lesson's record has it.
    assert mlp + "%" == next(row for row in exercises.read_record() if row["exercise"] == "-")["accuracy"]
    # The report: the network's size and times, then its accuracy beside loudness alone.
    assert any(re.match(r"167,425 parameters; compiling took [\d.]+ s, training [\d.]+ s \(200 updates, \d+ us "
                        r"each\)$", line) for line in lines)
    report = lines.index(next(line for line in lines if line.startswith("Test accuracy: the network ")))
    assert lines[report].startswith("Test accuracy: the network %s%%, loudness alone " % network)
    assert lines[report + 2].split() == ["said", "classical", "said", "rock"]
    counts = [[int(word) for word in line.split()[2:]] for line in lines[report + 3: report + 5]]
    assert [sum(row) for row in counts] == [1000, 1000]
    assert (counts[0][0] + counts[1][1]) / 20 == pytest.approx(float(network))
    # The last two lines: the comparison with the MLP, in points worked out here, and the verdict for the
    # accuracy printed.
    points = float(network) - float(mlp)
    assert lines[-2] == ("The convolutional network: %s%%; the first lesson's MLP on the same data: %s%% (%+.2f "
                         "points)." % (network, mlp, points))
    assert lines[-1] == loudness.verdict(cells["data"], float(network) / 100, True)
    assert lines[-1].startswith("Verdict on the generated stand-in: the network's %s%% is " % network)
    assert float(network) > 90  # the stand-in's beat is there to be found


def test_a_short_run_trains_what_it_reports(short_run):
    out, cells = short_run
    history, model = cells["history"], cells["model"]
    assert [row[0] for row in history] == [100, 200]
    assert "%.2f%%" % (100 * history[-1][3]) in out.splitlines()[-1]
    assert model.num_parameters() == 167425 and model.loss == "bce"
