"""Writing the user's files safely: all or nothing, with the permissions any new file gets.

What a path points to is never destroyed: a symlink is written through (the link
stays, its target is replaced atomically in the target's own folder), and a path
that exists and is not a regular file (a device, a FIFO, /dev/stdout) is written
to directly, never replaced by a regular file.
"""
import errno
import os
import stat
import tempfile


class WriteError(Exception):
    """A file cannot be written; the message is one line naming the path, the reason and the fix."""


# The fix that fits each cause; anything else gets the last one.
ADVICE = {errno.ENOSPC: "free some space or choose a folder you can write to",
          errno.EDQUOT: "free some space or choose a folder you can write to",
          errno.EROFS: "that disk is mounted read-only; choose a folder on another one",
          errno.EISDIR: "that is a folder; give a file name",
          None: "choose a folder you can write to"}


def _failed(path, error):
    reason = error.strerror or str(error)
    return WriteError("cannot write %s (%s); %s" % (path, reason, ADVICE.get(error.errno, ADVICE[None])))


def new_file_mode(path):
    """The mode a plain open() would leave: an existing file's own, else 0666 less the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)  # the only portable way to read it is to set it
        os.umask(umask)
        return 0o666 & ~umask


def is_special(path):
    """True when `path` exists (links followed) and is not a regular file or a folder: a device, a FIFO..."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def check_writable(path, example=None):
    """Raise WriteError now if `path` could not be written later (so a long run is not wasted).

    `example` is a file name to suggest when `path` names a folder.
    """
    if os.path.isdir(path) or path.endswith(("/", os.sep)):
        # abspath would drop a trailing "/", and the folder above would pass the check
        advice = "give a file name, e.g. %s" % os.path.join(path, example) if example else "give a file name"
        raise WriteError("%s is a folder, not a file; %s" % (path, advice))
    if is_special(path):
        # A device or a FIFO is written to as it is; opening a FIFO here would wait for a reader.
        if not os.access(path, os.W_OK):
            raise _failed(path, OSError(errno.EACCES, os.strerror(errno.EACCES)))
        return
    folder = os.path.dirname(os.path.realpath(path))  # a symlink's target is written, in its own folder
    if not os.path.isdir(folder):
        raise WriteError("%s: its folder does not exist; create it first" % path)
    try:
        # A real file, not os.access: that one says yes to root on a read-only disk.
        with tempfile.TemporaryFile(dir=folder, prefix="." + os.path.basename(path) + "."):
            pass
    except OSError as error:
        raise _failed(path, error) from None


def write_atomically(path, write):
    """Call write(stream) on a temporary file beside `path`, then rename it into place.

    An interrupted or failed write never leaves a half-written file, and the old
    file stays as it was until the new one is complete. A failure of the disk or
    the folder becomes a WriteError. A symlink is written through, the link kept; a
    device, FIFO or other non-regular file is written to directly (/dev/full: "no space").
    """
    if is_special(path):
        try:
            with open(path, "wb") as stream:
                write(stream)
        except OSError as error:
            raise _failed(path, error) from None
        return
    target = os.path.realpath(path)  # the link's target, so that os.replace keeps the link
    try:
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(target),
                                             prefix="." + os.path.basename(target) + ".", suffix=".part")
    except OSError as error:
        raise _failed(path, error) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            # mkstemp makes the file 0600, and os.replace would keep that.
            os.fchmod(stream.fileno(), new_file_mode(target))
            write(stream)
        os.replace(temporary, target)
    except BaseException as error:
        os.unlink(temporary)
        if isinstance(error, OSError):
            raise _failed(path, error) from None
        raise
