"""DataServer, the checks on data files, and the generated stand-in."""
import hashlib
import shlex
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, separable, write_npz
from lesson_helpers.data.data_file import DataError
from lesson_helpers.data.stand_in import TWO_PI_T, make_stand_in, overtone_polynomials, play


def test_server_shapes_dtype_and_labels_by_halves(genre_mlp, small_file):
    data = genre_mlp.DataServer(small_file, seed=0)
    test_inputs, test_targets = data.get_test()
    assert test_inputs.shape == (100, 1200) and test_inputs.dtype == np.float32
    assert test_targets.dtype == np.float32
    assert (test_targets[:50] == 0).all() and (test_targets[50:] == 1).all()
    assert data.train.shape == (400, 1200)


def test_batch_labels_match_their_rows(genre_mlp, small_file):
    data = genre_mlp.DataServer(small_file, seed=0)
    inputs, targets = data.get_train_sample(64)
    assert inputs.shape == (64, 1200) and targets.shape == (64,)
    assert inputs.dtype == np.float32 and targets.dtype == np.float32
    # In separable() rock rows sit above zero: the label must follow the row drawn.
    np.testing.assert_array_equal(targets, (inputs.mean(axis=1) > 0).astype(np.float32))
    assert 0 < targets.mean() < 1


def test_batches_uniform_with_replacement_and_seeded(genre_mlp):
    train = np.repeat(np.arange(10, dtype=np.float32)[:, None], 1200, axis=1)
    data = genre_mlp.DataServer(arrays=(train, train), seed=5)
    rows = np.concatenate([data.get_train_sample(16)[0][:, 0] for _ in range(1000)]).astype(int)
    counts = np.bincount(rows, minlength=10)
    assert counts.min() > 1400 and counts.max() < 1800  # 1600 expected for each of 10 rows
    first = genre_mlp.DataServer(arrays=(train, train), seed=5).get_train_sample(16)[0]
    again = genre_mlp.DataServer(arrays=(train, train), seed=5).get_train_sample(16)[0]
    other = genre_mlp.DataServer(arrays=(train, train), seed=6).get_train_sample(16)[0]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    big = genre_mlp.DataServer(arrays=(train, train), seed=5).get_train_sample(100)[0]
    assert len(np.unique(big[:, 0])) == 10  # 100 draws from 10 rows, with replacement, cover them all


def test_float64_file_is_served_as_float32_and_extra_keys_ignored(genre_mlp, tmp_path):
    path = write_npz(tmp_path / "f64.npz", train=separable(20).astype(np.float64),
                     test=separable(10).astype(np.float64), train_source=np.array(["a"] * 20))
    data = genre_mlp.DataServer(path)
    assert data.train.dtype == np.float32 and data.get_test()[0].dtype == np.float32


GOOD = separable(20)


@pytest.mark.parametrize("arrays, message", [
    (dict(train=GOOD), "no `test` array"),
    (dict(test=GOOD), "no `train` array"),
    (dict(train=GOOD[:, :1000], test=GOOD), "rows of 1200 samples"),
    (dict(train=GOOD, test=GOOD[:, :, None]), "rows of 1200 samples"),
    (dict(train=GOOD[:19], test=GOOD), "odd number of rows (19)"),
    (dict(train=GOOD[:0], test=GOOD), "is empty"),
    (dict(train=np.where(np.eye(20, 1200) > 0, np.nan, GOOD), test=GOOD), "NaN"),
    (dict(train=GOOD, test=np.where(np.eye(20, 1200) > 0, np.inf, GOOD)), "infinite"),
    (dict(train=np.array([["x"] * 1200] * 20), test=GOOD), "non-numeric"),
])
def test_bad_files_give_one_line_and_check_says_the_same(genre_mlp, tmp_path, capsys, arrays, message):
    path = write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError) as error:
        genre_mlp.DataServer(path)
    assert message in str(error.value) and "\n" not in str(error.value)
    # dataset_builder/make_dataset.py check applies the same rules (lesson_helpers/data/data_file.py)
    from dataset_builder import make_dataset
    assert make_dataset.check(path) is False
    verdict = capsys.readouterr().out.strip().splitlines()[-1]
    assert verdict.startswith("verdict   genre_mlp.py CANNOT train on this file: ") and message in verdict


def test_the_check_command_a_bad_file_suggests_works_from_another_folder(genre_mlp, tmp_path, monkeypatch):
    (tmp_path / "my folder").mkdir()  # a space: the command must quote the path
    bad = write_npz(tmp_path / "my folder" / "odd.npz", train=GOOD[:19], test=GOOD)
    monkeypatch.chdir(tmp_path)  # not the project's folder
    with pytest.raises(DataError) as error:
        genre_mlp.DataServer("my folder/odd.npz")
    command = str(error.value).split("see it with: ")[1].split("; rebuild it with ")[0]
    # Run as printed, by a shell, here; and with the file's absolute path from yet another folder.
    (tmp_path / "elsewhere").mkdir()
    for cwd, printed in ((tmp_path, command), (tmp_path / "elsewhere",
                                               command.replace(shlex.quote("my folder/odd.npz"), shlex.quote(bad)))):
        result = subprocess.run(printed, shell=True, cwd=cwd, capture_output=True, text=True)
        assert result.returncode == 1, result.stderr
        assert "odd number of rows (19)" in result.stdout.splitlines()[-1]


def test_the_rules_need_no_theano():
    code = "import sys; import dataset_builder.make_dataset; print('theano' in sys.modules, 'genre_mlp' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_not_an_npz_and_pickles_refused(genre_mlp, tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("not a zip file")
    with pytest.raises(DataError, match="is not a .npz file"):
        genre_mlp.DataServer(str(text))
    pickled = write_npz(tmp_path / "pickled.npz", train=np.array([{"a": 1}] * 2, dtype=object), test=GOOD)
    with pytest.raises(DataError, match="could not be read as a .npz file .*allow_pickle=False"):
        genre_mlp.DataServer(pickled)
    with pytest.raises(DataError, match="not found"):
        genre_mlp.DataServer(str(tmp_path / "absent.npz"))


@pytest.fixture(scope="module")
def stand_in():
    return make_stand_in(seed=1234)


def test_stand_in_has_the_lesson_format(stand_in):
    train, test = stand_in
    assert train.shape == (8000, 1200) and test.shape == (2000, 1200)
    assert train.dtype == np.float32 and test.dtype == np.float32
    assert np.isfinite(train).all() and np.abs(train).max() <= 1.0


def test_stand_in_is_seeded(stand_in):
    again = make_stand_in(seed=1234, num_train=200, num_test=20)
    other = make_stand_in(seed=99, num_train=200, num_test=20)
    np.testing.assert_array_equal(again[0], make_stand_in(seed=1234, num_train=200, num_test=20)[0])
    assert not np.array_equal(again[0], other[0])


def test_stand_in_is_the_one_the_readme_reports(stand_in):
    # README's accuracy figures come from these very excerpts (seed 1234), whatever the order in
    # which the threads make the blocks, on NumPy 2.3.5 (Python 3.11) and 2.5.5 (3.12 to 3.15)
    # alike. (NumPy 1's float32 sin and cos differed in the last bit in 115 of the 12 million
    # samples; the printed accuracy lines were the same to every digit: test_python_support.py.)
    digest = hashlib.sha256(stand_in[0].tobytes() + stand_in[1].tobytes()).hexdigest()
    assert digest == "2b2512e576da3d36ddbfc9c55020076c3ca3a8d38175f9b02d7b30c5856e43b9"


def test_stand_in_classical_is_quieter_but_overlaps(stand_in):
    train = stand_in[0]
    loudness = np.sqrt(np.mean(train.astype(np.float64) ** 2, axis=1))
    classical, rock = loudness[:4000], loudness[4000:]
    assert np.median(classical) < 0.5 * np.median(rock)
    # Not trivially separable by loudness: many classical excerpts are louder than many rock ones.
    assert np.mean(classical > np.median(rock)) > 0.03


def test_stand_in_overtones_match_a_sum_of_sines():
    # The stand-in's tones come from one sin and one cos each (Chebyshev); here, from a sin per overtone.
    freq = np.array([[45.0], [60.0], [70.0], [100.0], [150.0]], np.float32)  # each keeps fewer overtones
    angle = freq * TWO_PI_T + np.float32(0.7)
    weights = [1.0, 0.5, 0.33, 0.25]
    expected = sum(weight * (freq * k < 195) * np.sin(k * angle.astype(np.float64))
                   for k, weight in enumerate(weights, start=1))
    got = play(angle.copy(), overtone_polynomials(freq, weights))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=2e-5)
    assert [int((np.abs(np.fft.rfft(row)) > 50).sum()) for row in got] == [4, 3, 2, 1, 1]


def test_stand_in_loudness_is_as_drawn(stand_in):
    # Each excerpt is scaled to its drawn RMS before the noise (at most 0.02 RMS) is added.
    train = stand_in[0].astype(np.float64)
    loudness = np.sqrt(np.mean(train ** 2, axis=1))
    classical, rock = np.log(loudness[:3800]), np.log(loudness[4200:])  # rows the 3% flips leave mostly alone
    assert abs(np.median(classical) - np.log(0.03)) < 0.1 and abs(np.median(rock) - np.log(0.1)) < 0.1
    assert 0.5 < np.std(rock) < 0.7
