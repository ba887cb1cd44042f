"""Ctrl-C: every command ends in one line on stderr (where it stopped, what was and was not
written), exit status 130, no traceback, and nothing the user had is changed.

The real commands run here and get SIGINT once they have reached the stage a test is
about (a line they print, a file they write). It goes to their whole process group, as a
terminal's Ctrl-C does: what they start (a compiler, make's child) gets it too.
"""
import http.server
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from conftest import COMPILE_NOTICE, ROOT, copy_lesson, run_lesson, separable, write_npz
from lesson_helpers.command_line.model_file import save_model

SCRIPT = os.path.join(ROOT, "genre_mlp.py")
TIMEOUT = 300


def as_a_terminal_starts_it():
    # A terminal's foreground job takes Ctrl-C; a test run in the background (`make test &`,
    # nohup) would pass its ignored SIGINT on, and the command would never see the signal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(command, cwd=ROOT):
    """The command in a process group of its own (so that the test can be its terminal)."""
    # Unbuffered bytes: a line read here is never one that communicate() would then miss.
    return subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
                            start_new_session=True, preexec_fn=as_a_terminal_starts_it,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))


def read_until(process, wanted):
    """stdout's lines up to and including the first that contains `wanted`."""
    lines = []
    for line in iter(process.stdout.readline, b""):  # a byte at a time: nothing read ahead
        lines.append(line.decode())
        if wanted in lines[-1]:
            return lines
    pytest.fail("the command ended before printing %r: %s%s" % (wanted, "".join(lines), process.stderr.read().decode()))


def ctrl_c(process):
    """SIGINT to the process group; (exit status, the rest of stdout, stderr)."""
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=TIMEOUT)
    return process.returncode, out.decode(), err.decode()


def one_line(err):
    """stderr holds one line and no traceback; the line, without 'stopped by Ctrl-C '. (A cold
    compile cache adds its notice first, whatever the test: that line is left out.)"""
    err = "".join(line for line in err.splitlines(True) if not line.startswith(COMPILE_NOTICE))
    assert "Traceback" not in err and err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("stopped by Ctrl-C "), err
    return err[len("stopped by Ctrl-C "):-1]


@pytest.fixture
def data_file(tmp_path):
    return write_npz(tmp_path / "data.npz", train=separable(400, 1), test=separable(100, 2))


def test_training_stops_at_its_update_and_writes_nothing(tmp_path, data_file):
    saved, curve = tmp_path / "model.npz", tmp_path / "curve.csv"
    saved.write_bytes(b"the user's own file")  # --save would replace it at the end
    process = start([sys.executable, SCRIPT, "--data", data_file, "--updates", "1000000", "--eval-step", "100",
                     "--save", str(saved), "--curve", str(curve)])
    printed = read_until(process, "Accuracy after update 200/1000000")
    status, out, err = ctrl_c(process)
    assert status == 130, err
    line = one_line(err)
    match = re.fullmatch(r"at update (\d+) of 1000000; %s, %s not written" % (re.escape(str(saved)),
                                                                              re.escape(str(curve))), line)
    assert match, line
    last = [int(n) for n in re.findall(r"Accuracy after update (\d+)/", "".join(printed) + out)][-1]
    assert last <= int(match.group(1)) <= last + 100  # the update it was at: the last one printed, or after
    assert saved.read_bytes() == b"the user's own file" and not curve.exists()
    assert sorted(os.listdir(tmp_path)) == ["data.npz", "model.npz"]  # and no temporary file left


def test_what_was_written_before_ctrl_c_is_named(tmp_path, data_file):
    pytest.importorskip("matplotlib")
    samples, saved = tmp_path / "samples.png", tmp_path / "model.npz"
    process = start([sys.executable, SCRIPT, "--data", data_file, "--updates", "1000000", "--eval-step", "100",
                     "--plot-samples", str(samples), "--save", str(saved)])
    read_until(process, "Accuracy after update 100/")
    status, out, err = ctrl_c(process)
    assert status == 130
    assert re.fullmatch(r"at update \d+ of 1000000; wrote %s; %s not written" % (re.escape(str(samples)),
                                                                                re.escape(str(saved))),
                        one_line(err))
    assert samples.stat().st_size > 0 and not saved.exists()


def test_a_ctrl_c_while_theano_loads(tmp_path):
    # -X importtime writes a line on stderr as each import ends: once theano.gof's is there,
    # the script is past its options and in the middle of loading Theano (a second or more).
    process = start([sys.executable, "-X", "importtime", SCRIPT, "--updates", "10", "--eval-step", "5",
                     "--save", str(tmp_path / "model.npz")], cwd=str(tmp_path))
    for line in iter(process.stderr.readline, b""):
        if line.decode().split("|")[-1].strip() == "theano.gof":
            break
    else:
        pytest.fail("theano.gof never loaded: %s" % process.communicate()[1].decode())
    status, out, err = ctrl_c(process)
    err = "".join(line for line in err.splitlines(True) if not line.startswith("import time:"))
    assert status == 130 and out == ""
    assert one_line(err) == "while loading Theano; nothing written"
    assert os.listdir(tmp_path) == []


def test_the_stand_ins_generation(genre_mlp, monkeypatch, capsys, tmp_path, tmp_path_factory):
    # No data file: the stand-in is generated, in about 0.1 s, too short to catch from outside.
    # A real SIGINT is raised in the middle of it instead (Python's own handler turns it into
    # the KeyboardInterrupt a Ctrl-C gives).
    from lesson_helpers.data import stand_in
    lesson = copy_lesson(tmp_path_factory.mktemp("lesson"))  # no data file beside it
    real_split, calls = stand_in.split, []

    def split_then_ctrl_c(rng, num_rows, dtype):
        calls.append(num_rows)
        rows = real_split(rng, num_rows, dtype)
        signal.raise_signal(signal.SIGINT)
        return rows

    monkeypatch.setattr(stand_in, "split", split_then_ctrl_c)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal (see start)
    try:
        with pytest.raises(SystemExit) as stop:
            run_lesson(["--stand-in", "--updates", "10", "--eval-step", "5", "--curve", str(tmp_path / "curve.csv")],
                       script=str(lesson / "genre_mlp.py"))
    finally:
        signal.signal(signal.SIGINT, previous)
    err = capsys.readouterr().err
    assert stop.value.code == 130 and calls == [8000]
    assert one_line(err) == "while generating the stand-in data; %s not written" % (tmp_path / "curve.csv")
    assert sorted(os.listdir(tmp_path)) == []


@pytest.fixture
def model_file(model, genre_mlp, tmp_path):
    path = str(tmp_path / "model.npz")
    save_model(model, path, 0.5)
    return path


def test_predict_stops_at_its_file(model_file, tmp_path):
    soundfile = pytest.importorskip("soundfile")
    songs = tmp_path / "songs"
    songs.mkdir()
    soundfile.write(str(songs / "00001.wav"), np.sin(np.arange(400 * 30) / 3.0) * 0.3, 400)
    names = ["%05d.wav" % number for number in range(1, 20001)]  # far more than are done before the Ctrl-C
    for name in names[1:]:
        os.symlink("00001.wav", str(songs / name))
    process = start([sys.executable, SCRIPT, "--predict", model_file] + names, cwd=str(songs))
    printed = "".join(read_until(process, "00002.wav: "))
    status, out, err = ctrl_c(process)
    assert status == 130
    match = re.fullmatch(r"at file (\d+) of 20000 \((\d+).wav\); nothing written", one_line(err))
    assert match and int(match.group(1)) == int(match.group(2)) >= 2, err
    classified = re.findall(r"^(\d+).wav: ", printed + out, re.M)  # the files done before it stopped
    assert int(classified[-1]) in (int(match.group(1)) - 1, int(match.group(1))), out[-300:]
    assert sorted(os.listdir(tmp_path)) == ["model.npz", "songs"] and len(os.listdir(songs)) == 20000


class SlowHandler(http.server.BaseHTTPRequestHandler):
    """The first 600 kB of a 2.4 MB file, then nothing until the test ends: a download in progress."""
    protocol_version = "HTTP/1.1"
    body = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        try:
            self.wfile.write(self.body[:600000])
            self.wfile.flush()
            self.server.done.wait(TIMEOUT)
        except OSError:
            pass


@pytest.fixture
def slow_server():
    import io
    buffer = io.BytesIO()
    np.savez(buffer, train=separable(400, 3), test=separable(100, 4))
    SlowHandler.body = buffer.getvalue()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    httpd.daemon_threads, httpd.done = True, threading.Event()
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d/sample_3s_400Hz.npz" % httpd.server_address[1]
    httpd.done.set()
    httpd.shutdown()
    httpd.server_close()


def wait_for_bytes(folder, process):
    """Until a partial download with bytes in it is in `folder`; its path."""
    for _ in range(TIMEOUT * 10):
        parts = [name for name in os.listdir(folder) if name.endswith(".part")]
        if parts and os.path.getsize(os.path.join(folder, parts[0])):
            return os.path.join(folder, parts[0])
        assert process.poll() is None, process.communicate()[1].decode()
        time.sleep(0.1)
    pytest.fail("no partial download appeared")


@pytest.mark.parametrize("through_make", [False, True], ids=["make_dataset", "make_data"])
def test_a_download_keeps_its_partial_file_and_leaves_the_destination_alone(slow_server, tmp_path, through_make):
    dest = tmp_path / "sample_3s_400Hz.npz"
    dest.write_bytes(b"the file that was there")
    args = ["--url", slow_server, "-o", str(dest), "--force"]
    if through_make:
        venv = os.path.dirname(os.path.dirname(sys.executable))  # this venv, whatever Python made it
        if not os.path.exists(os.path.join(venv, ".extras")):
            pytest.skip("make data needs a venv made by `make setup`")
        # -o: the venv as it is (a checkout's newer mtimes would make make reinstall first)
        command = ["make", "--no-print-directory", "-C", ROOT, "data", "VENV=%s" % venv, "-o", venv + "/.extras",
                   "PYTHON=%s" % sys.executable, "ARGS=%s" % " ".join(args)]
    else:
        command = [sys.executable, os.path.join(ROOT, "dataset_builder", "make_dataset.py"), "download"] + args
    process = start(command)
    part = wait_for_bytes(tmp_path, process)
    status, out, err = ctrl_c(process)
    # make passes the SIGINT on, waits for the command, then dies of the same signal (a shell
    # reports 130); the Makefile keeps make from adding a line of its own.
    assert status == (-signal.SIGINT if through_make else 130), err
    # One line: before it, only the progress bar's redraws (each after a \r), the last one a blank.
    assert "Traceback" not in err and err.endswith("\n") and err.count("\n") == 1, err
    *bar, line = err[:-1].split("\r")
    assert all(not text.strip() or "B/s" in text for text in bar), err
    size = os.path.getsize(part)
    assert line == ("stopped by Ctrl-C during the download: nothing saved at %s; the %.1f MB received so far are "
                    "kept in %s; the same command resumes from there" % (dest, size / 1e6, part)), err
    assert 0 < size < len(SlowHandler.body)
    assert dest.read_bytes() == b"the file that was there"


def test_make_notebook_shuts_its_kernel_down_and_keeps_the_executed_copy(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    started = tmp_path / "kernel.pid"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("NOTEBOOK_ARGS = []", metadata={"tags": ["parameters"]}),
                      nbformat.v4.new_code_cell("import os, time\nopen(%r, 'w').write(str(os.getpid()))\n"
                                                "time.sleep(60)" % str(started)),
                      nbformat.v4.new_code_cell("print('the cell after')")]
    for number, cell in enumerate(notebook.cells, start=1):
        cell["id"] = "cell-%d" % number
    path, output = tmp_path / "lesson.ipynb", tmp_path / "executed.ipynb"
    nbformat.write(notebook, str(path))
    output.write_text("the last executed copy")
    process = start([sys.executable, os.path.join(ROOT, "lesson_helpers", "notebook_route", "lesson_notebook.py"), "run",
                     "--notebook", str(path), "--output", str(output)])
    for _ in range(TIMEOUT * 10):
        if started.exists() and started.read_text():
            break
        assert process.poll() is None, process.communicate()[1].decode()
        time.sleep(0.1)
    kernel = int(started.read_text())
    status, out, err = ctrl_c(process)
    assert status == 130 and out == ""
    assert one_line(err) == ("in cell cell-2 (code cell 2 of 3); the kernel is shut down; %s not written (an "
                             "earlier one is kept as it was)" % output)
    assert output.read_text() == "the last executed copy"
    assert not kernel_running(kernel)


def kernel_running(pid):
    """Whether the process runs (a zombie waiting for an init to reap it does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def test_the_stage_says_where_it_stopped_and_what_was_written():
    # What the steps tell the stage, as the lesson's run tells it, and the line a Ctrl-C then gets.
    from lesson_helpers.command_line.stopped import Stage
    stage = Stage()
    stage.asked = ["samples.png", "model.npz", "curve.csv"]
    assert stage.line() == "before it finished; samples.png, model.npz, curve.csv not written"
    stage.now("while drawing")
    stage.wrote("samples.png")
    assert stage.line() == "while drawing; wrote samples.png; model.npz, curve.csv not written"
    stage.at_update(7, 10)
    assert stage.line() == "at update 7 of 10; wrote samples.png; model.npz, curve.csv not written"
    stage.now("after training")  # a later step's place wins over the last update
    stage.wrote("model.npz")
    stage.wrote("curve.csv")
    assert stage.line() == "after training; wrote samples.png, model.npz, curve.csv"
    stage.asked = []
    stage.written = []
    assert stage.line() == "after training; nothing written"
