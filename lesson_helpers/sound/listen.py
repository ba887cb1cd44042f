"""Excerpts made audible: a browser will not play 400 Hz audio, so the notebook's players
get the excerpt resampled to 8000 Hz (scipy's polyphase filter; nothing above 200 Hz is added)."""
import numpy as np

LESSON_RATE = 400
PLAY_RATE = 8000  # a rate every browser plays: 20 times the lesson's


def playable(excerpt, rate=PLAY_RATE):
    """The excerpt at `rate` Hz, as float64 samples of the same 3 s."""
    from scipy.signal import resample_poly
    if rate % LESSON_RATE:
        raise ValueError("rate must be a multiple of %d Hz, not %r" % (LESSON_RATE, rate))
    return resample_poly(np.asarray(excerpt, dtype=np.float64), rate // LESSON_RATE, 1)


def player(excerpt, rate=PLAY_RATE):
    """An IPython audio player for the excerpt (in a notebook kernel, IPython is there)."""
    from IPython.display import Audio
    return Audio(playable(excerpt, rate), rate=rate)


def play_mistakes(excerpts, targets, probabilities, per_kind=3):
    """The surest mistakes of each kind, as the mistakes picture shows them, each with its
    player: a line naming it, then the player (in a notebook kernel, IPython is there)."""
    from IPython.display import display
    from lesson_helpers.drawing.pictures import confident_mistakes
    for name, count, rows in confident_mistakes(targets, probabilities, per_kind):
        print("%s: %d mistake%s%s" % (name, count, "" if count == 1 else "s", ", the surest first" if rows.size else ""))
        for row in rows:
            print("  test excerpt %d, probability of rock %.3f" % (row, probabilities[row]))
            display(player(excerpts[row]))


FOLDER = "lesson_files"  # beside genre_mlp.py: the audio files (and the graph's picture) the notebook writes


def write_excerpt(excerpt, name, folder):
    """The excerpt as an 8000-Hz WAV file (float samples on the file's own scale, unclipped) in
    `folder`/lesson_files; its path, relative to `folder` (needs soundfile)."""
    import os
    import soundfile
    os.makedirs(os.path.join(folder, FOLDER), exist_ok=True)
    path = os.path.join(FOLDER, name)
    soundfile.write(os.path.join(folder, path), playable(excerpt), PLAY_RATE, subtype="FLOAT")
    return path
