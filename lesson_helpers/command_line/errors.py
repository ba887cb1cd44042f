"""The script's one-line endings: the project's own errors (a bad data file, a bad model file,
a file that cannot be written, memory) end in "error: ..." and exit status 1, and a Ctrl-C in
"stopped by Ctrl-C <where>; <what was written>" and exit status 130, with no traceback. A hook
on sys.excepthook does it, set for the script only, so that the lesson's cells need no
try/except around them; any other exception keeps Python's own traceback.
"""
import sys

from lesson_helpers.command_line import stopped
from lesson_helpers.command_line.model_file import ModelFileError
from lesson_helpers.data.data_file import DataError
from lesson_helpers.files import WriteError

OUT_OF_MEMORY = "error: out of memory; give smaller --hidden widths (or --batch-size), or close other programs"


def as_exit(error):
    """The SystemExit the script ends `error` with, or None where Python's traceback is the right answer.
    A Ctrl-C's line is printed here, on stderr."""
    if isinstance(error, KeyboardInterrupt):
        sys.stdout.flush()
        print("stopped by Ctrl-C %s" % stopped.stage.line(), file=sys.stderr)
        return SystemExit(stopped.EXIT_STATUS)
    if isinstance(error, (DataError, ModelFileError, WriteError)):
        return SystemExit("error: %s" % error)
    if isinstance(error, MemoryError):  # what the memory check before building let through
        return SystemExit(OUT_OF_MEMORY)
    return None


_before = []  # the hook this one replaced (Theano's, which adds what a failing operation was)


def _hook(kind, error, traceback):
    ending = as_exit(error)
    if ending is None:
        return _before[0](kind, error, traceback)
    raise ending  # Python prints a SystemExit's message and exits with its status


def one_line_for_the_script():
    if sys.excepthook is not _hook:
        _before[:] = [sys.excepthook]
        sys.excepthook = _hook
