"""The lesson's data file: reading a .npz safely, and the rules a file must follow.

One place for the rules, used by genre_mlp.py (which refuses a bad file) and by
`dataset_builder/make_dataset.py check` (which lists everything wrong with one). It needs
only NumPy, so checking a file never starts Theano.

A lesson data file holds `train` and `test`: numeric arrays of rows of 1200
samples (3 s at 400 Hz), an even number of rows each, since the first half of
each split is classical and the second half rock; no NaN or infinite samples.
"""
import os
import shlex
import sys
import zipfile

import numpy as np

SAMPLE_WIDTH = 1200        # 3 s of audio at 400 Hz
SPLITS = ("train", "test")
# By its absolute path, so that the advice works from any folder.
MAKE_DATASET = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "dataset_builder",
                            "make_dataset.py")


def check_command(path):
    """The command that lists what is wrong with the data file `path`, runnable as printed from here."""
    return " ".join(shlex.quote(part) for part in (sys.executable, MAKE_DATASET, "check", path))


class DataError(Exception):
    """The data cannot be used; the message is one line naming the problem and the fix."""


def read_npz(path, error=DataError, fix="give the lesson's data file (README \"The data\")"):
    """Every array in a .npz file, as a dict; `error` (one line, ending in `fix`) if it is not one."""
    if os.path.isdir(path):
        raise error("%s is a folder, not a file; %s" % (path, fix))
    if not os.path.isfile(path):
        raise error("%s not found; %s" % (path, fix))
    if not zipfile.is_zipfile(path):
        raise error("%s is not a .npz file, or is cut short; %s" % (path, fix))
    try:
        # No pickles: a file must never be able to run code.
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except Exception as problem:
        first_line = (str(problem).splitlines() or [""])[0]
        raise error("%s could not be read as a .npz file (%s); %s"
                    % (path, first_line or type(problem).__name__, fix))


def is_numeric(array):
    # Integers and floats convert to samples; booleans, strings and complex numbers do not.
    return np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)


def problems(arrays):
    """Everything that stops genre_mlp.py from training on these arrays, as short phrases."""
    found = []
    for split in SPLITS:
        array = arrays.get(split)
        if array is None:
            found.append("no `%s` array" % split)
            continue
        if array.ndim != 2 or array.shape[1] != SAMPLE_WIDTH:
            found.append("`%s` is %s, not rows of %d samples (3 s at 400 Hz)"
                         % (split, " x ".join(map(str, array.shape)), SAMPLE_WIDTH))
        if not is_numeric(array):
            found.append("`%s` holds non-numeric values (%s)" % (split, array.dtype))
            continue
        if len(array) == 0:
            found.append("`%s` is empty" % split)
        elif len(array) % 2:
            found.append("`%s` has an odd number of rows (%d), so its halves cannot be the two "
                         "classes" % (split, len(array)))
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        if bad:
            found.append("`%s` holds %d NaN or infinite samples" % (split, bad))
    return found


def load_data_file(path, dtype=np.float32):
    """The `train` and `test` arrays of a lesson data file, checked, in `dtype`."""
    from lesson_helpers.command_line.stopped import stage
    stage.now("while reading the data")
    arrays = read_npz(path)
    found = problems(arrays)
    if found:
        raise DataError("%s cannot be trained on: %s; a lesson data file holds `train` and `test`, "
                        "halves classical then rock (see it with: %s; rebuild it with %s)"
                        % (path, "; ".join(found), check_command(path), shlex.quote(MAKE_DATASET)))
    return arrays["train"].astype(dtype), arrays["test"].astype(dtype)
