"""Which data the lesson trains on (lesson_helpers/data/lesson_data.py): the lesson's file fetched when
absent (from Google Drive, through the local stand-in for Drive in test_download.py, or from
GENRE_MLP_DATA_URL, a local server), the stand-in with one line why when Drive fails, --stand-in.
Real gdown, requests and sockets; nothing here reaches the internet."""
import io
import socket
import sys
import threading

import numpy as np
import pytest

from conftest import copy_lesson, report_lines, run_script, stderr_lines
from lesson_helpers.data import lesson_data
from lesson_helpers.data.data_file import DataError
from lesson_helpers.data.stand_in import make_stand_in
from test_download import BIG, GOOD, closed_port, drive, drive_proxy, leftovers, server  # noqa: F401 (fixtures)

STAND_IN_END = "; `make data` fetches them (README \"The data\")."


def arrays_of(content):
    with np.load(io.BytesIO(content)) as archive:
        return archive["train"], archive["test"]


def lesson(folder, log, **options):
    """lesson_arrays as genre_mlp.open_data calls it, for a lesson in `folder` (no --data)."""
    return lesson_data.lesson_arrays(None, str(folder / "sample_3s_400Hz.npz"), str(folder / "classical_vs_rock.npz"),
                                     7, np.float32, log=log, **options)


def through(proxy, monkeypatch):
    """Every HTTPS request through `proxy` (both spellings: the lower-case one wins where both are set)."""
    for name in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, proxy)


def offline(monkeypatch):
    """Every HTTPS request to a proxy that is not there: offline for certain, wherever the tests run."""
    through("http://127.0.0.1:%d" % closed_port(), monkeypatch)


def assert_stand_in(result, seed=7):
    train, test, is_stand_in = result
    expected = make_stand_in(seed, dtype=np.float32)
    assert is_stand_in is True
    np.testing.assert_array_equal(train, expected[0])
    np.testing.assert_array_equal(test, expected[1])


def test_an_absent_file_is_fetched_from_drive_before_training(drive, tmp_path):
    drive.drive_mode = "confirm"
    said = []
    train, test, is_stand_in = lesson(tmp_path, said.append)
    expected = arrays_of(BIG)
    assert is_stand_in is False
    np.testing.assert_array_equal(train, expected[0])
    np.testing.assert_array_equal(test, expected[1])
    assert (tmp_path / "sample_3s_400Hz.npz").read_bytes() == BIG  # kept: the next run starts at once
    assert said[0] == "Downloading the lesson's data file (about 48 MB) from Google Drive"
    assert said[-2:] == ["train   400 x 1200 float32: rows 0-199 classical (0), rows 200-399 rock (1)",
                         "test    100 x 1200 float32: rows 0-49 classical (0), rows 50-99 rock (1)"]
    assert leftovers(tmp_path, tmp_path / "sample_3s_400Hz.npz") == []


@pytest.mark.parametrize("mode, why", [
    ("quota", "fetching it from Google Drive failed (Google Drive sent its quota page (the file was downloaded "
              "too often in the last 24 h) instead of the data file; download it by hand from "),
    ("odd", "fetching it from Google Drive failed (the downloaded file fails the checks (`train` has an odd "
            "number of rows (41), so its halves cannot be the two classes); nothing was saved at "),
])
def test_a_failed_fetch_from_drive_trains_on_the_stand_in_and_says_why(drive, tmp_path, mode, why):
    drive.drive_mode = mode
    said = []
    assert_stand_in(lesson(tmp_path, said.append))
    line = said[-1]
    assert line.startswith("Training on the generated stand-in (seed 7), not the lesson's recordings: "
                           "sample_3s_400Hz.npz is not beside genre_mlp.py, and " + why)
    assert line.endswith(STAND_IN_END) and "\n" not in line
    assert list(tmp_path.iterdir()) == []  # nothing under the file's name, nothing beside it


def test_offline_the_stand_in_and_one_line(tmp_path, monkeypatch):
    offline(monkeypatch)
    said = []
    assert_stand_in(lesson(tmp_path, said.append))
    assert said == ["Training on the generated stand-in (seed 7), not the lesson's recordings: sample_3s_400Hz.npz "
                    "is not beside genre_mlp.py, and drive.google.com cannot be reached (Connection refused)"
                    + STAND_IN_END]
    assert list(tmp_path.iterdir()) == []


def test_a_network_that_never_answers_does_not_hold_the_lesson(tmp_path, monkeypatch):
    # A proxy that accepts the connection and then says nothing, as a captive or broken network may.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    through("http://127.0.0.1:%d" % silent.getsockname()[1], monkeypatch)
    monkeypatch.setattr(lesson_data, "PROBE_SECONDS", 1)
    said = []
    try:
        assert_stand_in(lesson(tmp_path, said.append))
    finally:
        silent.close()
    assert "drive.google.com cannot be reached (no answer within 1 s)" in said[-1] and said[-1].endswith(STAND_IN_END)


def test_the_probe_gives_up_on_a_lookup_that_hangs(monkeypatch):
    # A name lookup stuck in the C library cannot be interrupted: the probe stops waiting for it.
    import requests
    release = threading.Event()
    monkeypatch.setattr(requests, "head", lambda *args, **kwargs: release.wait(30))
    try:
        assert lesson_data.probe("https://drive.google.com/", seconds=1) == "no answer within 1 s"
    finally:
        release.set()


def test_without_gdown_the_stand_in_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "gdown", None)  # as if not installed: importing it fails
    said = []
    assert_stand_in(lesson(tmp_path, said.append))
    assert said[-1].startswith("Training on the generated stand-in (seed 7), not the lesson's recordings: "
                               "sample_3s_400Hz.npz is not beside genre_mlp.py, and gdown, which fetches it, "
                               "is not installed (%s -m pip install -r " % sys.executable)


def test_stand_in_asked_for_fetches_nothing(tmp_path, monkeypatch):
    offline(monkeypatch)
    (tmp_path / "sample_3s_400Hz.npz").write_bytes(GOOD)  # there, and still not used
    said = []
    assert_stand_in(lesson(tmp_path, said.append, stand_in=True))
    assert said == ["Training on the generated stand-in (seed 7), not the lesson's recordings: --stand-in asked "
                    "for it" + STAND_IN_END]


def test_the_mirror_in_genre_mlp_data_url(server, tmp_path):
    said = []
    url = server.url + "/good/mirror.npz"
    train, test, is_stand_in = lesson(tmp_path, said.append, environ={"GENRE_MLP_DATA_URL": url})
    expected = arrays_of(GOOD)
    assert is_stand_in is False and (tmp_path / "sample_3s_400Hz.npz").read_bytes() == GOOD
    np.testing.assert_array_equal(train, expected[0])
    assert said[0] == "Downloading the lesson's data file (about 48 MB) from " + url
    # A file already there is used as it is: the variable only says where a fetch goes.
    (tmp_path / "sample_3s_400Hz.npz").write_bytes(BIG)
    assert len(lesson(tmp_path, said.append, environ={"GENRE_MLP_DATA_URL": url})[0]) == 400


@pytest.mark.parametrize("url, message", [
    ("{server}/missing/m.npz", "the lesson's data file could not be fetched from GENRE_MLP_DATA_URL={url}: "
                               "127.0.0.1 answered HTTP 404 for {url}; check the URL"),
    ("{server}/page/m.npz", "the lesson's data file could not be fetched from GENRE_MLP_DATA_URL={url}: {url} "
                            "sent a web page (HTML) instead of the data file; "),
    ("{server}/odd/m.npz", "the lesson's data file could not be fetched from GENRE_MLP_DATA_URL={url}: the "
                           "downloaded file fails the checks (`train` has an odd number of rows (41), so its "
                           "halves cannot be the two classes); nothing was saved at {dest}; check the source "
                           "(GENRE_MLP_DATA_URL) or download"),
    ("ftp://example.org/m.npz", "GENRE_MLP_DATA_URL=ftp://example.org/m.npz is not an http:// or https:// URL; "
                                "correct GENRE_MLP_DATA_URL, or unset it to fetch from Google Drive"),
    ("http://", "GENRE_MLP_DATA_URL=http:// names no host; correct GENRE_MLP_DATA_URL, or unset it to fetch from "
                "Google Drive"),
])
def test_a_failed_mirror_is_an_error_and_leaves_nothing(server, tmp_path, url, message):
    url = url.format(server=server.url)
    dest = tmp_path / "sample_3s_400Hz.npz"
    with pytest.raises(DataError) as raised:
        lesson(tmp_path, print, environ={"GENRE_MLP_DATA_URL": url})
    assert str(raised.value).startswith(message.format(url=url, dest=dest)) and "\n" not in str(raised.value)
    assert list(tmp_path.iterdir()) == []


# What a learner sees: the script itself (one compile, from Theano's cache after the first).
def test_the_script_offline_says_why_first_and_ends_with_the_verdict(tmp_path):
    folder = copy_lesson(tmp_path)
    result = run_script("--updates", "200", "--eval-step", "200", script=str(folder / "genre_mlp.py"),
                        env=dict.fromkeys(("HTTPS_PROXY", "https_proxy"), "http://127.0.0.1:%d" % closed_port()))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("Training on the generated stand-in (seed 1234), not the lesson's recordings: "
                        "sample_3s_400Hz.npz is not beside genre_mlp.py, and drive.google.com cannot be reached "
                        "(Connection refused)" + STAND_IN_END)
    assert lines[1].startswith("Theano 1.0.5 on ")
    assert report_lines(result.stdout)[-1].startswith("Trained on the generated stand-in")
    assert lines[-1].startswith("Verdict on the generated stand-in: the network's ")
    assert not (folder / "sample_3s_400Hz.npz").exists()


def test_the_script_with_a_mirror(server, tmp_path):
    folder = copy_lesson(tmp_path)
    url = server.url + "/good/script.npz"
    result = run_script("--updates", "20", "--eval-step", "20", script=str(folder / "genre_mlp.py"),
                        env={"GENRE_MLP_DATA_URL": url})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Downloading the lesson's data file (about 48 MB) from " + url
    assert "Data: 40 training excerpts (20 classical, 20 rock), 20 test (10 classical, 10 rock), 1200 samples each" \
        in lines
    assert lines[-1].startswith("Verdict: the network's ") and "stand-in" not in result.stdout
    assert (folder / "sample_3s_400Hz.npz").read_bytes() == GOOD


def test_the_script_with_a_broken_mirror_is_one_line(server, tmp_path):
    folder = copy_lesson(tmp_path)
    url = server.url + "/missing/script.npz"
    result = run_script(script=str(folder / "genre_mlp.py"), env={"GENRE_MLP_DATA_URL": url})
    assert result.returncode == 1
    assert stderr_lines(result) == [("error: the lesson's data file could not be fetched from "
                                        "GENRE_MLP_DATA_URL=%s: 127.0.0.1 answered HTTP 404 for %s; check the URL"
                                        % (url, url))]  # no empty progress bar before it
    assert "Traceback" not in result.stderr and not (folder / "sample_3s_400Hz.npz").exists()
