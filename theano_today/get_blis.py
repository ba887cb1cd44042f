#!/usr/bin/env python3
"""The lesson venv's BLAS, run by `make setup`: BLIS from Debian's package, else the OpenBLAS wheel.

    python theano_today/get_blis.py VENV           # BLIS, unless this venv was set to openblas before
    python theano_today/get_blis.py VENV blis      # BLIS (again)
    python theano_today/get_blis.py VENV openblas  # the scipy-openblas32 wheel (requirements.txt)

On the lesson's update BLIS is about 10% faster than the wheel's OpenBLAS
(docs/speed.md, "BLIS against the OpenBLAS wheel"). PyPI has no BLIS wheel, so this fetches one pinned file, Debian 12's
libblis4-serial_0.9.0-1_amd64.deb (4.5 MB; it needs only glibc 2.29, so Debian 12,
Debian 13 and Ubuntu 24.04 all get this same file), checks its sha256, unpacks it
with dpkg-deb and keeps the library (12 MB) and its copyright file in VENV/lib/blis,
where theano_today/theano_setup.py finds it. A direct URL and a hash pinned here, rather than apt with a private
configuration as gpu_route/make_gpu_venv.sh does: one file needs no 10 MB of package
lists and no Debian keyring (Ubuntu has none), and the hash pins it as firmly as
apt's signed lists would. No root, and nothing of the system's apt is touched.

Whatever goes wrong (not x86_64 Linux, no network, a wrong checksum, no dpkg-deb, a
library that does not work here) is one notice line, and the venv keeps the wheel:
setup goes on. VENV/.blas records the outcome; it is the Makefile's stamp.
--url and --sha256 fetch another file (the tests use them; so may a mirror).
"""
import argparse
import hashlib
import http.client
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import urllib.request

DEB_NAME = "libblis4-serial_0.9.0-1_amd64.deb"
# Plain HTTP, as apt uses by default: the pinned hash, not TLS, vouches for the file, and a
# system without ca-certificates (pip carries its own) can fetch it too.
DEB_URL = "http://deb.debian.org/debian/pool/main/b/blis/" + DEB_NAME
# From Debian 12's signed package index (`apt-cache show libblis4-serial`).
DEB_SHA256 = "044d8f1bd3a4d4fbe93e676a24d0cf57e8acc02f91151cd1c12d068af434e7ba"
DEB_VERSION = "0.9.0-1"
# The serial (single-threaded) build, as the lesson keeps its BLAS on one thread.
LIBRARY = "usr/lib/x86_64-linux-gnu/blis-serial/libblis.so.4"
COPYRIGHT = "usr/share/doc/libblis4-serial/copyright"
TIMEOUT = 30  # seconds without a byte before the download is given up
FALLBACK = "Theano will use the OpenBLAS wheel instead, about 10% slower per update"


class Failed(Exception):
    """BLIS cannot be had here; the message says what failed, in a few words."""


def blis_dir(venv):
    return os.path.join(venv, "lib", "blis")


def download(url, sha256, folder):
    """The file at `url`, checked against `sha256`, saved in `folder`; its path."""
    path = os.path.join(folder, "blis.deb")
    digest = hashlib.sha256()
    received, expected = 0, None
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response, open(path, "wb") as out:
            expected = response.headers.get("Content-Length")
            for block in iter(lambda: response.read(1 << 16), b""):
                digest.update(block)
                out.write(block)
                received += len(block)
    except OSError as error:  # URLError, HTTPError, timeouts, a full disk
        reason = getattr(error, "reason", None) or error
        reason = getattr(reason, "strerror", None) or reason  # "Connection refused", not "[Errno 111] ..."
        raise Failed("could not download %s: %s" % (url, reason))
    except http.client.HTTPException as error:  # a server that does not speak HTTP
        raise Failed("could not download %s: the answer is not HTTP (%s: %s)"
                     % (url, type(error).__name__, str(error).strip()[:80]))
    except ValueError as error:  # not a URL urllib can fetch
        raise Failed("could not download %s: %s" % (url, error))
    # read() ends quietly when the connection drops: the length says whether all of it came.
    if expected and expected.isdigit() and received < int(expected):
        raise Failed("could not download %s: the connection broke off after %d of %s bytes"
                     % (url, received, expected))
    if digest.hexdigest() != sha256:
        raise Failed("%s has sha256 %s, not the pinned %s" % (url, digest.hexdigest(), sha256))
    return path


# Run in a child process, so that a library that crashes on this CPU costs a notice, not the setup.
CHECK = """
import ctypes, sys
blas = ctypes.CDLL(sys.argv[1])
n2, n3, one, zero = ctypes.c_int(2), ctypes.c_int(3), ctypes.c_float(1), ctypes.c_float(0)
a = (ctypes.c_float * 6)(1, 2, 3, 4, 5, 6)   # 2x3, column-major
b = (ctypes.c_float * 6)(1, 0, 2, 0, 1, 1)   # 3x2
c = (ctypes.c_float * 4)()
blas.sgemm_(b"N", b"N", ctypes.byref(n2), ctypes.byref(n2), ctypes.byref(n3), ctypes.byref(one),
            a, ctypes.byref(n2), b, ctypes.byref(n3), ctypes.byref(zero), c, ctypes.byref(n2))
sys.exit(0 if list(c) == [11.0, 14.0, 8.0, 10.0] else 3)
"""


def unpack(deb, folder):
    """BLIS's library and copyright file from `deb`, arranged in a new folder under `folder`."""
    if shutil.which("dpkg-deb") is None:
        raise Failed("dpkg-deb is not installed (it comes with dpkg)")
    tree = os.path.join(folder, "tree")
    result = subprocess.run(["dpkg-deb", "-x", deb, tree], capture_output=True, text=True)
    if result.returncode != 0:
        raise Failed("dpkg-deb -x failed: %s" % (result.stderr.strip().splitlines() or ["?"])[-1])
    kept = os.path.join(folder, "blis")
    os.mkdir(kept)
    for member in (LIBRARY, COPYRIGHT):
        if not os.path.isfile(os.path.join(tree, member)):
            raise Failed("the package has no %s" % member)
        shutil.move(os.path.join(tree, member), kept)
    # The linker's -lblis looks for libblis.so; the library's own name (soname) is libblis.so.4.
    os.symlink("libblis.so.4", os.path.join(kept, "libblis.so"))
    with open(os.path.join(kept, "VERSION"), "w") as out:
        out.write(DEB_VERSION + "\n")
    check = subprocess.run([sys.executable, "-c", CHECK, os.path.join(kept, "libblis.so.4")],
                           capture_output=True, text=True)
    if check.returncode != 0:
        lines = check.stderr.strip().splitlines()
        raise Failed("the library does not work here: %s" % (
            lines[-1] if lines else "a 2x3 by 3x2 sgemm gave a wrong product" if check.returncode == 3
            else "exit status %d" % check.returncode))
    return kept


def install(venv, url, sha256):
    """BLIS into VENV/lib/blis, replacing what was there only once the new copy works."""
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        raise Failed("Debian's BLIS package is for x86_64 Linux, and this is %s %s"
                     % (platform.system(), platform.machine()))
    lib = os.path.join(venv, "lib")
    work = tempfile.mkdtemp(dir=lib, prefix=".blis-")
    try:
        kept = unpack(download(url, sha256, work), work)
        target = blis_dir(venv)
        if os.path.exists(target):
            os.rename(target, os.path.join(work, "old"))
        os.rename(kept, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def installed_version(venv):
    try:
        with open(os.path.join(blis_dir(venv), "VERSION")) as text:
            version = text.read().strip()
    except OSError:
        return None
    return version if os.path.isfile(os.path.join(blis_dir(venv), "libblis.so.4")) else None


def record(venv, outcome):
    """VENV/.blas: blis, openblas (chosen) or openblas-fallback (the Makefile then tries BLIS again
    at every make); the Makefile's stamp."""
    path = os.path.join(venv, ".blas")
    if outcome == "openblas-fallback" and previous_choice(venv) == outcome:
        # Left as it was: make tries again while it says so, without redoing what depends on it.
        return
    with open(path + ".part", "w") as out:
        out.write(outcome + "\n")
    os.replace(path + ".part", path)


def previous_choice(venv):
    try:
        with open(os.path.join(venv, ".blas")) as text:
            return text.read().strip()
    except OSError:
        return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("venv", help="the lesson's venv")
    parser.add_argument("blas", nargs="?", default="", help="blis or openblas (default: as before, else blis)")
    parser.add_argument("--url", default=DEB_URL, help=argparse.SUPPRESS)
    parser.add_argument("--sha256", default=DEB_SHA256, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.blas not in ("", "blis", "openblas"):
        parser.exit(2, "error: BLAS=%s is not offered: BLAS=blis (the default) or BLAS=openblas\n" % args.blas)
    if not os.path.isdir(os.path.join(args.venv, "lib")):
        parser.exit(2, "error: %s is not a venv; make setup creates it\n" % args.venv)
    choice = args.blas or ("openblas" if previous_choice(args.venv) == "openblas" else "blis")

    if choice == "openblas":
        shutil.rmtree(blis_dir(args.venv), ignore_errors=True)
        record(args.venv, "openblas")
        print("BLAS: the OpenBLAS wheel, as chosen (make setup BLAS=blis fetches BLIS)")
        return 0
    if installed_version(args.venv) == DEB_VERSION and args.url == DEB_URL:
        record(args.venv, "blis")
        print("BLAS: BLIS %s, already in %s" % (DEB_VERSION, blis_dir(args.venv)))
        return 0
    try:
        install(args.venv, args.url, args.sha256)
    except (Failed, OSError) as error:
        # An older BLIS left in place would be used, against what the notice says.
        shutil.rmtree(blis_dir(args.venv), ignore_errors=True)
        record(args.venv, "openblas-fallback")
        why = str(error)
        print("notice: BLIS was not installed (%s); %s (make setup BLAS=blis tries again)"
              % (why, FALLBACK), file=sys.stderr)
        return 0
    record(args.venv, "blis")
    size = os.path.getsize(os.path.join(blis_dir(args.venv), "libblis.so.4")) / 1e6
    print("BLAS: BLIS %s from Debian's %s, in %s (%.0f MB)" % (DEB_VERSION, DEB_NAME, blis_dir(args.venv), size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
