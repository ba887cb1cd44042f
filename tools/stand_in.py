"""A generated data set in the lesson's format, for when the lesson's file is absent.

genre_mlp.py trains on it, and says so, when no data file is found; it is made
in memory from the seed in about a second and never written to disk.
"""
import numpy as np

from tools.data_file import SAMPLE_WIDTH


def make_stand_in(seed, num_train=8000, num_test=2000, dtype=np.float32):
    """A generated data set in the lesson's format, for when its file is absent.

    Classical: sustained chords (a root in 55-110 Hz with its third and fifth,
    each with overtones) under a slow swell, quiet. Rock: a kick drum on every
    beat (100-160 bpm) and a plucked bass line on root and fifth, louder. Keys,
    tempi, phases, loudness and background noise are random, and 3% of the
    excerpts sit in the wrong half, like the lesson's mislabelled videos.
    """
    rng = np.random.RandomState(seed)
    t = (np.arange(SAMPLE_WIDTH) / 400.0).astype(np.float32)

    def uniform(low, high, shape):
        return rng.uniform(low, high, shape).astype(np.float32)

    def tone(freq, partials, phase=0.0):
        # Overtones at or above 200 Hz are left out: a 400 Hz recording cannot hold them.
        return sum(weight * (k * freq < 195) * np.sin(2 * np.pi * k * freq * t + k * phase)
                   for k, weight in partials)

    def classical(n):
        root = 55 * 2 ** uniform(0, 1, (n, 1))
        third = 2 ** (rng.choice([3, 4], (n, 1)) / 12.0).astype(np.float32)
        chord = sum(tone(root * ratio, [(1, 1.0), (2, 0.4), (3, 0.2)], uniform(0, 6.3, (n, 1)))
                    for ratio in (1.0, third, 2 ** (7 / 12.0)))
        swell = 0.6 + 0.4 * np.sin(2 * np.pi * uniform(0.15, 0.6, (n, 1)) * t + uniform(0, 6.3, (n, 1)))
        return chord * swell, 0.03

    def rock(n):
        beat = 60 / uniform(100, 160, (n, 1))
        position = t + uniform(0, 1, (n, 1)) * beat
        since_beat, beat_index = position % beat, (position // beat).astype(int)
        # A fast decay and a falling pitch (75 -> 45 Hz) make a kick drum.
        kick = np.exp(-since_beat / 0.07) * np.sin(
            2 * np.pi * (45 * since_beat + 0.9 * (1 - np.exp(-since_beat / 0.03))))
        on_fifth = np.take_along_axis(rng.uniform(0, 1, (n, 10)) < 0.4, beat_index, axis=1)
        bass_freq = 41.2 * 2 ** uniform(0, 1, (n, 1)) * np.where(on_fifth, 2 ** (7 / 12.0), 1.0)
        bass = np.exp(-since_beat / 0.25) * tone(bass_freq, [(1, 1.0), (2, 0.5), (3, 0.33), (4, 0.25)])
        return kick + 0.5 * bass, 0.1

    def split(num_rows):
        flipped = rng.uniform(0, 1, num_rows) < 0.03
        is_rock = (np.arange(num_rows) >= num_rows // 2) != flipped
        excerpts = np.empty((num_rows, SAMPLE_WIDTH), dtype=dtype)
        for first in range(0, num_rows, 1000):  # a block at a time keeps the temporaries small
            block = np.zeros(num_rows, bool)
            block[first:first + 1000] = True
            for make, rows in ((classical, block & ~is_rock), (rock, block & is_rock)):
                signal, typical_loudness = make(rows.sum())
                # Loudness (RMS) varies a lot within each class; classical is quieter on average.
                loudness = typical_loudness * rng.lognormal(0, 0.6, (len(signal), 1))
                signal *= loudness / np.sqrt(np.mean(signal ** 2, axis=1, keepdims=True))
                signal += rng.standard_normal(signal.shape).astype(np.float32) * uniform(0.002, 0.02, (len(signal), 1))
                excerpts[rows] = np.clip(signal, -1, 1)
        return excerpts

    return split(num_train), split(num_test)
