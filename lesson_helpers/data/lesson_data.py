"""Which data the lesson trains on: --data, the lesson's file beside genre_mlp.py (fetched
from Google Drive when absent, as `make data` does), or the generated stand-in.

The lesson's recordings are the default, so an absent file is fetched before training.
When that default fetch fails, for whatever reason (no network, Drive's quota page, a
file failing the checks, gdown missing), the lesson still runs: on the stand-in, with one
line saying why. Offline it decides within PROBE_SECONDS: a first request to Drive runs in
a thread of its own, so that a name lookup or a connection that never answers cannot hold
the lesson up. GENRE_MLP_DATA_URL names a plain HTTP(S) mirror instead of Drive; that is
the learner's own choice, so its failure is an error (DataError), not a quiet stand-in.
Either way nothing partial is ever left under the file's name (download.py).
"""
import os
import threading
import urllib.parse

from lesson_helpers.data.data_file import DataError, load_data_file
from lesson_helpers.data.stand_in import make_stand_in

MIRROR_VARIABLE = "GENRE_MLP_DATA_URL"
PROBE_SECONDS = 5  # a Drive that has not answered by then counts as offline; the whole decision stays under 10 s


def stand_in_line(why, seed):
    """The one line said before training on the stand-in: why, and how to get the recordings."""
    return ("Training on the generated stand-in (seed %d), not the lesson's recordings: %s; `make data` "
            "fetches them (README \"The data\")." % (seed, why))


def probe(url, seconds=None):
    """None when `url`'s server answers within `seconds` (PROBE_SECONDS), else the reason in a few
    words. Proxies are those of the environment, as for the download (requests reads HTTPS_PROXY)."""
    import requests
    seconds = PROBE_SECONDS if seconds is None else seconds
    from lesson_helpers.data.download import reason_of
    outcome = []

    def ask():
        try:
            requests.head(url, timeout=(seconds, seconds), allow_redirects=False)
            outcome.append(None)
        except requests.exceptions.Timeout:
            outcome.append("no answer within %d s" % seconds)
        except requests.exceptions.RequestException as error:
            outcome.append(reason_of(error))
        except Exception as error:  # anything else is as good as no answer: the stand-in follows
            outcome.append(str(error) or type(error).__name__)

    # A daemon thread: a name lookup stuck in the C library cannot be interrupted, but need not be waited for.
    asking = threading.Thread(target=ask, daemon=True)
    asking.start()
    asking.join(seconds)
    if not outcome:
        return "no answer within %d s" % seconds
    return outcome[0]


def missing_package():
    """The one-line reason the download cannot run here (a package it needs is missing), or None."""
    try:
        import gdown, requests, tqdm  # noqa: F401 (what download.py needs; imported there when it runs)
    except ImportError as error:
        from lesson_helpers.command_line.cli import install_hint
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        return "%s, which fetches it, is not installed (%s)" % (
            error.name, install_hint(os.path.join(root, "requirements.txt")))
    return None


def fetch_from_drive(destination, log):
    """Fetch the lesson's file from Google Drive into `destination`: None once it is there, else why
    not, as a phrase ("drive.google.com cannot be reached (...)") for the stand-in's line."""
    missing = missing_package()
    if missing:
        return missing
    from lesson_helpers.data import download
    unreachable = probe(download.DRIVE_URL)
    if unreachable:
        return "%s cannot be reached (%s)" % (urllib.parse.urlsplit(download.DRIVE_URL).hostname, unreachable)
    try:
        download.download(destination, log=log)
    except download.DownloadError as error:
        return "fetching it from Google Drive failed (%s)" % error
    return None


def fetch_from_mirror(url, destination, log):
    """Fetch the file from the learner's mirror into `destination`; any failure is a DataError."""
    fix = "correct %s, or unset it to fetch from Google Drive" % MIRROR_VARIABLE
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise DataError("%s=%s is not an http:// or https:// URL; %s" % (MIRROR_VARIABLE, url, fix))
    if not parts.hostname:
        raise DataError("%s=%s names no host; %s" % (MIRROR_VARIABLE, url, fix))
    missing = missing_package()
    if missing:
        raise DataError("%s is set, but %s" % (MIRROR_VARIABLE, missing))
    from lesson_helpers.data import download
    try:
        download.download(destination, url=url, log=log, url_name=MIRROR_VARIABLE)
    except download.DownloadError as error:
        raise DataError("the lesson's data file could not be fetched from %s=%s: %s"
                        % (MIRROR_VARIABLE, url, error)) from None


def lesson_arrays(path, lesson_file, later_file, seed, dtype, stand_in=False, log=print, environ=os.environ):
    """(train, test, is_stand_in): --data's file (`path`), the stand-in if asked for, the lesson's
    file or its later name, or else the file fetched (from GENRE_MLP_DATA_URL, else Drive), and
    the stand-in when Drive fails."""
    if path is not None:
        return load_data_file(path, dtype) + (False,)
    if stand_in:
        log(stand_in_line("--stand-in asked for it", seed))
        return make_stand_in(seed, dtype=dtype) + (True,)
    for candidate in (lesson_file, later_file):
        if os.path.exists(candidate):
            if candidate != lesson_file:
                log("Using %s (the lesson's data file under its later name)." % candidate)
            return load_data_file(candidate, dtype) + (False,)
    mirror = environ.get(MIRROR_VARIABLE, "")
    if mirror:
        fetch_from_mirror(mirror, lesson_file, log)
        return load_data_file(lesson_file, dtype) + (False,)
    why = fetch_from_drive(lesson_file, log)
    if why is None:
        return load_data_file(lesson_file, dtype) + (False,)
    log(stand_in_line("%s is not beside genre_mlp.py, and %s" % (os.path.basename(lesson_file), why), seed))
    return make_stand_in(seed, dtype=dtype) + (True,)


def open_data(server, path, seed, candidates, dtype, stand_in=False, log=print):
    """`server` (genre_mlp's DataServer) for the arrays lesson_arrays chooses; `candidates` are the
    lesson's file and its later name. Returns it, and whether it serves the stand-in."""
    train, test, is_stand_in = lesson_arrays(path, candidates[0], candidates[1], seed, dtype, stand_in, log)
    return server(seed=seed, arrays=(train, test)), is_stand_in
