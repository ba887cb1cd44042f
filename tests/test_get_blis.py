"""theano_today/get_blis.py (make setup's BLAS) against a web server on 127.0.0.1 started here, with
small .deb packages that dpkg-deb builds here: a working one, one whose library computes
wrong products; then the link flags theano_today/theano_setup.py gives Theano for what it installed."""
import functools
import hashlib
import http.server
import os
import platform
import shutil
import socket
import subprocess
import sys
import threading

import pytest

from conftest import ROOT
from theano_today import get_blis, theano_setup

pytestmark = pytest.mark.skipif(
    platform.machine() != "x86_64" or shutil.which("dpkg-deb") is None or shutil.which("gcc") is None,
    reason="the BLIS package is for x86_64 and is unpacked with dpkg-deb")

# A column-major sgemm_ for NN products, enough for the script's check and Theano's link test.
SGEMM = r"""
void sgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k, const float *alpha,
            const float *a, const int *lda, const float *b, const int *ldb, const float *beta,
            float *c, const int *ldc) {
    for (int j = 0; j < *n; j++)
        for (int i = 0; i < *m; i++) {
            float sum = 0;
            for (int p = 0; p < *k; p++)
                sum += a[i + p * *lda] * b[p + j * *ldb];
            c[i + j * *ldc] = *alpha * (sum + OFF) + *beta * c[i + j * *ldc];
        }
}
"""


def build_deb(folder, name, off, library=True):
    """A libblis4-serial look-alike whose sgemm_ adds `off` to every product (without its library:
    `library` False); its bytes."""
    tree = folder / (name + "-tree")
    lib = tree / os.path.dirname(get_blis.LIBRARY)
    doc = tree / os.path.dirname(get_blis.COPYRIGHT)
    for path in (tree / "DEBIAN", lib, doc):
        path.mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        "Package: libblis4-serial\nVersion: %s\nArchitecture: amd64\nMaintainer: tests <t@example.org>\n"
        "Description: a stand-in for the tests\n" % get_blis.DEB_VERSION)
    (doc / "copyright").write_text("the tests' copyright file\n")
    (folder / "sgemm.c").write_text(SGEMM)
    if library:
        subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-DOFF=%s" % off, "-Wl,-soname,libblis.so.4",
                        str(folder / "sgemm.c"), "-o", str(tree / get_blis.LIBRARY)], check=True)
    deb = folder / name
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(tree), str(deb)], check=True,
                   capture_output=True)
    return deb.read_bytes()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Serves good.deb and wrong.deb; `requests` counts the GETs."""
    folder = tmp_path_factory.mktemp("debs")
    debs = {"good.deb": build_deb(folder, "good.deb", 0), "wrong.deb": build_deb(folder, "wrong.deb", 1),
            # sgemm_ reads address 0: the check's process dies of SIGSEGV
            "crash.deb": build_deb(folder, "crash.deb", "(*(volatile float *)0)"),
            "nolib.deb": build_deb(folder, "nolib.deb", 0, library=False),
            "broken.deb": b"!<arch>\nnot a Debian package, whatever its name\n"}
    (folder / "broken.deb").write_bytes(debs["broken.deb"])

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            self.server.requests += 1

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    httpd.daemon_threads, httpd.requests = True, 0
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    httpd.url = "http://127.0.0.1:%d/" % httpd.server_address[1]
    httpd.sha256 = {name: hashlib.sha256(data).hexdigest() for name, data in debs.items()}
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def venv(tmp_path):
    (tmp_path / "venv" / "lib").mkdir(parents=True)
    return tmp_path / "venv"


def fetch(capsys, venv, *args):
    """get_blis.py's main as make runs it; returns (exit status, stdout lines, stderr lines)."""
    status = get_blis.main([str(venv), *args])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err.splitlines()


def blis_files(venv):
    folder = venv / "lib" / "blis"
    return sorted(os.listdir(folder)) if folder.exists() else []


def one_notice(err, why):
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert err[0] == ("notice: BLIS was not installed (%s); Theano will use the OpenBLAS wheel instead, about "
                      "10%% slower per update (make setup BLAS=blis tries again)" % why)


def test_installs_blis_and_theano_links_it(server, venv, tmp_path, capsys):
    status, out, err = fetch(capsys, venv, "--url", server.url + "good.deb", "--sha256", server.sha256["good.deb"])
    assert status == 0 and err == []
    blis = venv / "lib" / "blis"
    assert out == ["BLAS: BLIS %s from Debian's %s, in %s (0 MB)" % (get_blis.DEB_VERSION, get_blis.DEB_NAME, blis)]
    assert blis_files(venv) == ["VERSION", "copyright", "libblis.so", "libblis.so.4"]
    assert os.readlink(blis / "libblis.so") == "libblis.so.4"
    assert (blis / "copyright").read_text() == "the tests' copyright file\n"
    assert (venv / ".blas").read_text() == "blis\n"
    assert [name for name in os.listdir(venv / "lib") if name.startswith(".")] == []  # no work folder left

    flags, name = theano_setup.blas_ldflags(prefix=str(venv))
    assert name == "BLIS %s (Debian's libblis4-serial, in the venv)" % get_blis.DEB_VERSION.split("-")[0]
    assert flags.split() == ["-L%s" % blis, "-lblis", "-Xlinker", "-rpath=%s" % blis] and "," not in flags
    # The flags link a program calling sgemm_ that then runs with no LD_LIBRARY_PATH: the rpath finds it.
    (tmp_path / "call.cpp").write_bytes(theano_setup.SGEMM_PROGRAM)
    subprocess.run(["g++", str(tmp_path / "call.cpp"), "-o", str(tmp_path / "call")] + flags.split(), check=True)
    env = {key: value for key, value in os.environ.items() if key != "LD_LIBRARY_PATH"}
    assert subprocess.run([str(tmp_path / "call")], env=env).returncode == 0


def test_a_wrong_checksum_keeps_the_wheel(server, venv, capsys):
    url = server.url + "good.deb"
    status, out, err = fetch(capsys, venv, "--url", url, "--sha256", "0" * 64)
    assert status == 0 and out == []
    one_notice(err, "%s has sha256 %s, not the pinned %s" % (url, server.sha256["good.deb"], "0" * 64))
    assert blis_files(venv) == [] and (venv / ".blas").read_text() == "openblas-fallback\n"
    assert theano_setup.blas_ldflags(prefix=str(venv))[1] == "OpenBLAS (scipy-openblas32 wheel)"


def test_a_refused_connection_keeps_the_wheel_and_drops_an_older_blis(server, venv, capsys):
    # A BLIS installed before (another version) must not stay in use behind a notice saying the wheel is.
    fetch(capsys, venv, "--url", server.url + "good.deb", "--sha256", server.sha256["good.deb"])
    (venv / "lib" / "blis" / "VERSION").write_text("0.8.1-2\n")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = "http://127.0.0.1:%d/blis.deb" % closed.getsockname()[1]  # bound, not listening: refused
        status, out, err = fetch(capsys, venv, "--url", url)
    assert status == 0 and out == []
    one_notice(err, "could not download %s: Connection refused" % url)
    assert blis_files(venv) == [] and (venv / ".blas").read_text() == "openblas-fallback\n"


def test_a_missing_file_keeps_the_wheel(server, venv, capsys):
    status, _, err = fetch(capsys, venv, "--url", server.url + "gone.deb")
    assert status == 0
    one_notice(err, "could not download %sgone.deb: File not found" % server.url)


def test_a_library_that_computes_wrong_products_is_not_used(server, venv, capsys):
    status, _, err = fetch(capsys, venv, "--url", server.url + "wrong.deb", "--sha256", server.sha256["wrong.deb"])
    assert status == 0
    one_notice(err, "the library does not work here: a 2x3 by 3x2 sgemm gave a wrong product")
    assert blis_files(venv) == []


@pytest.mark.parametrize("name, why", [
    ("crash.deb", "the library does not work here: exit status -11"),
    ("nolib.deb", "the package has no %s" % get_blis.LIBRARY),
    ("broken.deb", "dpkg-deb -x failed: "),
])
def test_a_package_that_cannot_be_used_keeps_the_wheel(server, venv, capsys, name, why):
    status, out, err = fetch(capsys, venv, "--url", server.url + name, "--sha256", server.sha256[name])
    assert status == 0 and out == []
    assert len(err) == 1 and err[0].startswith("notice: BLIS was not installed (" + why), err
    assert err[0].endswith("); Theano will use the OpenBLAS wheel instead, about 10% slower per update "
                           "(make setup BLAS=blis tries again)")
    assert blis_files(venv) == [] and (venv / ".blas").read_text() == "openblas-fallback\n"
    assert [name for name in os.listdir(venv / "lib") if name.startswith(".")] == []  # no work folder left


def test_a_file_system_error_while_installing_keeps_the_wheel(server, venv, capsys, monkeypatch):
    # A venv on a file system without symbolic links: the error is an OSError, not a Failed.
    def no_links(*args):
        raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(os, "symlink", no_links)
    status, out, err = fetch(capsys, venv, "--url", server.url + "good.deb", "--sha256", server.sha256["good.deb"])
    assert status == 0 and out == []
    one_notice(err, "[Errno 1] Operation not permitted")
    assert blis_files(venv) == [] and (venv / ".blas").read_text() == "openblas-fallback\n"


def serve_once(answer):
    """A TCP server on 127.0.0.1 that reads a request and sends `answer` (bytes), then closes; its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def answer_all():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                connection.sendall(answer)
    threading.Thread(target=answer_all, daemon=True).start()
    return "http://127.0.0.1:%d/blis.deb" % listener.getsockname()[1], listener


@pytest.mark.parametrize("answer, why", [
    # Content-Length promises 4.5 MB; 5 bytes come, then the connection closes.
    (b"HTTP/1.0 200 OK\r\nContent-Length: 4500000\r\n\r\nhello", "the connection broke off after 5 of 4500000 bytes"),
    (b"SSH-2.0-OpenSSH_9.2\r\n", "the answer is not HTTP (BadStatusLine: SSH-2.0-OpenSSH_9.2)"),
])
def test_a_broken_transfer_keeps_the_wheel(venv, capsys, answer, why):
    url, listener = serve_once(answer)
    with listener:
        status, out, err = fetch(capsys, venv, "--url", url, "--sha256", "0" * 64)
    assert status == 0 and out == []
    one_notice(err, "could not download %s: %s" % (url, why))
    assert (venv / ".blas").read_text() == "openblas-fallback\n"


def test_a_url_urllib_cannot_fetch_keeps_the_wheel(venv, capsys):
    status, out, err = fetch(capsys, venv, "--url", "deb.debian.org/blis.deb")
    assert status == 0 and out == []
    one_notice(err, "could not download deb.debian.org/blis.deb: unknown url type: 'deb.debian.org/blis.deb'")


def test_a_fallback_is_tried_again_by_the_next_setup(server, venv, capsys):
    good = ["--url", server.url + "good.deb", "--sha256", server.sha256["good.deb"]]
    fetch(capsys, venv, "--url", server.url + "good.deb", "--sha256", "0" * 64)
    assert (venv / ".blas").read_text() == "openblas-fallback\n"
    stamp = (venv / ".blas").stat().st_mtime_ns
    # Still failing: the stamp is left as it was, so make does not redo the steps after it.
    status, _, err = fetch(capsys, venv, "--url", server.url + "good.deb", "--sha256", "0" * 64)
    assert status == 0 and len(err) == 1 and (venv / ".blas").stat().st_mtime_ns == stamp
    # The next setup with no choice (make's plain run) fetches BLIS: a fallback is not a choice.
    before = server.requests
    status, out, err = fetch(capsys, venv, *good)
    assert status == 0 and err == [] and out[0].startswith("BLAS: BLIS ") and server.requests > before
    assert (venv / ".blas").read_text() == "blis\n" and "libblis.so.4" in blis_files(venv)


def test_not_x86_64(server, venv, capsys, monkeypatch):
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    before = server.requests
    status, _, err = fetch(capsys, venv, "--url", server.url + "good.deb", "--sha256", server.sha256["good.deb"])
    assert status == 0 and server.requests == before  # nothing fetched
    one_notice(err, "Debian's BLIS package is for x86_64 Linux, and this is Linux aarch64")


def test_no_dpkg_deb(server, venv, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    status, _, err = fetch(capsys, venv, "--url", server.url + "good.deb", "--sha256", server.sha256["good.deb"])
    assert status == 0
    one_notice(err, "dpkg-deb is not installed (it comes with dpkg)")


def test_openblas_chosen_stays_chosen(server, venv, capsys):
    good = ["--url", server.url + "good.deb", "--sha256", server.sha256["good.deb"]]
    fetch(capsys, venv, *good)
    status, out, err = fetch(capsys, venv, "openblas")
    assert status == 0 and err == []
    assert out == ["BLAS: the OpenBLAS wheel, as chosen (make setup BLAS=blis fetches BLIS)"]
    assert blis_files(venv) == [] and (venv / ".blas").read_text() == "openblas\n"
    # make runs the script again, with no choice, when the script or the venv changes: still the wheel.
    before = server.requests
    assert fetch(capsys, venv, *good)[:2] == (0, out) and server.requests == before
    # BLAS=blis takes it back.
    status, out, err = fetch(capsys, venv, "blis", *good)
    assert status == 0 and err == [] and out[0].startswith("BLAS: BLIS ")
    assert (venv / ".blas").read_text() == "blis\n" and "libblis.so.4" in blis_files(venv)


def test_the_command_line_as_make_runs_it(venv):
    # A choice that is not offered stops make, in one line; the venv is left alone.
    result = subprocess.run([sys.executable, os.path.join(ROOT, "theano_today", "get_blis.py"), str(venv), "mkl"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "error: BLAS=mkl is not offered: BLAS=blis (the default) or BLAS=openblas\n"
    assert os.listdir(venv) == ["lib"]


def test_the_pin_is_a_sha256():
    assert len(get_blis.DEB_SHA256) == 64 and int(get_blis.DEB_SHA256, 16) >= 0
    assert get_blis.DEB_URL.endswith("/" + get_blis.DEB_NAME) and get_blis.DEB_VERSION in get_blis.DEB_NAME


@pytest.mark.skipif(not os.environ.get("CI"), reason="CI fetches BLIS; a machine offline may not have it")
def test_the_lesson_venv_links_blis_in_ci():
    # .ci/run has network: make setup must have put BLIS in the venv these tests run in.
    assert theano_setup.blas_ldflags()[1].startswith("BLIS ")


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_passes_a_choice_from_its_command_line_only(tmp_path):
    # Dry runs (make -n) of the rule that calls the script, for a venv that does not exist yet.
    venv = tmp_path / "venv"

    def planned(*args, **env):
        result = subprocess.run(["make", "-n", "-C", ROOT, "PYTHON=" + sys.executable, "VENV=%s" % venv,
                                 "%s/.blas" % venv] + list(args), capture_output=True, text=True,
                                env=dict(os.environ, **env))
        assert result.returncode == 0, result.stderr
        return [line.strip() for line in result.stdout.splitlines() if "theano_today/get_blis.py" in line]

    script = "%s/bin/python theano_today/get_blis.py %s" % (venv, venv)
    assert planned("BLAS=openblas") == [script + " openblas"]
    # BLAS in the environment means other things to other builds (a library's path): not a choice.
    assert planned(BLAS="/usr/lib/libblas.so.3") == [script]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("stamp, goal, runs", [("openblas-fallback", "setup", True), ("openblas-fallback", "run", False),
                                               ("blis", "setup", False), ("openblas", "setup", False)])
def test_make_tries_blis_again_after_a_fallback_only(tmp_path, stamp, goal, runs):
    # A set-up venv (its stamps newer than everything they depend on): `make setup` runs the
    # script again only while the stamp records a fallback; `make run` never waits on a retry.
    venv = tmp_path / "venv"
    venv.mkdir()
    for name, text in ((".lesson", ""), (".blas", stamp + "\n"), (".extras", "")):
        (venv / name).write_text(text)
        os.utime(venv / name, (2 ** 31 + 1000, 2 ** 31 + 1000))  # 2038: after any checkout
    result = subprocess.run(["make", "-n", "-C", ROOT, "PYTHON=" + sys.executable, "VENV=%s" % venv, goal],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    planned = [line.strip() for line in result.stdout.splitlines() if "theano_today/get_blis.py" in line]
    assert planned == (["%s/bin/python theano_today/get_blis.py %s" % (venv, venv)] if runs else [])
