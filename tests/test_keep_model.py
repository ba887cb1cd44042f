"""After the lesson: --save / --load, --predict on audio files, --curve and --plot."""
import errno
import os
import shutil
import stat
import subprocess

import numpy as np
import pytest
import scipy.signal
import soundfile

from conftest import run_script, separable, stderr_lines, write_npz
from lesson_helpers import files, model_file
from lesson_helpers.predict import vote
from benchmark.reference import NumpyMLP


def test_save_then_load_gives_identical_predictions(genre_mlp, model, tmp_path):
    data = genre_mlp.DataServer(arrays=(separable(400, 1), separable(100, 2)), seed=3)
    genre_mlp.train(model, data, num_updates=50, eval_step=50, log=lambda line: None)
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


def test_truncated_foreign_and_misshapen_models_are_refused(genre_mlp, saved, tmp_path):
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(open(saved, "rb").read()[:50000])
    data_file = write_npz(tmp_path / "data.npz", train=separable(20), test=separable(20))
    good = dict(np.load(saved))

    def altered(name, **changes):
        arrays = dict(good, **changes)
        return write_npz(tmp_path / name, **{key: value for key, value in arrays.items() if value is not None})
    cases = [(str(truncated), "is not a .npz file, or is cut short"),
             (data_file, "is not a genre_mlp model file"),
             (altered("misshapen.npz", W2=good["W2"][:100]), "W2 is missing, damaged or not of shape (256, 64)"),
             (altered("no_sizes.npz", hidden_sizes=None), "hidden_sizes is missing or not a list of positive"),
             (altered("float_sizes.npz", hidden_sizes=np.array([256.5, 64])), "hidden_sizes is missing or not"),
             (altered("no_loss.npz", loss=None), "loss is missing, not one of bce, mse"),
             (altered("hinge.npz", loss=np.array("hinge")), "loss is 'hinge', not one of bce, mse")]
    for path, message in cases:
        with pytest.raises(model_file.ModelFileError) as error:
            model_file.read_model_file(path)
        assert message in str(error.value) and "--save" in str(error.value)
    for path, _ in (cases[0], cases[-1]):
        result = run_script("--load", path, "--updates", "0")
        assert result.returncode == 1 and result.stderr.count("\n") == 1
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr


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
        genre_mlp.main(["--data", small_file, "--updates", "5", "--eval-step", "5", "--save", str(path)])
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
    genre_mlp.main(["--data", data, "--updates", "130", "--eval-step", "50", "--save", model_path,
                    "--curve", curve])
    rows = np.loadtxt(curve, delimiter=",", skiprows=1)
    assert list(rows[:, 0]) == [50, 100, 130]  # 130 is evaluated too
    assert len(set(rows[:, 3])) == 3  # every evaluation differs, so the test can tell them apart
    with np.load(model_path) as saved:
        accuracy = float(saved["test_accuracy"])
        params = [saved[name] for name in ("W1", "B1", "W2", "B2", "W3", "B3")]
    assert accuracy == pytest.approx(rows[-1, 3], abs=1e-6)
    assert "Accuracy after update 130/130: %.2f%%" % (100 * accuracy) in capsys.readouterr().out
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


def test_curve_csv_has_one_row_per_evaluation(trained):
    folder, stdout = trained
    rows = (folder / "curve.csv").read_text().splitlines()
    assert rows[0] == "update,train_loss,test_loss,test_accuracy"
    values = np.array([[float(x) for x in row.split(",")] for row in rows[1:]])
    assert list(values[:, 0]) == [50, 100, 150, 200]
    printed = [line for line in stdout.splitlines() if line.startswith("Accuracy after update")]
    assert len(printed) == 4 and "%.2f%%" % (100 * values[-1, 3]) in printed[-1]
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
