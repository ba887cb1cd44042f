"""`genre_mlp.py --predict`: the verdict of a trained network on audio files.

Each file is prepared as the data set was (lesson_helpers/sound/audio.py): mono, 400 Hz, and
its middle 3 s decide. A file of two or more 3-s windows also gets a vote over
all of them; a tied vote goes the way the middle 3 s went.
"""
import sys

import numpy as np

from lesson_helpers.command_line.stopped import stage
from lesson_helpers.sound import audio


def probabilities_of_rock(model, excerpts):
    excerpts = np.asarray(excerpts, dtype=model.params[0].dtype)
    return model.evaluate(excerpts, np.zeros(len(excerpts), excerpts.dtype))[0]


def vote(window_says_rock, middle_says_rock):
    """'rock' or 'classical' by majority of the windows; a tie is decided by the middle 3 s."""
    rock, total = int(np.sum(window_says_rock)), len(window_says_rock)
    if 2 * rock == total:
        return "rock" if middle_says_rock else "classical"
    return "rock" if 2 * rock > total else "classical"


def classify_files(model, paths, log=print):
    """Print the verdict for each audio file; returns how many could not be classified."""
    failures = 0
    stage.now("at file 0 of %d (none opened yet)" % len(paths))
    for number, path in enumerate(paths, start=1):
        stage.now("at file %d of %d (%s)" % (number, len(paths), path))
        try:
            signal = audio.load_mono_400hz(path)
            windows = audio.windows(signal)  # every 3 s of the file
        except audio.AudioError as error:
            message = str(error) if str(error).startswith(str(path)) else "%s: %s" % (path, error)
            print("error: %s" % message, file=sys.stderr)
            failures += 1
            continue
        rock = float(probabilities_of_rock(model, [audio.middle_excerpt(signal)])[0])
        line = "%s: %s (probability of rock %.2f)" % (path, "rock" if rock > 0.5 else "classical", rock)
        if len(windows) > 1:
            says_rock = probabilities_of_rock(model, windows) > 0.5
            tie = ", a tie: the middle 3 s decide" if 2 * says_rock.sum() == len(windows) else ""
            line += "; vote over %d windows of 3 s: %s (%d say rock%s)" % (
                len(windows), vote(says_rock, rock > 0.5), says_rock.sum(), tie)
        log(line)
    return failures


class PredictionsDone(Exception):
    """Raised in a notebook once --predict has classified its files: the run stops there, and the
    notebook shows this one line in place of a traceback."""

    def _render_traceback_(self):  # IPython's hook for what an exception shows
        return ["--predict classified the files; the lesson's other cells do not run."]


def predict_and_stop(model_class, model_and_files, learning_rate):
    """--predict MODEL.npz AUDIO...: the model in the file, as `model_class` builds it, classifies the
    files, and the run ends there: the script's exit status 0, or 1 if a file could not be classified."""
    from lesson_helpers import route
    from lesson_helpers.command_line.model_file import model_from_saved, read_model_file
    model = model_from_saved(model_class, read_model_file(model_and_files[0]), learning_rate)
    failures = classify_files(model, model_and_files[1:])
    if not route.as_script():  # a notebook (an import never gets here): no exit from its kernel
        raise PredictionsDone()
    sys.exit(1 if failures else 0)
