"""`make_dataset.py download` against a web server on 127.0.0.1 started here: real gdown, real
requests, real sockets. The server serves a valid file, web pages, broken files, and connections
cut halfway; it logs every request so that the tests see the resumed ranges."""
import ctypes
import hashlib
import http.server
import io
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, separable
from dataset_builder import make_dataset
from lesson_helpers.data import download
from lesson_helpers.data.data_file import check_command

MANUAL_LINK = "https://drive.google.com/file/d/1pwIqmpiNLdN_DfhJB48uLHVRBYNgzY-o/view"


def npz_bytes(**arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


GOOD = npz_bytes(train=separable(40, 1), test=separable(20, 2))           # 288 kB
# Larger than two of gdown's 512-kB reads, so that a cut leaves whole reads on disk to resume from
BIG = npz_bytes(train=separable(400, 3), test=separable(100, 4))          # 2.4 MB
ODD = npz_bytes(train=separable(41, 1), test=separable(20, 2))            # readable, fails the checks
PAGE = b"<!DOCTYPE html>\n<html><head><title>Not found</title></head><body>Moved</body></html>\n"
# A page with a UTF-8 byte-order mark and no <html> tag (HTML5 lets it be left out), sent as a file.
BOM_PAGE = b"\xef\xbb\xbf\n<!DOCTYPE html>\n<meta charset=utf-8><title>Error 403</title><p>Forbidden</p>\n"
SIGN_IN = (b"<html><head><title>Sign in</title></head><body><form action="
           b"\"https://accounts.google.com/ServiceLogin\">Sign in to continue</form></body></html>")


class Handler(http.server.BaseHTTPRequestHandler):
    """GET /<kind>/<any name>: kinds good, odd, truncated, page, signin, cut, cut-norange, missing."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet; the requests are kept in server.log instead
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client closed early: gdown probes before it asks for a range

    def logged(self):
        """Logs the request; True the first time this URL is asked for."""
        with self.server.lock:
            url = self.headers.get("Host", "") + self.path
            self.server.log.append((self.path, self.headers.get("Range")))
            first_time = url not in self.server.seen
            self.server.seen.add(url)
        return first_time

    def do_GET(self):
        first_time = self.logged()
        kind = self.path.split("/")[1]
        body = {"good": GOOD, "cut": BIG, "cut-norange": BIG, "odd": ODD,
                "truncated": GOOD[:len(GOOD) * 2 // 3], "page": PAGE, "signin": SIGN_IN,
                "bom": BOM_PAGE}.get(kind)
        if body is None:
            self.send_error(404)
            return
        self.send_body(body, html=kind in ("page", "signin"), cut=kind.startswith("cut") and first_time,
                       ranges=kind != "cut-norange")

    def send_body(self, body, html=False, cut=False, ranges=True, headers=()):
        etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
        wanted = self.headers.get("Range", "")
        start = 0
        if wanted.startswith("bytes=") and ranges and self.headers.get("If-Range", etag) == etag:
            start = int(wanted[len("bytes="):].split("-")[0])
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", "text/html; charset=utf-8" if html else "application/octet-stream")
        self.send_header("Content-Length", str(len(body) - start))
        self.send_header("ETag", etag)
        self.send_header("Accept-Ranges", "bytes" if ranges else "none")
        for name, value in headers:
            self.send_header(name, value)
        if start:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(body) - 1, len(body)))
        self.end_headers()
        if cut:
            # Half the file, then the connection drops, as on a broken network.
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body[start:])


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.lock, httpd.log, httpd.seen = threading.Lock(), [], set()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = "http://127.0.0.1:%d" % httpd.server_address[1]
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def run(capsys, *args):
    """make_dataset.py's main, as the command line calls it; returns (exit status, stdout, stderr)."""
    status = make_dataset.main(["download", *args])
    out, err = capsys.readouterr()
    return status, out, err


def one_error_line(err):
    """The failure's line: exactly one `error:` line, the last one, and no traceback."""
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert [line for line in lines if line.startswith("error:")] == lines[-1:], err
    return lines[-1]


def leftovers(folder, dest):
    return sorted(path.name for path in Path(folder).iterdir() if path.name != Path(dest).name)


def test_downloads_checks_and_saves(server, tmp_path, capsys):
    dest, url = tmp_path / "lesson.npz", server.url + "/good/a.npz"
    status, out, err = run(capsys, "--url", url, "-o", str(dest))
    assert status == 0, err
    assert dest.read_bytes() == GOOD
    assert out.splitlines() == [
        "Downloading the lesson's data file (about 48 MB) from " + url,
        "Saved %s: %s bytes (%.1f MB)" % (dest, "{:,}".format(len(GOOD)), len(GOOD) / 1e6),
        "sha256  " + hashlib.sha256(GOOD).hexdigest(),
        "train   40 x 1200 float32: rows 0-19 classical (0), rows 20-39 rock (1)",
        "test    20 x 1200 float32: rows 0-9 classical (0), rows 10-19 rock (1)"]
    assert "lesson.npz: 100%" in err  # the progress bar
    umask = os.umask(0)
    os.umask(umask)
    assert dest.stat().st_mode & 0o777 == 0o666 & ~umask  # as any file the user makes
    assert leftovers(tmp_path, dest) == []  # no staging or partial file remains


def test_a_symlink_destination_is_written_through(server, tmp_path, capsys):
    (tmp_path / "data").mkdir()
    link = tmp_path / "lesson.npz"
    link.symlink_to(tmp_path / "data" / "real.npz")
    status, _, err = run(capsys, "--url", server.url + "/good/link.npz", "-o", str(link))
    assert status == 0, err
    assert link.is_symlink() and (tmp_path / "data" / "real.npz").read_bytes() == GOOD
    assert os.listdir(tmp_path / "data") == ["real.npz"]


def test_a_fifo_destination_is_refused(server, tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    status, _, err = run(capsys, "--url", server.url + "/good/fifo.npz", "-o", str(fifo), "--force")
    assert status == 1 and "is not a regular file" in one_error_line(err)
    assert not fifo.is_file() and fifo.exists()


def test_a_folder_as_destination(server, tmp_path, capsys):
    status, _, err = run(capsys, "--url", server.url + "/good/b.npz", "-o", str(tmp_path))
    assert status == 0, err
    assert (tmp_path / "sample_3s_400Hz.npz").read_bytes() == GOOD


def test_an_existing_file_is_kept_without_force(server, tmp_path, capsys):
    dest = tmp_path / "mine.npz"
    dest.write_bytes(b"my own file")
    requests_before = len(server.log)
    status, _, err = run(capsys, "--url", server.url + "/good/c.npz", "-o", str(dest))
    assert status == 1
    assert one_error_line(err) == ("error: %s already exists; check it with `%s`, or add --force to download it "
                                   "again and replace it" % (dest, check_command(str(dest))))
    assert dest.read_bytes() == b"my own file" and len(server.log) == requests_before

    # --force replaces it only with a file that passes the checks
    status, _, err = run(capsys, "--url", server.url + "/odd/c.npz", "-o", str(dest), "--force")
    assert status == 1 and "fails the checks" in one_error_line(err)
    assert dest.read_bytes() == b"my own file"
    status, _, err = run(capsys, "--url", server.url + "/good/c.npz", "-o", str(dest), "--force")
    assert status == 0, err
    assert dest.read_bytes() == GOOD and leftovers(tmp_path, dest) == []


class FolderEvents:
    """The kernel's record (inotify) of what happens to the names in a folder: nothing is missed,
    however short, unlike a thread that polls."""
    MASKS = {0x2: "modify", 0x8: "close_write", 0x20: "open", 0x40: "moved_from", 0x80: "moved_to",
             0x100: "create", 0x200: "delete"}

    def __init__(self, folder):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0 or self.libc.inotify_add_watch(self.fd, str(folder).encode(), 0x3FF) < 0:
            pytest.skip("inotify is not available here")

    def of(self, name):
        """The events that named `name` so far, in order."""
        data = b""
        while True:
            try:
                data += os.read(self.fd, 65536)
            except BlockingIOError:
                break
        os.close(self.fd)
        events, at = [], 0
        while at < len(data):
            _, mask, _, length = struct.unpack_from("iIII", data, at)
            found = data[at + 16:at + 16 + length].rstrip(b"\0").decode()
            at += 16 + length
            events += [word for bit, word in self.MASKS.items() if mask & bit and found == name]
        return events


def test_the_destination_only_ever_holds_a_whole_file(server, tmp_path, capsys):
    # Its name is written once, by the rename of the checked file: never created, opened for
    # writing or removed on the way, so no reader ever sees a partial file (or no file) there.
    dest = tmp_path / "lesson.npz"
    dest.write_bytes(b"my old file")
    events = FolderEvents(tmp_path)
    status, _, err = run(capsys, "--url", server.url + "/cut/atomic.npz", "-o", str(dest), "--force",
                         "--retries", "0")
    assert status == 1 and dest.read_bytes() == b"my old file"  # cut: the old file stays
    status, _, err = run(capsys, "--url", server.url + "/cut/atomic.npz", "-o", str(dest), "--force",
                         "--retries", "0")
    assert status == 0, err
    assert dest.read_bytes() == BIG
    seen = events.of(dest.name)
    assert [event for event in seen if event != "open"] == ["moved_to"], seen  # reads aside


@pytest.mark.parametrize("kind, what", [("page", "sent a web page (HTML)"), ("signin", "sent a sign-in or permission page"),
                                        ("bom", "sent a web page (HTML)")])
def test_a_web_page_instead_of_the_file(server, tmp_path, capsys, kind, what):
    dest, url = tmp_path / "lesson.npz", server.url + "/%s/d.npz" % kind
    status, _, err = run(capsys, "--url", url, "-o", str(dest))
    assert status == 1
    assert one_error_line(err) == (
        "error: %s %s instead of the data file; download it by hand from %s and check it with "
        "`%s`, or try again later" % (url, what, MANUAL_LINK, check_command("FILE")))
    assert leftovers(tmp_path, dest) == [] and not dest.exists()


@pytest.mark.parametrize("start", [
    b"<!DOCTYPE html>\n<head><title>x</title>", b"  <!DOCTYPE html>\n<head>", b"\n\n<html lang=en>",
    b"<HTML><BODY>Moved</BODY></HTML>", b"\t\r\n<!DocType HTML>\n<title>x</title>", b"<!doctype\nhtml><p>x",
    b"\xef\xbb\xbf<!DOCTYPE html><meta charset=utf-8>", b"\xef\xbb\xbf\r\n  <Html>",
    b"<!-- saved page -->\n<html>", b"<?xml version='1.0'?>\n<!DOCTYPE html PUBLIC '-//W3C//DTD XHTML 1.0//EN'>\n<html>",
    "<!DOCTYPE html><title>x</title>".encode("utf-16"), b"\xfe\xff" + "\n<HTML>".encode("utf-16-be"),
])
def test_a_web_page_is_recognised_however_it_starts(tmp_path, start):
    page = tmp_path / "page"
    page.write_bytes(start + b"<p>" + b"x" * 5000)
    assert download.looks_like_html(page)[0]


@pytest.mark.parametrize("content", [GOOD, b"PK\x03\x04 html <head>", b"plain text about <b>html</b>", b""])
def test_other_files_are_not_taken_for_web_pages(tmp_path, content):
    other = tmp_path / "other"
    other.write_bytes(content)
    assert not download.looks_like_html(other)[0]


@pytest.mark.parametrize("kind, problem", [
    ("truncated", "(it is not a .npz file, or is cut short)"),
    ("odd", "`train` has an odd number of rows (41), so its halves cannot be the two classes"),
])
def test_a_file_that_fails_the_checks(server, tmp_path, capsys, kind, problem):
    dest = tmp_path / "lesson.npz"
    status, _, err = run(capsys, "--url", server.url + "/%s/e.npz" % kind, "-o", str(dest))
    assert status == 1
    line = one_error_line(err)
    assert line.startswith("error: the downloaded file fails the checks (")
    assert problem in line and ("nothing was saved at %s" % dest) in line and MANUAL_LINK in line
    assert leftovers(tmp_path, dest) == [] and not dest.exists()


def test_a_cut_connection_resumes_on_the_next_run(server, tmp_path, capsys):
    dest, url = tmp_path / "lesson.npz", server.url + "/cut/f.npz"
    status, _, err = run(capsys, "--url", url, "-o", str(dest), "--retries", "0")
    assert status == 1
    line = one_error_line(err)
    (partial,) = [tmp_path / name for name in leftovers(tmp_path, dest)]
    assert partial.name.startswith("lesson.npz.download") and partial.name.endswith(".part")
    kept = partial.read_bytes()
    assert 0 < len(kept) <= len(BIG) // 2 and BIG.startswith(kept)
    assert line == ("error: the transfer from 127.0.0.1 failed (the connection broke off before the end "
                    "of the file); check the network connection and run the same command again (the "
                    "%.1f MB received so far are kept in %s; the same command resumes from there)"
                    % (len(kept) / 1e6, partial))
    assert not dest.exists()

    status, out, err = run(capsys, "--url", url, "-o", str(dest), "--retries", "0")
    assert status == 0, err
    assert out.splitlines()[0].endswith("%s, resuming after the %.1f MB received before" % (url, len(kept) / 1e6))
    assert dest.read_bytes() == BIG and leftovers(tmp_path, dest) == []
    # 500 rows of 1200 float32 and the archive's few hundred bytes: 2.4 MB (it would be 2.3 MiB).
    assert "Saved %s: %s bytes (2.4 MB)" % (dest, "{:,}".format(len(BIG))) in out.splitlines()
    assert ("/cut/f.npz", "bytes=%d-" % len(kept)) in server.log  # only the rest was asked for


def test_a_cut_connection_resumes_within_the_run(server, tmp_path, capsys):
    dest = tmp_path / "lesson.npz"
    status, _, err = run(capsys, "--url", server.url + "/cut/g.npz", "-o", str(dest), "--retries", "1")
    assert status == 0, err
    assert dest.read_bytes() == BIG
    ranges = [wanted for path, wanted in server.log if path == "/cut/g.npz"]
    assert ranges[0] is None and ranges[1].startswith("bytes=") and ranges[1] != "bytes=0-"


def test_a_server_that_cannot_resume_starts_again(server, tmp_path, capsys):
    dest, url = tmp_path / "lesson.npz", server.url + "/cut-norange/h.npz"
    status, _, err = run(capsys, "--url", url, "-o", str(dest), "--retries", "0")
    assert status == 1 and len(leftovers(tmp_path, dest)) == 1
    status, out, err = run(capsys, "--url", url, "-o", str(dest), "--retries", "0")
    assert status == 0, err
    assert "The server cannot resume the partial download; starting again from the beginning." in out
    assert dest.read_bytes() == BIG and leftovers(tmp_path, dest) == []


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_no_network(tmp_path, capsys):
    dest = tmp_path / "lesson.npz"
    status, _, err = run(capsys, "--url", "http://127.0.0.1:%d/x.npz" % closed_port(), "-o", str(dest),
                         "--retries", "0")
    assert status == 1
    assert one_error_line(err) == ("error: cannot reach 127.0.0.1 (Connection refused); check the network "
                                   "connection and run the same command again")
    assert leftovers(tmp_path, dest) == []


def test_no_network_to_google_drive(tmp_path, capsys, monkeypatch):
    # Offline for certain, wherever the tests run: every HTTPS request goes to a proxy that is not there.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:%d" % closed_port())
    monkeypatch.delenv("https_proxy", raising=False)  # it would win over HTTPS_PROXY
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    dest = tmp_path / "lesson.npz"
    status, _, err = run(capsys, "-o", str(dest), "--retries", "0")
    assert status == 1
    assert one_error_line(err) == ("error: cannot reach drive.google.com (Connection refused); check the "
                                   "network connection and run the same command again")
    assert leftovers(tmp_path, dest) == []


def test_not_found(server, tmp_path, capsys):
    status, _, err = run(capsys, "--url", server.url + "/missing/i.npz", "-o", str(tmp_path / "x.npz"))
    assert status == 1
    assert one_error_line(err) == ("error: 127.0.0.1 answered HTTP 404 for %s/missing/i.npz; check the URL"
                                   % server.url)


def test_bad_destination_folder(tmp_path, capsys):
    status, _, err = run(capsys, "-o", str(tmp_path / "no" / "such" / "x.npz"))
    assert status == 1
    assert one_error_line(err) == ("error: folder %s does not exist; create it or choose another -o"
                                   % (tmp_path / "no" / "such"))


@pytest.fixture
def small_disk(tmp_path):
    """A 128 kB tmpfs: a real full disk, smaller than the 288-kB file. Needs root (CI runs as root)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % mounted.stderr.strip())
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk(server, small_disk, capsys):
    dest = small_disk / "lesson.npz"
    status, _, err = run(capsys, "--url", server.url + "/good/j.npz", "-o", str(dest), "--retries", "0")
    assert status == 1
    line = one_error_line(err)
    assert line.startswith("error: the disk is full: no space left in %s (0.0 MB free, the file needs "
                           "48 MB); free some space or choose another -o, then run the same command again"
                           % small_disk)
    (partial,) = leftovers(small_disk, dest)
    assert partial.endswith(".part") and "kept in %s" % (small_disk / partial) in line
    assert GOOD.startswith((small_disk / partial).read_bytes()) and not dest.exists()


def test_a_full_disk_says_the_free_space_in_mb(server, small_disk, capsys, monkeypatch):
    # The full tmpfs has 0 bytes free, which reads 0.0 whatever the unit; here it reports 1.26 MB
    # (1,260,000 bytes: 1.3 MB, where MiB would print 1.2 and kB 1260.0).
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda path: real(path)._replace(free=1_260_000))
    status, _, err = run(capsys, "--url", server.url + "/good/j.npz", "-o", str(small_disk / "lesson.npz"),
                         "--retries", "0")
    assert status == 1 and "(1.3 MB free, the file needs 48 MB)" in one_error_line(err)


def test_a_file_size_limit(server, tmp_path):
    """The same write failure without root: a file size limit (ulimit -f, 100 kB here) makes the
    kernel refuse the write (EFBIG). SIGXFSZ is ignored, as it would otherwise kill the process."""
    dest = tmp_path / "lesson.npz"
    limited = ['bash', '-c', 'trap "" XFSZ; ulimit -f 100; exec "$0" "$@"', sys.executable,
               os.path.join(ROOT, "dataset_builder", "make_dataset.py"), "download",
               "--url", server.url + "/good/k.npz", "-o", str(dest), "--retries", "0"]
    result = subprocess.run(limited, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert line.startswith("error: the file size limit (ulimit -f) stopped writing %s.download" % dest)
    (partial,) = leftovers(tmp_path, dest)
    assert (tmp_path / partial).stat().st_size <= 100 * 1024 and not dest.exists()


# ---------------------------------------------------------------------------------------------
# Google Drive itself, offline: HTTPS_PROXY sends gdown's requests to a proxy here, which answers
# them as Drive would, over TLS with a certificate made for the test (REQUESTS_CA_BUNDLE trusts it).
# The product and gdown run unchanged, Drive's confirmation step included.
# ---------------------------------------------------------------------------------------------
DRIVE_ID = "1pwIqmpiNLdN_DfhJB48uLHVRBYNgzY-o"
CONFIRM_PAGE = ('<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head><body>'
                '<p>Google Drive can\'t scan this file for viruses.</p>'
                '<form id="download-form" action="https://drive.usercontent.google.com/download" method="get">'
                '<input type="submit" value="Download anyway"/><input type="hidden" name="id" value="%s">'
                '<input type="hidden" name="export" value="download"><input type="hidden" name="confirm" '
                'value="t"><input type="hidden" name="uuid" value="0b5c"></form></body></html>' % DRIVE_ID).encode()
QUOTA_PAGE = (b'<!DOCTYPE html><html><head><title>Google Drive - Quota exceeded</title></head><body>'
              b'<p class="uc-error-caption">Sorry, you can\'t view or download this file at this time.</p>'
              b'<p class="uc-error-subcaption">Too many users have viewed or downloaded this file recently. '
              b'Please try accessing the file again later.</p></body></html>')


class DriveHandler(Handler):
    """drive.google.com/uc, drive.usercontent.google.com/download and accounts.google.com, as the
    proxy's `drive_mode` says: confirm (the large-file confirmation step), cut, quota, signin, or odd
    (a file that fails the checks)."""

    def do_GET(self):
        host, mode = self.headers.get("Host", "").split(":")[0], self.server.drive_mode
        first_time = self.logged()
        if host == "drive.google.com" and self.path == "/uc?id=" + DRIVE_ID:
            if mode == "signin":  # a file no longer shared: Drive sends the browser to sign in
                self.send_response(302)
                self.send_header("Location", "https://accounts.google.com/ServiceLogin?continue=x")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.send_body(QUOTA_PAGE if mode == "quota" else CONFIRM_PAGE, html=True)
        elif host == "accounts.google.com":
            self.send_body(SIGN_IN, html=True)
        elif host == "drive.usercontent.google.com" and self.path.startswith("/download?id=%s&" % DRIVE_ID):
            self.send_body(ODD if mode == "odd" else BIG, cut=mode == "cut" and first_time,
                           headers=[("Content-Disposition", 'attachment; filename="classical_vs_rock.npz"')])
        else:
            self.send_error(404)


class DriveProxy(Handler):
    def do_CONNECT(self):
        self.send_response(200, "Connection established")
        self.end_headers()
        tls = self.server.tls.wrap_socket(self.connection, server_side=True)
        try:
            DriveHandler(tls, self.client_address, self.server)
        finally:
            tls.close()
        self.close_connection = True


@pytest.fixture(scope="module")
def drive_proxy(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make the test's certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=drive.google.com", "-addext",
                    "subjectAltName=DNS:drive.google.com,DNS:drive.usercontent.google.com,DNS:accounts.google.com"],
                   check=True, capture_output=True)
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DriveProxy)
    proxy.daemon_threads = True
    proxy.lock, proxy.log, proxy.seen, proxy.drive_mode = threading.Lock(), [], set(), "confirm"
    proxy.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    proxy.tls.load_cert_chain(str(cert), str(key))
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    proxy.cert = cert
    yield proxy
    proxy.shutdown()
    proxy.server_close()


@pytest.fixture
def drive(drive_proxy, monkeypatch):
    for name in ("NO_PROXY", "no_proxy", "https_proxy", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:%d" % drive_proxy.server_address[1])
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(drive_proxy.cert))
    drive_proxy.seen.clear()
    del drive_proxy.log[:]
    return drive_proxy


def test_google_drive_with_its_confirmation_step(drive, tmp_path, capsys):
    drive.drive_mode = "confirm"
    dest = tmp_path / "lesson.npz"
    status, out, err = run(capsys, "-o", str(dest), "--retries", "0")
    assert status == 0, err
    assert out.splitlines()[0] == "Downloading the lesson's data file (about 48 MB) from Google Drive"
    assert dest.read_bytes() == BIG and leftovers(tmp_path, dest) == []
    paths = [path for path, _ in drive.log]
    assert paths[0] == "/uc?id=" + DRIVE_ID and paths[-1].startswith("/download?id=%s&" % DRIVE_ID)
    assert "confirm=t" in paths[-1]


def test_google_drive_resumes_a_cut_download(drive, tmp_path, capsys):
    drive.drive_mode = "cut"
    dest = tmp_path / "lesson.npz"
    status, _, err = run(capsys, "-o", str(dest), "--retries", "0")
    assert status == 1
    assert one_error_line(err).startswith("error: the transfer from drive.google.com failed (the "
                                          "connection broke off before the end of the file)")
    (partial,) = leftovers(tmp_path, dest)
    kept = (tmp_path / partial).read_bytes()
    status, _, err = run(capsys, "-o", str(dest), "--retries", "0")
    assert status == 0, err
    assert dest.read_bytes() == BIG and leftovers(tmp_path, dest) == []
    ranges = [wanted for path, wanted in drive.log if path.startswith("/download")]
    assert ranges[-1] == "bytes=%d-" % len(kept)


@pytest.mark.parametrize("mode, what", [
    ("quota", "Google Drive sent its quota page (the file was downloaded too often in the last 24 h)"),
    ("signin", "Google Drive sent a sign-in or permission page"),
])
def test_google_drive_pages(drive, tmp_path, capsys, mode, what):
    drive.drive_mode = mode
    dest = tmp_path / "lesson.npz"
    status, _, err = run(capsys, "-o", str(dest), "--retries", "0")
    assert status == 1
    assert one_error_line(err) == (
        "error: %s instead of the data file; download it by hand from %s and check it with "
        "`%s`, or try again later" % (what, MANUAL_LINK, check_command("FILE")))
    assert leftovers(tmp_path, dest) == [] and not dest.exists()


def test_the_bytes_kept_are_counted_in_megabytes_of_a_million(tmp_path):
    staging = tmp_path / ("lesson.npz" + download.STAGING_SUFFIX)
    partial = tmp_path / (staging.name + "abcdefgh.part")  # gdown's name for it
    partial.write_bytes(b"")
    assert download.kept_note(staging) == ""  # nothing received: nothing to say
    partial.write_bytes(b"x" * 3 * 2 ** 19)  # three of gdown's 512-kB reads: 1,572,864 bytes
    assert download.kept_note(staging) == (" (the 1.6 MB received so far are kept in %s; the same command "
                                           "resumes from there)" % partial)  # 1.5 would be MiB
