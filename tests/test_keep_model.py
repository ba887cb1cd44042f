"""After the lesson: --save / --load, --predict on audio files, --curve and --plot."""
import csv
import errno
import os
import re
import shutil
import stat
import subprocess

import numpy as np
import pytest
import scipy.signal
import soundfile

from conftest import report_lines, run_lesson, run_script, separable, stderr_lines, write_npz
from lesson_helpers.drawing import curve
from lesson_helpers import files
from lesson_helpers.command_line import model_file
from lesson_helpers.sound.predict import vote
from benchmark.reference import NumpyMLP


def test_save_then_load_gives_identical_predictions(genre_mlp, model, tmp_path):
    data = genre_mlp.DataServer(arrays=(separable(400, 1), separable(100, 2)), seed=3)
    genre_mlp.train(model, data, num_updates=50, eval_step=50)
    inputs, targets = data.get_test()
    before = model.evaluate(inputs, targets)[0]
    path = str(tmp_path / "model.npz")
    model_file.save_model(model, path, test_accuracy=0.875)

    with np.load(path, allow_pickle=False) as saved:  # a plain .npz: no pickles needed
        assert sorted(saved.files) == sorted(["W1", "B1", "W2", "B2", "W3", "B3", "format",
                                               "hidden_sizes", "loss", "test_accuracy"])
        assert list(saved["hidden_sizes"]) == [256, 64] and str(saved["loss"]) == "bce"
        assert float(saved["test_accuracy"]) == 0.875
    for param in model.params:
        param.set_value(np.zeros_like(param.get_value()))
    model_file.load_parameters(model, model_file.read_model_file(path))
    np.testing.assert_array_equal(model.evaluate(inputs, targets)[0], before)


@pytest.fixture
def saved(genre_mlp, model, tmp_path):
    path = str(tmp_path / "model.npz")
    model_file.save_model(model, path, test_accuracy=0.5)
    return path


def with_nan(array, where=0, value=np.nan):
    array = array.astype(array.dtype, copy=True)
    array.flat[where] = value
    return array


def zero_hidden_unit(good):
    """A file whose arrays agree with a second hidden layer of 0 units: only hidden_sizes can refuse it."""
    return dict(hidden_sizes=np.array([256, 0]), W2=np.zeros((256, 0), np.float32),
                B2=np.zeros(0, np.float32), W3=np.zeros((0, 1), np.float32))


# Each breaks one rule of read_model_file: (file name, what changes from a good file, the message)
BROKEN_MODELS = [
    ("no_format.npz", lambda good: dict(format=None), "is not a genre_mlp model file"),
    ("number_format.npz", lambda good: dict(format=np.array(1)), "is not a genre_mlp model file"),
    ("format_2.npz", lambda good: dict(format=np.array("genre_mlp model 2")),
     "its format marker is 'genre_mlp model 2', not 'genre_mlp model 1'"),
    ("no_sizes.npz", lambda good: dict(hidden_sizes=None), "hidden_sizes is missing or not a list of positive"),
    ("float_sizes.npz", lambda good: dict(hidden_sizes=np.array([256.5, 64])), "hidden_sizes is missing or not"),
    ("flat_sizes.npz", lambda good: dict(hidden_sizes=np.array([[256, 64]])), "hidden_sizes is missing or not"),
    ("zero_units.npz", zero_hidden_unit, "hidden_sizes is missing or not a list of positive whole numbers"),
    ("no_loss.npz", lambda good: dict(loss=None), "loss is missing, not one of bce, mse"),
    ("hinge.npz", lambda good: dict(loss=np.array("hinge")), "loss is 'hinge', not one of bce, mse"),
    ("no_w1.npz", lambda good: dict(W1=None), "W1 is missing"),
    ("misshapen.npz", lambda good: dict(W2=good["W2"][:100]), "W2 has shape (100, 64), not (256, 64)"),
    ("b3_matrix.npz", lambda good: dict(B3=good["B3"][None]), "B3 has shape (1, 1), not (1,)"),
    ("integer_w1.npz", lambda good: dict(W1=np.ones((1200, 256), np.int32)),
     "W1 holds int32 values, not floating-point weights"),
    ("nan_w3.npz", lambda good: dict(W3=with_nan(good["W3"], 5)), "W3 holds 1 NaN or infinite weights"),
    ("inf_b1.npz", lambda good: dict(B1=with_nan(with_nan(good["B1"], 0, np.inf), 255, -np.inf)),
     "B1 holds 2 NaN or infinite weights"),
]


@pytest.mark.parametrize("name, changes, message", BROKEN_MODELS, ids=[case[0] for case in BROKEN_MODELS])
def test_a_model_file_breaking_one_rule_is_refused(saved, tmp_path, name, changes, message):
    good = dict(np.load(saved))
    arrays = dict(good, **changes(good))
    path = write_npz(tmp_path / name, **{key: value for key, value in arrays.items() if value is not None})
    with pytest.raises(model_file.ModelFileError) as error:
        model_file.read_model_file(path)
    text = str(error.value)
    assert text.startswith(path)
    fix = "diverged; train it again with a smaller --learning-rate" if "NaN" in message else "genre_mlp.py --save"
    assert message in text and fix in text
    assert "\n" not in text


def test_a_diverging_run_stops_at_its_first_nan_and_saves_nothing(small_file, tmp_path):
    from conftest import run_script
    model = tmp_path / "nan.npz"
    run = run_script("--data", small_file, "--learning-rate", "1e9", "--updates", "50", "--eval-step", "10",
                     "--save", str(model))
    last = run.stderr.strip().splitlines()[-1]
    assert run.returncode == 1 and "Traceback" not in run.stderr and not model.exists(), (run.stdout, run.stderr)
    assert last.startswith("error: the loss became nan at update ") and "give a smaller --learning-rate" in last


def test_the_good_file_those_are_made_from_is_read(saved):
    arrays = model_file.read_model_file(saved)  # so each case above fails by its one change alone
    assert model_file.hidden_sizes(arrays) == (256, 64) and str(arrays["loss"]) == "bce"


def test_truncated_foreign_and_missing_models_are_refused(genre_mlp, saved, tmp_path):
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(open(saved, "rb").read()[:50000])
    data_file = write_npz(tmp_path / "data.npz", train=separable(20), test=separable(20))
    folder = tmp_path / "models"
    folder.mkdir()
    cases = [(str(truncated), "is not a .npz file, or is cut short"),
             (data_file, "is not a genre_mlp model file"),
             (str(tmp_path / "absent.npz"), "absent.npz not found"),
             (str(folder), "%s is a folder, not a file" % folder)]
    for path, message in cases:
        with pytest.raises(model_file.ModelFileError) as error:
            model_file.read_model_file(path)
        assert message in str(error.value) and "--save" in str(error.value)
    for path, _ in (cases[0], cases[-1]):
        result = run_script("--load", path, "--updates", "0")
        assert result.returncode == 1 and result.stderr.count("\n") == 1
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["--load", "{folder}", "--updates", "0"],
                                  ["--predict", "{folder}", "song.wav"]])
def test_a_folder_given_as_the_model_says_so(genre_mlp, tmp_path, args):
    # It used to say "DIR not found" of a folder that is there.
    args = [arg.format(folder=tmp_path) for arg in args]
    with pytest.raises(SystemExit) as stop:
        run_lesson(args)
    assert stop.value.code == ("error: %s is a folder, not a file; give a file written by "
                               "`genre_mlp.py --save`" % tmp_path)


SMALL_SHAPES = [(1200, 8), (8,), (8, 4), (4,), (4, 1), (1,)]


def small_model_file(path, loss, seed=11):
    """A model file with hidden sizes 8 and 4, written here with np.savez, not by save_model."""
    random = np.random.RandomState(seed)
    params = [(0.1 * random.standard_normal(shape)).astype(np.float32) for shape in SMALL_SHAPES]
    names = ["W1", "B1", "W2", "B2", "W3", "B3"]
    write_npz(path, format=np.array("genre_mlp model 1"), hidden_sizes=np.array([8, 4]), loss=np.array(loss),
              test_accuracy=np.array(0.5), **dict(zip(names, params)))
    return str(path), params


@pytest.mark.parametrize("file_loss, option, expected", [("bce", ["--loss", "mse"], "mse"),
                                                         ("mse", [], "mse"),
                                                         ("mse", ["--loss", "bce"], "bce")])
def test_load_with_options_that_override_the_file(genre_mlp, small_file, tmp_path, file_loss, option, expected):
    # One update from the file's parameters with the options' loss, step, batch size and seed,
    # against NumPy: the file gives the sizes and the start, the options the rest.
    path, params = small_model_file(tmp_path / "start.npz", file_loss)
    out = str(tmp_path / "out.npz")
    run_lesson(["--data", small_file, "--load", path, "--updates", "1", "--eval-step", "1",
                    "--learning-rate", "0.5", "--batch-size", "8", "--seed", "7", "--save", out] + option)
    reference = NumpyMLP(params, learning_rate=0.5, loss=expected)
    reference.train_batch(*genre_mlp.DataServer(small_file, seed=7).get_train_sample(8))
    with np.load(out) as saved:
        assert str(saved["loss"]) == expected and saved["hidden_sizes"].tolist() == [8, 4]
        for name, value, start in zip(["W1", "B1", "W2", "B2", "W3", "B3"], reference.params, params):
            np.testing.assert_allclose(saved[name], value, atol=1e-6, err_msg=name)
            assert not np.array_equal(saved[name], start), name  # it did move


def test_load_evaluates_with_the_loss_asked_for(genre_mlp, small_file, tmp_path, capsys):
    path, params = small_model_file(tmp_path / "start.npz", "bce")
    run_lesson(["--data", small_file, "--load", path, "--updates", "0", "--loss", "mse"])
    with np.load(small_file) as data:
        test = data["test"]
    probability = NumpyMLP(params).predict(test)[0]
    rock = np.arange(len(test)) >= len(test) // 2
    squared_error = np.mean((probability - rock) ** 2)  # not the cross-entropy the file was trained on
    printed = capsys.readouterr().out
    out = report_lines(printed)
    line = [line for line in out if line.startswith("Accuracy of the loaded")][0]
    accuracy = 100 * np.mean((probability > 0.5) == rock)
    assert line == "Accuracy of the loaded model: %.2f%%  test loss %.4f" % (accuracy, squared_error)
    assert out[-1].startswith("Test accuracy: the network %.2f%%, loudness alone " % accuracy)
    assert printed.splitlines()[-1].startswith("Verdict: the network's %.2f%% is " % accuracy)


def test_failed_save_leaves_the_old_file_untouched(genre_mlp, model, tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    path.write_bytes(b"the model from yesterday")

    def interrupted(stream, **arrays):
        stream.write(b"half a model")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model_file.save_model(model, str(path), test_accuracy=0.5)
    assert path.read_bytes() == b"the model from yesterday"
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_written_files_get_the_permissions_of_the_umask(tmp_path):
    existing = tmp_path / "existing.csv"
    existing.write_bytes(b"yesterday's")
    os.chmod(str(existing), 0o604)
    umask = os.umask(0o027)
    try:
        files.write_atomically(str(tmp_path / "new.npz"), lambda stream: stream.write(b"new"))
        files.write_atomically(str(existing), lambda stream: stream.write(b"today's"))
    finally:
        os.umask(umask)
    assert mode(tmp_path / "new.npz") == 0o640  # 0666 less the umask, not mkstemp's 0600
    assert mode(existing) == 0o604 and existing.read_bytes() == b"today's"  # a replaced file keeps its mode


def test_a_full_disk_after_training_is_one_line_and_the_old_file_stays(genre_mlp, small_file, tmp_path,
                                                                        monkeypatch, capsys):
    path = tmp_path / "model.npz"
    path.write_bytes(b"the model from yesterday")

    def full_disk(stream, **arrays):
        stream.write(b"half a model")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "savez", full_disk)
    with pytest.raises(SystemExit) as stop:
        run_lesson(["--data", small_file, "--updates", "5", "--eval-step", "5", "--save", str(path)])
    assert stop.value.code == "error: cannot write %s (No space left on device); free some space or " \
                              "choose a folder you can write to" % path
    assert "Accuracy after update 5/5" in capsys.readouterr().out  # it failed after the training
    assert path.read_bytes() == b"the model from yesterday"
    assert sorted(os.listdir(str(tmp_path))) == ["model.npz", "small.npz"]  # no temporary file left


def hard(num_rows, seed):
    """Rows that take many updates to learn, so that each evaluation's accuracy differs."""
    rng = np.random.RandomState(seed)
    rows = 0.05 * rng.standard_normal((num_rows, 1200))
    rows[: num_rows // 2] -= 0.01
    rows[num_rows // 2:] += 0.01
    return rows.astype(np.float32)


def test_saved_accuracy_is_the_last_evaluations(genre_mlp, tmp_path, capsys):
    test = hard(200, 2)
    data = write_npz(tmp_path / "hard.npz", train=hard(400, 1), test=test)
    model_path, curve = str(tmp_path / "model.npz"), str(tmp_path / "curve.csv")
    run_lesson(["--data", data, "--updates", "130", "--eval-step", "50", "--save", model_path,
                    "--curve", curve])
    rows = np.loadtxt(curve, delimiter=",", skiprows=1)
    assert list(rows[:, 0]) == [50, 100, 130]  # 130 is evaluated too
    assert len(set(rows[:, 3])) == 3  # every evaluation differs, so the test can tell them apart
    with np.load(model_path) as saved:
        accuracy = float(saved["test_accuracy"])
        params = [saved[name] for name in ("W1", "B1", "W2", "B2", "W3", "B3")]
    assert accuracy == pytest.approx(rows[-1, 3], abs=1e-6)
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("Accuracy after update 130/130: %.2f%%" % (100 * accuracy)) for line in out)
    # the loudness line quotes the network as it ends, not an earlier evaluation (all three differ)
    baseline = [line for line in out if line.startswith("Test accuracy: ")]
    assert len(baseline) == 1 and baseline[0].startswith("Test accuracy: the network %.2f%%, loudness alone "
                                                         % (100 * rows[-1, 3]))
    # and it is the accuracy of the parameters saved beside it (NumPy; one excerpt may sit at 0.5)
    rock = NumpyMLP(params).predict(test)[0] > 0.5
    assert abs(np.mean(rock == (np.arange(200) >= 100)) - accuracy) <= 1 / 200


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The script trained on separable data, saving its model, curve and plot."""
    folder = tmp_path_factory.mktemp("trained")
    data = write_npz(folder / "data.npz", train=separable(400, 1), test=separable(100, 2))
    result = run_script("--data", data, "--updates", "200", "--eval-step", "50", "--save",
                        str(folder / "model.npz"), "--curve", str(folder / "curve.csv"),
                        "--plot", str(folder / "curve.png"))
    assert result.returncode == 0, result.stderr
    return folder, result.stdout


def test_curve_csv_columns_read_back_by_name(tmp_path):
    history = [(50, 0.5, 0.25, 0.75), (100, 0.125, 0.0625, 0.875), (0, float("nan"), 0.3, 0.8)]
    curve.write_curve(str(tmp_path / "curve.csv"), history)
    with open(tmp_path / "curve.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert rows == [{"update": "50", "train_loss": "0.500000", "test_loss": "0.250000", "test_accuracy": "0.750000"},
                    {"update": "100", "train_loss": "0.125000", "test_loss": "0.062500", "test_accuracy": "0.875000"},
                    {"update": "0", "train_loss": "nan", "test_loss": "0.300000", "test_accuracy": "0.800000"}]


PRINTED = re.compile(r"Accuracy after update (\d+)/\d+: ([\d.]+)%  test loss ([\d.]+)  train loss ([\d.]+)  \(")


def test_curve_csv_has_one_row_per_evaluation(trained):
    folder, stdout = trained
    with open(folder / "curve.csv", newline="") as stream:
        reader = csv.DictReader(stream)
        assert reader.fieldnames == ["update", "train_loss", "test_loss", "test_accuracy"]
        rows = list(reader)
    printed = [PRINTED.match(line).groups() for line in stdout.splitlines() if line.startswith("Accuracy after")]
    assert [row["update"] for row in rows] == [update for update, _, _, _ in printed] == ["50", "100", "150", "200"]
    for row, (update, accuracy, test_loss, train_loss) in zip(rows, printed):
        # each column, by its name, holds what the line of that evaluation printed
        assert "%.2f" % (100 * float(row["test_accuracy"])) == accuracy, update
        assert abs(float(row["test_loss"]) - float(test_loss)) <= 5.1e-5, update  # 6 digits against 4
        assert abs(float(row["train_loss"]) - float(train_loss)) <= 5.1e-5, update
    # a swap of the two losses would show
    assert any(abs(float(test_loss) - float(train_loss)) > 2e-4 for _, _, test_loss, train_loss in printed)
    assert "Wrote the learning curve to" in stdout and "Saved the model to" in stdout
    umask = os.umask(0)
    os.umask(umask)
    for name in ("curve.csv", "model.npz", "curve.png"):
        assert mode(folder / name) == 0o666 & ~umask, name


def test_plot_is_a_valid_png(trained):
    import matplotlib.image
    image = matplotlib.image.imread(str(trained[0] / "curve.png"))
    assert image.shape[0] >= 300 and image.shape[1] >= 600
    assert image[..., :3].std() > 0.05  # something is drawn on it


def test_load_with_zero_updates_only_evaluates(trained):
    folder, stdout = trained
    data = str(folder / "data.npz")
    result = run_script("--data", data, "--load", str(folder / "model.npz"), "--updates", "0")
    assert result.returncode == 0, result.stderr
    final = [line for line in stdout.splitlines() if line.startswith("Accuracy after update 200/200")][0]
    evaluated = [line for line in result.stdout.splitlines() if line.startswith("Accuracy of the loaded model")][0]
    assert final.split(":")[1].split("%")[0] == evaluated.split(":")[1].split("%")[0]
    assert "Accuracy after update" not in result.stdout


def excerpt_probability(model_path, excerpt):
    """What the saved network says of one excerpt, computed in NumPy."""
    with np.load(model_path) as saved:
        params = [saved[name] for name in ("W1", "B1", "W2", "B2", "W3", "B3")]
    return float(NumpyMLP(params).predict(excerpt[None, :])[0][0])


def test_predict_on_audio_files(trained, tmp_path):
    model_path = str(trained[0] / "model.npz")
    classical, rock = separable(2, seed=8)
    files = {
        "rock_44k.wav": (scipy.signal.resample_poly(rock, 441, 4), 44100, "PCM_16"),
        "classical_22k_stereo.wav": (np.stack([classical, classical], 1).repeat(55, 0)[::1], 22000, "FLOAT"),
        "rock_48k.flac": (scipy.signal.resample_poly(rock, 120, 1), 48000, "PCM_24"),
        "classical_8k.wav": (scipy.signal.resample_poly(classical, 20, 1), 8000, "PCM_32"),
        "long_rock_then_classical.wav": (np.concatenate([rock, rock, rock, classical, classical]), 400, "FLOAT"),
        "short.wav": (rock[:1000], 400, "PCM_16"),
        "silent.flac": (np.zeros(48000), 16000, "PCM_16"),
    }
    for name, (samples, rate, subtype) in files.items():
        soundfile.write(str(tmp_path / name), samples, rate, subtype=subtype)
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt this is not audio")
    names = list(files) + ["corrupt.wav"]
    result = run_script("--predict", model_path, *names, cwd=str(tmp_path))
    assert result.returncode == 1  # some files failed
    verdicts = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert sorted(verdicts) == sorted(names[:5])  # the good files are all classified

    expected_rock = excerpt_probability(model_path, rock)
    assert expected_rock > 0.5
    # Upsampled to 44.1 kHz and brought back to 400 Hz, the excerpt keeps its verdict.
    assert verdicts["rock_44k.wav"].startswith("rock (probability of rock ")
    assert abs(float(verdicts["rock_44k.wav"].split("rock ")[2][:4]) - expected_rock) <= 0.02
    assert verdicts["rock_48k.flac"].startswith("rock (")
    assert verdicts["classical_8k.wav"].startswith("classical (")
    assert verdicts["long_rock_then_classical.wav"].endswith("vote over 5 windows of 3 s: rock (3 say rock)")
    errors = stderr_lines(result)
    assert len(errors) == 3 and all(line.startswith("error: ") for line in errors)
    assert "short.wav: it lasts 2.50 s, shorter than one excerpt" in errors[0]
    assert "silent.flac: it is silent" in errors[1]
    assert "corrupt.wav" in errors[2] and "Traceback" not in result.stderr


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="MP3 decoding needs the ffmpeg command")
def test_predict_on_mp3(trained, tmp_path):
    classical = separable(2, seed=8)[0]
    soundfile.write(str(tmp_path / "classical.wav"), scipy.signal.resample_poly(classical, 110, 1), 44000)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(tmp_path / "classical.wav"), str(tmp_path / "classical.mp3")],
                   check=True)
    result = run_script("--predict", str(trained[0] / "model.npz"), str(tmp_path / "classical.mp3"))
    assert result.returncode == 0, result.stderr
    assert ": classical (probability of rock" in result.stdout


def test_the_vote_and_its_tie_rule():
    assert vote([True, True, False], middle_says_rock=False) == "rock"
    assert vote([True, False, False], middle_says_rock=True) == "classical"
    assert vote([True, False], middle_says_rock=True) == "rock"  # a tie: the middle 3 s decide
    assert vote([True, False, True, False], middle_says_rock=False) == "classical"


def test_predict_decides_on_the_middle_3_s(trained, tmp_path):
    model_path = str(trained[0] / "model.npz")
    rows = separable(8, seed=9)
    c, r = rows[:4], rows[4:]  # four classical rows, four rock rows
    files = {  # at 400 Hz, so the samples reach the network as written
        # 2.5 s of one class, the other's 3 s, 2.5 s of the first: the first 3 s are mostly the wrong class
        "rock_in_the_middle.wav": np.concatenate([c[0][:1000], r[0], c[1][:1000]]),
        "classical_in_the_middle.wav": np.concatenate([r[0][:1000], c[0], r[1][:1000]]),
        # four windows, two of each class: a tie, and the middle 3 s (half of each middle window) decide
        "tie_rock_middle.wav": np.concatenate([c[0], r[0], r[1], c[1]]),
        "tie_classical_middle.wav": np.concatenate([r[0], c[0], c[1], r[1]]),
    }
    for name, samples in files.items():
        soundfile.write(str(tmp_path / name), samples, 400, subtype="FLOAT")
    result = run_script("--predict", model_path, *files, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    verdicts = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    for name, middle, expected in (("rock_in_the_middle.wav", r[0], "rock"),
                                   ("classical_in_the_middle.wav", c[0], "classical")):
        probability = excerpt_probability(model_path, middle)
        assert verdicts[name].startswith("%s (probability of rock %.2f)" % (expected, probability))
    assert verdicts["tie_rock_middle.wav"].startswith("rock (")
    assert verdicts["tie_rock_middle.wav"].endswith(
        "vote over 4 windows of 3 s: rock (2 say rock, a tie: the middle 3 s decide)")
    assert verdicts["tie_classical_middle.wav"].startswith("classical (")
    assert verdicts["tie_classical_middle.wav"].endswith(
        "vote over 4 windows of 3 s: classical (2 say rock, a tie: the middle 3 s decide)")


ROCK_LEVEL, CLASSICAL_LEVEL = 0.9, 0.2  # samples of a rock window, of a classical one


def probability_for(mean):
    """What the network set by `loudness_decides` says of an excerpt with this mean (above 0)."""
    return 1 / (1 + np.exp(-(50 * mean - 25)))


@pytest.fixture
def loudness_decides(model):
    """The compiled network with weights that make it say rock exactly when an excerpt's mean is above 0.5:
    logit = 50 * relu(relu(mean)) - 25, so each window's verdict is known by hand."""
    shapes = [param.get_value(borrow=True).shape for param in model.params]
    values = [np.zeros(shape, np.float32) for shape in shapes]
    values[0][:, 0] = 1 / 1200  # W1: unit 0 is the excerpt's mean
    values[2][0, 0] = 1          # W2: passed on
    values[4][0, 0] = 50         # W3
    values[5][0] = -25           # B3
    for param, value in zip(model.params, values):
        param.set_value(value)
    return model


def classify(model, tmp_path, signals):
    """classify_files on 400-Hz recordings of these samples; returns ({name: line}, failures)."""
    from lesson_helpers.sound.predict import classify_files
    paths = []
    for name, samples in signals.items():
        soundfile.write(str(tmp_path / name), np.asarray(samples, np.float32), 400, subtype="FLOAT")
        paths.append(str(tmp_path / name))
    lines = []
    failures = classify_files(model, paths, log=lines.append)
    return {line.split(": ", 1)[0][len(str(tmp_path)) + 1:]: line.split(": ", 1)[1] for line in lines}, failures


# windows in order (r rock, c classical), the middle 3 s's mean, the vote, and whether it is a tie
VOTES = [("rc", 0.55, "rock", True), ("cr", 0.55, "rock", True),
         ("rccr", CLASSICAL_LEVEL, "classical", True), ("crrc", ROCK_LEVEL, "rock", True),
         ("rrrccc", 0.55, "rock", True), ("rcc", CLASSICAL_LEVEL, "classical", False),
         ("ccr", CLASSICAL_LEVEL, "classical", False), ("rrc", ROCK_LEVEL, "rock", False),
         ("rrcrr", CLASSICAL_LEVEL, "rock", False), ("ccccr", CLASSICAL_LEVEL, "classical", False),
         ("ccrcc", ROCK_LEVEL, "classical", False)]


def test_the_vote_and_the_tie_note_only_on_a_real_tie(loudness_decides, tmp_path):
    level = {"r": ROCK_LEVEL, "c": CLASSICAL_LEVEL}
    signals = {pattern + ".wav": np.concatenate([np.full(1200, level[w]) for w in pattern])
               for pattern, _, _, _ in VOTES}
    verdicts, failures = classify(loudness_decides, tmp_path, signals)
    assert failures == 0
    for pattern, middle, vote_says, tie in VOTES:
        probability = probability_for(middle)
        expected = "%s (probability of rock %.2f); vote over %d windows of 3 s: %s (%d say rock%s)" % (
            "rock" if middle > 0.5 else "classical", probability, len(pattern), vote_says, pattern.count("r"),
            ", a tie: the middle 3 s decide" if tie else "")
        assert verdicts[pattern + ".wav"] == expected, pattern


def test_the_shortest_file_with_a_vote_gets_one(loudness_decides, tmp_path, capsys):
    # 6 s at 400 Hz is 2400 samples: two whole 3-s windows. One sample less leaves one, and no vote.
    verdicts, failures = classify(loudness_decides, tmp_path, {
        "six_s.wav": np.full(2400, ROCK_LEVEL), "one_sample_short.wav": np.full(2399, ROCK_LEVEL),
        "three_s.wav": np.full(1200, CLASSICAL_LEVEL), "too_short.wav": np.full(1199, ROCK_LEVEL)})
    assert verdicts == {"six_s.wav": "rock (probability of rock 1.00); vote over 2 windows of 3 s: rock (2 say rock)",
                        "one_sample_short.wav": "rock (probability of rock 1.00)",
                        "three_s.wav": "classical (probability of rock 0.00)"}
    # one sample short of 3 s: the message must not round it up to the 3 s it asks for
    assert failures == 1 and "too_short.wav: it lasts 2.99 s, shorter than one excerpt" in capsys.readouterr().err
