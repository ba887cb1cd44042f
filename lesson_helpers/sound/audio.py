"""Audio preparation: the one place where a recording becomes the lesson's input.

The lesson's excerpts are 3 s of mono audio at 400 Hz (1200 samples). The
amplitude is kept as decoded, full scale 1.0, and never normalised: in the
lesson's data classical excerpts are much quieter than rock, and the model may
use that. Used by dataset_builder/make_dataset.py and by `genre_mlp.py --predict`.

    samples, rate = load_audio("song.flac")         # (frames, channels) float32
    x = to_mono_400hz(samples, rate)                # 1-D float32 at 400 Hz
    excerpt = middle_excerpt(x)                     # the middle 1200 samples
    excerpt = prepare_file("song.flac")             # all of the above, checked
"""
import math
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import scipy.signal
import soundfile

RATE = 400        # samples per second of the lesson's excerpts
WIDTH = 1200      # samples per excerpt: 3 s at RATE
SILENT_PEAK = 1e-6  # below this peak a signal is digital silence, not music


class AudioError(Exception):
    """A recording that cannot become an excerpt; the message names the problem and the fix."""


def one_line(text):
    return " ".join(str(text).split())


def without_path(reason, path):
    """A decoder's message without the file's name: the line that shows it names the file already."""
    for prefix in ("Error opening %r: " % str(path), "%s: " % path):  # soundfile's, ffmpeg's
        if reason.startswith(prefix):
            return reason[len(prefix):]
    return reason


def load_audio(path, offset=0.0, duration=None):
    """Decode `path` to float32 samples shaped (frames, channels) and its sample rate.

    soundfile reads WAV, FLAC, OGG and MP3; anything else (YouTube's WebM and
    M4A) goes through the ffmpeg command. `offset` and `duration` (seconds) pick
    a part, so a long video's segment is decoded without decoding the rest.
    """
    path = Path(path)
    if path.is_dir():
        raise AudioError(f"{path}: it is a folder; give the audio files in it (WAV, FLAC, OGG, MP3)")
    if not path.is_file():
        raise AudioError(f"{path}: no such file; check the path")
    try:
        with soundfile.SoundFile(str(path)) as sound:
            rate = sound.samplerate
            sound.seek(min(round(offset * rate), sound.frames))
            frames = -1 if duration is None else round(duration * rate)
            return sound.read(frames, dtype="float32", always_2d=True), rate
    except RuntimeError as error:  # soundfile's errors: unknown format, damaged header
        soundfile_problem = without_path(one_line(error), path)

    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise AudioError(f"{path}: soundfile cannot read it ({soundfile_problem}); "
                         "to decode other formats install ffmpeg (apt-get install ffmpeg)")
    with tempfile.TemporaryDirectory() as folder:
        decoded = Path(folder) / "decoded.wav"
        command = [ffmpeg, "-nostdin", "-v", "error", "-ss", str(offset)]
        command += [] if duration is None else ["-t", str(duration)]
        # 32-bit float WAV at the native rate and channel count: no rescaling, no resampling yet
        command += ["-i", str(path), "-vn", "-c:a", "pcm_f32le", str(decoded)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or not decoded.is_file():
            reason = (result.stderr.strip().splitlines() or ["no audio stream"])[-1]
            raise AudioError(f"{path}: cannot decode it ({without_path(one_line(reason), path)}); "
                             "check that it is a complete audio file")
        samples, rate = soundfile.read(str(decoded), dtype="float32", always_2d=True)
    return samples, rate


def to_mono_400hz(samples, rate):
    """Mix to mono (mean over channels) and resample to RATE; returns 1-D float32."""
    samples = np.asarray(samples, dtype=np.float64)
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    if mono.size == 0:
        return mono.astype(np.float32)
    common = math.gcd(RATE, int(rate))
    # resample_poly low-passes below 200 Hz before decimating, so higher tones
    # vanish instead of folding back into the bass the model listens to
    return scipy.signal.resample_poly(mono, RATE // common, int(rate) // common).astype(np.float32)


def too_short(x):
    seconds = math.floor(100 * len(x) / RATE) / 100  # rounded down: 1199 samples must not read "3.00 s"
    return AudioError(f"it lasts {seconds:.2f} s, shorter than one excerpt; "
                      f"use a recording of at least {WIDTH / RATE:g} s")


def middle_excerpt(x):
    """The middle WIDTH samples of a 400 Hz signal (the lesson took each segment's middle 3 s)."""
    if len(x) < WIDTH:
        raise too_short(x)
    start = (len(x) - WIDTH) // 2
    return np.asarray(x[start:start + WIDTH], dtype=np.float32)


def windows(x):
    """All non-overlapping consecutive WIDTH-sample windows, shape (count, WIDTH), for a vote.

    The samples left over are split between both ends, so one window is the middle excerpt.
    """
    count = len(x) // WIDTH
    if count == 0:
        raise too_short(x)
    start = (len(x) - count * WIDTH) // 2
    return np.asarray(x[start:start + count * WIDTH], dtype=np.float32).reshape(count, WIDTH)


def load_mono_400hz(path, offset=0.0, duration=None):
    """Decode, mix and resample a file (or the part `offset`, `duration` in seconds), checked for sound."""
    x = to_mono_400hz(*load_audio(path, offset, duration))
    if not np.all(np.isfinite(x)):
        raise AudioError(f"{path}: it contains NaN or infinite samples; export the recording again")
    if x.size == 0 or np.max(np.abs(x)) < SILENT_PEAK:
        raise AudioError(f"{path}: it is silent; choose a part of the recording that has sound")
    return x


def prepare_file(path):
    """The middle 3-s excerpt of a file at 400 Hz, float32 shape (WIDTH,); AudioError if unusable."""
    x = load_mono_400hz(path)
    try:
        return middle_excerpt(x)
    except AudioError as error:
        raise AudioError(f"{path}: {error}") from None
