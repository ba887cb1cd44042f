"""Fetch the lesson's data file, check it, and only then put it in place.

    python dataset_builder/make_dataset.py download                 # from Google Drive, beside genre_mlp.py
    python dataset_builder/make_dataset.py download --url URL -o data.npz --force

`make data` runs it, and so does genre_mlp.py when the file is absent (lesson_data.py).

gdown does the transfer, from Drive (it answers Drive's confirmation step for
large files) or from a plain HTTP(S) mirror: a progress bar, retries, and a
partial file that a later run resumes with an HTTP Range request. gdown writes
to a staging name beside the destination; the file reaches the destination only
after it has passed the same checks as `make_dataset.py check`, by a rename in
the same folder, so the destination never holds a partial or unchecked file.
"""
import contextlib
import errno
import hashlib
import io
import os
import re
import shutil
import sys
import urllib.parse
import zipfile
from pathlib import Path

import numpy as np

from lesson_helpers.data import data_file
from lesson_helpers.data.data_file import check_command  # runnable from any folder

DRIVE_ID = "1pwIqmpiNLdN_DfhJB48uLHVRBYNgzY-o"
DRIVE_URL = f"https://drive.google.com/uc?id={DRIVE_ID}"
MANUAL_LINK = f"https://drive.google.com/file/d/{DRIVE_ID}/view"
FILE_NAME = "sample_3s_400Hz.npz"
DEFAULT_DESTINATION = Path(__file__).resolve().parent.parent / FILE_NAME  # beside genre_mlp.py
EXPECTED_MB = 48
TIMEOUT_S = (20, 60)  # to connect, and between two reads: a stalled transfer fails instead of hanging
RETRIES = 3           # reconnections within one run; each resumes where the transfer stopped
STAGING_SUFFIX = ".download"  # gdown adds 8 random characters and .part while the bytes arrive


class DownloadError(Exception):
    """The download failed; the message is one line naming the problem and the fix."""


class Stopped(KeyboardInterrupt):
    """Ctrl-C: the message says where the download stopped and what it kept (one line)."""


class RangeIgnored(Exception):
    """The server sent the whole file again when asked for the rest of a partial one."""


def destination(out, force):
    """The file to write: OUT, OUT/sample_3s_400Hz.npz for a folder, or the default beside genre_mlp.py."""
    dest = Path(out) if out else DEFAULT_DESTINATION
    if dest.is_dir():
        dest = dest / FILE_NAME
    if not dest.parent.is_dir():
        raise DownloadError(f"folder {dest.parent} does not exist; create it or choose another -o")
    if dest.exists() and not (dest.is_file() or dest.is_dir()):
        raise DownloadError(f"{dest} is not a regular file (a device or a FIFO); give a file name with -o")
    if dest.exists() and not force:
        raise DownloadError(f"{dest} already exists; check it with `{check_command(str(dest))}`, "
                            "or add --force to download it again and replace it")
    return dest


def partial_files(staging):
    """gdown's partial files for this staging name (see gdown.download: name + 8 characters + .part)."""
    return sorted(staging.parent.glob(glob_escape(staging.name) + "????????.part"))


def glob_escape(name):
    return re.sub(r"([*?\[])", r"[\1]", name)


def kept_note(staging):
    kept = [(path, path.stat().st_size) for path in partial_files(staging)]
    kept = [(path, size) for path, size in kept if size]
    if not kept:
        return ""
    path, size = kept[0]
    return f" (the {size / 1e6:.1f} MB received so far are kept in {path}; the same command resumes from there)"


def reason_of(error):
    """The useful end of a requests error: 'Connection refused', 'Name or service not known', ..."""
    import requests
    if isinstance(error, requests.exceptions.ChunkedEncodingError) or "IncompleteRead" in str(error):
        return "the connection broke off before the end of the file"
    found = re.findall(r"\[Errno -?\d+\] ([^'\")\]]+)", str(error))
    if found:
        return found[-1].strip()
    tunnel = re.search(r"Tunnel connection failed: ([^'\")\]]+)", str(error))
    if tunnel:  # a proxy (HTTPS_PROXY) that would not connect us
        return "the proxy answered %s" % tunnel.group(1).strip()
    text = str(error).splitlines()[0] if str(error) else ""
    return text[:200] or type(error).__name__


def page_error(source, is_drive, content):
    """The one line for a web page where the .npz file should be."""
    text = content.lower()
    sender = "Google Drive" if is_drive else source
    if is_drive and (b"quota" in text or b"too many users" in text):
        what = "Google Drive sent its quota page (the file was downloaded too often in the last 24 h)"
    elif any(word in text for word in (b"accounts.google.com", b"sign in", b"signin", b"public link",
                                       b"permission")):
        what = f"{sender} sent a sign-in or permission page"
    else:
        what = f"{sender} sent a web page (HTML)"
    return (f"{what} instead of the data file; download it by hand from {MANUAL_LINK} "
            f"and check it with `{check_command('FILE')}`, or try again later")


def looks_like_html(path):
    """(whether the file is a web page, its first 4 kB): a page may start with a byte-order
    mark, blank lines, a doctype or a comment, in either case."""
    with open(path, "rb") as file:
        head = file.read(4096)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: its ASCII is what counts here
        start = head.decode("utf-16", errors="ignore").encode("ascii", errors="ignore")
    else:
        start = head.removeprefix(b"\xef\xbb\xbf")
    start = start.lstrip().lower()
    return bool(re.match(rb"<!doctype\s+html|<html", start)) or b"<html" in start[:1024], head


class ProgressBar:
    """gdown's progress callback drawn as a tqdm bar; gdown itself stays quiet, so that its
    retry notices do not bury the one line a failure prints. The bar appears with the first
    bytes: a server that answers with an error leaves that line alone on the terminal."""

    def __init__(self, name, already):
        self.name, self.already, self.bar = name, already, None

    def __call__(self, so_far, total):
        if self.bar is None:
            import tqdm
            self.bar = tqdm.tqdm(initial=self.already, unit="B", unit_scale=True, desc=self.name, file=sys.stderr)
        if total is not None and self.bar.total != total:
            self.bar.total = total
        self.bar.update(so_far - self.bar.n)

    def close(self, leave=True):
        if self.bar is not None:
            self.bar.leave = leave
            self.bar.close()


def fetch(source, staging, retries, log):
    """Run gdown once; every failure becomes a DownloadError of one line."""
    import gdown  # here, not at the top: `make_dataset.py check` works without the download's packages
    import requests
    is_drive = source == DRIVE_URL or "drive.google.com" in source or "docs.google.com" in source
    host = urllib.parse.urlsplit(source).hostname or source
    kept = sum(path.stat().st_size for path in partial_files(staging))
    log(f"Downloading the lesson's data file (about {EXPECTED_MB} MB) from "
        f"{'Google Drive' if source == DRIVE_URL else source}"
        + (f", resuming after the {kept / 1e6:.1f} MB received before" if kept else ""))
    progress = ProgressBar(staging.name[:-len(STAGING_SUFFIX)], kept)
    try:
        gdown.download(url=source, output=str(staging), quiet=True, progress=progress, resume=True,
                       retries=retries, timeout=TIMEOUT_S,
                       use_cookies=False)  # no cookie file written in the home folder
    except gdown.exceptions.FileURLRetrievalError as error:
        # Drive answered with a page gdown could not follow: its quota page, or a sign-in page.
        raise DownloadError(page_error(source, True, str(error).encode())) from None
    except gdown.exceptions.DownloadError as error:
        message = str(error)
        if "did not honor the requested byte range" in message:
            raise RangeIgnored() from None
        if "multiple temporary files" in message:
            parts = ", ".join(str(path) for path in partial_files(staging))
            raise DownloadError(f"several partial downloads to resume ({parts}); delete all but the "
                                "largest and run the same command again") from None
        cause = error.__cause__ or error
        if message.startswith("Download failed after") and isinstance(cause, requests.exceptions.ConnectionError):
            raise DownloadError(f"cannot reach {host} ({reason_of(cause)}); check the network connection "
                                f"and run the same command again{kept_note(staging)}") from None
        raise DownloadError(f"the transfer from {host} failed ({reason_of(cause)}); check the network "
                            f"connection and run the same command again{kept_note(staging)}") from None
    except requests.exceptions.HTTPError as error:
        status = error.response.status_code if error.response is not None else "an error"
        fix = (f"the link may have stopped working: download it by hand from {MANUAL_LINK}, or build an "
               "equivalent file (sample_3s_400Hz.npz.README)" if is_drive else "check the URL")
        raise DownloadError(f"{host} answered HTTP {status} for {source}; {fix}") from None
    except requests.exceptions.RequestException as error:
        raise DownloadError(f"cannot reach {host} ({reason_of(error)}); check the network connection "
                            f"and run the same command again{kept_note(staging)}") from None
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            free = shutil.disk_usage(staging.parent).free / 1e6
            raise DownloadError(f"the disk is full: no space left in {staging.parent} ({free:.1f} MB free, "
                                f"the file needs {EXPECTED_MB} MB); free some space or choose another -o, "
                                f"then run the same command again{kept_note(staging)}") from None
        if error.errno == errno.EFBIG:
            raise DownloadError(f"the file size limit (ulimit -f) stopped writing {staging}; raise it, "
                                f"then run the same command again{kept_note(staging)}") from None
        raise DownloadError(f"cannot write in {staging.parent} ({error.strerror or error}); choose a "
                            f"folder with write permission and free space{kept_note(staging)}") from None
    except KeyboardInterrupt:
        progress.close(leave=False)  # the bar gives way to the one line that says where it stopped
        raise
    finally:
        progress.close()
    return is_drive


def array_shapes(path):
    """{name: (shape, dtype)} of the arrays of a .npz, from their headers alone."""
    shapes = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                with archive.open(member) as stream:
                    version = np.lib.format.read_magic(stream)
                    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                            else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read(stream)
                shapes[member[:-4]] = (shape, dtype)
    return shapes


def verify(path, check=None, check_error=Exception):
    """(True, "") or (False, why) for a downloaded file, by `check` (make_dataset.check) with its
    printed summary held back, or by the rules in data_file.py that `check` applies too."""
    if check is None:
        try:
            found = data_file.problems(data_file.read_npz(str(path), fix="-"))
        except data_file.DataError as error:
            return False, str(error).split("; ")[0].replace(str(path), "it", 1)
        return not found, "; ".join(found)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            ok = check(path)
    except check_error as error:  # unreadable: "<path> is not a .npz file, or is cut short; <fix>"
        return False, str(error).split("; ")[0].replace(str(path), "it", 1)
    verdict = (printed.getvalue().strip().splitlines() or [""])[-1]
    return ok, verdict.split(": ", 1)[-1]


def download(out=None, url=None, force=False, retries=RETRIES, check=None, check_error=Exception, log=print,
             url_name="--url"):
    """Download, check (by `check`, else data_file.py's rules), and rename into place; returns the
    destination. Raises DownloadError."""
    dest = destination(out, force)
    # A symlink is written through: its target is replaced in its own folder, the link kept.
    target = Path(os.path.realpath(dest))
    staging = target.with_name(target.name + STAGING_SUFFIX)
    source = url or DRIVE_URL
    try:
        fetch_and_place(target, staging, source, url and url_name, retries, check, check_error, log, dest)
    except KeyboardInterrupt:
        if staging.exists():
            kept = f"the whole file is kept in {staging}, and the same command checks it again"
        else:
            kept = kept_note(staging).strip(" ()") or "nothing received was kept"
        raise Stopped(f"during the download: nothing saved at {dest}; {kept}") from None
    try:
        describe(dest, log)
    except KeyboardInterrupt:
        raise Stopped(f"after {dest} was saved and checked") from None
    return dest


def fetch_and_place(target, staging, source, url_name, retries, check, check_error, log, dest):
    """The transfer, the checks, and the rename into place; `url_name` says where a mirror's URL came from."""
    for attempt in (1, 2):
        try:
            is_drive = fetch(source, staging, retries, log)
            break
        except RangeIgnored:
            if attempt == 2:
                raise DownloadError(f"{source} cannot resume a partial download and the second try "
                                    f"failed as well; run the same command again") from None
            for path in partial_files(staging):  # the server ignores Range: those bytes are useless
                path.unlink()
            log("The server cannot resume the partial download; starting again from the beginning.")

    is_html, head = looks_like_html(staging)
    if is_html:
        staging.unlink()
        raise DownloadError(page_error(source, is_drive, head))
    ok, problem = verify(staging, check, check_error)
    if not ok:
        staging.unlink()  # complete but unusable: a new download must start from zero
        raise DownloadError(f"the downloaded file fails the checks ({problem}); nothing was saved at "
                            f"{dest}; check the source{f' ({url_name})' if url_name else ''} or download the file "
                            f"by hand from {MANUAL_LINK}")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o666 & ~umask)  # gdown's temporary file is owner-only; a data file need not be
    os.replace(staging, target)  # same folder: atomic


def describe(dest, log):
    """What was saved: its size, its SHA-256 and its arrays."""
    size = dest.stat().st_size
    with open(dest, "rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    log(f"Saved {dest}: {size:,} bytes ({size / 1e6:.1f} MB)")
    log(f"sha256  {digest}")
    for name, (shape, dtype) in sorted(array_shapes(dest).items(), key=lambda item: item[0] != "train"):
        if name in ("train", "test"):
            half = shape[0] // 2
            log(f"{name:<6}  {' x '.join(map(str, shape))} {dtype}: rows 0-{half - 1} classical (0), "
                f"rows {half}-{shape[0] - 1} rock (1)")
