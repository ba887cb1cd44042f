"""After the lesson: --save / --load, --predict on audio files, --curve and --plot."""
import os
import shutil
import subprocess

import numpy as np
import pytest
import scipy.signal
import soundfile

from conftest import run_script, separable, stderr_lines, write_npz
from tools.reference import NumpyMLP


def test_save_then_load_gives_identical_predictions(genre_mlp, model, tmp_path):
    data = genre_mlp.DataServer(arrays=(separable(400, 1), separable(100, 2)), seed=3)
    genre_mlp.train(model, data, num_updates=50, eval_step=50, log=lambda line: None)
    inputs, targets = data.get_test()
    before = model.evaluate(inputs, targets)[0]
    path = str(tmp_path / "model.npz")
    genre_mlp.save_model(model, path, test_accuracy=0.875)

    with np.load(path, allow_pickle=False) as saved:  # a plain .npz: no pickles needed
        assert sorted(saved.files) == sorted(["W1", "B1", "W2", "B2", "W3", "B3", "format",
                                               "hidden_sizes", "loss", "test_accuracy"])
        assert list(saved["hidden_sizes"]) == [256, 64] and str(saved["loss"]) == "bce"
        assert float(saved["test_accuracy"]) == 0.875
    for param in model.params:
        param.set_value(np.zeros_like(param.get_value()))
    genre_mlp.load_parameters(model, genre_mlp.read_model_file(path))
    np.testing.assert_array_equal(model.evaluate(inputs, targets)[0], before)


@pytest.fixture
def saved(genre_mlp, model, tmp_path):
    path = str(tmp_path / "model.npz")
    genre_mlp.save_model(model, path, test_accuracy=0.5)
    return path


def test_truncated_foreign_and_misshapen_models_are_refused(genre_mlp, saved, tmp_path):
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(open(saved, "rb").read()[:50000])
    data_file = write_npz(tmp_path / "data.npz", train=separable(20), test=separable(20))
    arrays = dict(np.load(saved))
    arrays["W2"] = arrays["W2"][:100]
    misshapen = write_npz(tmp_path / "misshapen.npz", **arrays)
    for path, message in ((str(truncated), "is not a .npz file, or is cut short"),
                          (data_file, "is not a genre_mlp model file"),
                          (misshapen, "W2 is missing, damaged or not of shape (256, 64)")):
        with pytest.raises(genre_mlp.ModelFileError) as error:
            genre_mlp.read_model_file(path)
        assert message in str(error.value) and "--save" in str(error.value)
    result = run_script("--load", str(truncated), "--updates", "0")
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
        genre_mlp.save_model(model, str(path), test_accuracy=0.5)
    assert path.read_bytes() == b"the model from yesterday"
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind


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
