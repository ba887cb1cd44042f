"""A generated data set in the lesson's format, for when the lesson's file is absent.

genre_mlp.py trains on it, and says so, when no data file is found; it is made
in memory from the seed in about 0.1 s and never written to disk.

Most of the cost of such NumPy code is passes over memory, not arithmetic, so it
is written for few passes: float32 throughout, in place (+=, out=) where it can,
64 rows at a time so that a block's arrays stay in the CPU's cache, and each
note's overtones from one sin and one cos.
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from lesson_helpers.command_line.stopped import stage
from lesson_helpers.data.data_file import SAMPLE_WIDTH

BLOCK_ROWS = 64  # 64 x 1200 float32 is 300 kB: a block's few arrays stay in the cache
SECONDS = (np.arange(SAMPLE_WIDTH) / 400.0).astype(np.float32)  # each sample's time
TWO_PI_T = (2 * np.pi * SECONDS).astype(np.float32)  # times a frequency in Hz: the angle of a sine
FIFTH = 2 ** (7 / 12.0)
BASS_OVERTONES = [1.0, 0.5, 0.33, 0.25]


def make_stand_in(seed, num_train=8000, num_test=2000, dtype=np.float32):
    """A generated data set in the lesson's format, for when its file is absent.

    Classical: sustained chords (a root in 55-110 Hz with its third and fifth,
    each with overtones) under a slow swell, quiet. Rock: a kick drum on every
    beat (100-160 bpm) and a plucked bass line on root and fifth, louder. Keys,
    tempi, phases, loudness and background noise are random, and 3% of the
    excerpts sit in the wrong half, like the lesson's mislabelled videos.
    """
    stage.now("while generating the stand-in data")
    # SFC64 is NumPy's fastest bit generator, and as random as this needs.
    rng = np.random.Generator(np.random.SFC64(seed))
    return split(rng, num_train, dtype), split(rng, num_test, dtype)


def split(rng, num_rows, dtype):
    """num_rows excerpts: classical in the first half, rock in the second, but for 3%."""
    flipped = rng.random(num_rows) < 0.03
    is_rock = (np.arange(num_rows) >= num_rows // 2) != flipped
    excerpts = np.empty((num_rows, SAMPLE_WIDTH), dtype)
    for sound, rows in ((Classical, np.flatnonzero(~is_rock)), (Rock, np.flatnonzero(is_rock))):
        make = sound(rng, len(rows))  # every excerpt's key, tempo and phases, drawn at once
        # Loudness (RMS) varies a lot within each class; classical is quieter on average.
        loudness = sound.typical_loudness * rng.lognormal(0, 0.6, len(rows)).astype(np.float32)
        # White noise of 0.002-0.02 RMS, uniform rather than Gaussian: as good a hiss, and cheap to
        # draw, as 64 random bits make four int16, each uniform in [-32768, 32768) (RMS 32768 / sqrt 3).
        noise_scale = rng.uniform(0.002, 0.02, (len(rows), 1)).astype(np.float32) * np.float32(3 ** 0.5 / 32768)
        noise = rng.bit_generator.random_raw(len(rows) * SAMPLE_WIDTH // 4).view(np.int16)
        noise = noise.reshape(len(rows), SAMPLE_WIDTH)

        # Every random number is drawn by now, so the blocks can be made in any order: two at
        # a time, on two cores (NumPy lets go of the GIL in its loops), with the same result.
        def make_block(first):
            part = slice(first, first + BLOCK_ROWS)
            signal = make(part)
            scale = loudness[part] / np.sqrt(np.einsum("ij,ij->i", signal, signal) / SAMPLE_WIDTH)
            signal *= scale[:, None]
            signal += noise[part] * noise_scale[part]
            excerpts[rows[part]] = np.clip(signal, -1, 1, out=signal)
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(make_block, range(0, len(rows), BLOCK_ROWS)))
    return excerpts


class Classical:
    """Sustained chords under a slow swell."""
    typical_loudness = 0.03

    def __init__(self, rng, n):
        root = 55 * 2 ** rng.random(n)
        third = 2 ** (rng.choice([3, 4], n) / 12.0)  # minor or major
        self.freq = (root[:, None] * np.stack([np.ones(n), third, np.full(n, FIFTH)], axis=1)).astype(np.float32)
        self.phase = rng.uniform(0, 6.3, (n, 3)).astype(np.float32)
        # Overtones 2 and 3 (weights 0.4, 0.2), left out at or above 195 Hz: 400 Hz cannot hold them.
        self.tone = overtone_polynomials(self.freq, [1.0, 0.4, 0.2])
        self.swell_freq = rng.uniform(0.15, 0.6, (n, 1)).astype(np.float32)
        self.swell_phase = rng.uniform(0, 6.3, (n, 1)).astype(np.float32)

    def __call__(self, part):
        notes = self.freq[part, :, None] * TWO_PI_T  # (rows, 3 notes, samples)
        notes += self.phase[part, :, None]
        chord = play(notes, self.tone[:, part, :, None]).sum(axis=1)
        swell = np.multiply(self.swell_freq[part], TWO_PI_T)
        swell += self.swell_phase[part]
        np.sin(swell, out=swell)
        swell *= 0.4
        swell += 0.6
        chord *= swell
        return chord


class Rock:
    """A kick drum on every beat and a plucked bass line on the root and the fifth."""
    typical_loudness = 0.1

    def __init__(self, rng, n):
        self.beat = (60 / rng.uniform(100, 160, (n, 1))).astype(np.float32)  # seconds
        self.start = rng.random((n, 1)).astype(np.float32)  # where in a beat the excerpt starts
        # The bass plays the fifth on a beat with probability 0.4, else the root. A 3-s excerpt spans
        # at most 10 beats; bit j of fifths is beat j's note, as a shift finds it faster than a lookup.
        self.fifths = ((rng.random((n, 10)) < 0.4) << np.arange(10)).sum(axis=1, dtype=np.int32)[:, None]
        root = (41.2 * 2 ** rng.random((n, 1))).astype(np.float32)
        # Each sample's frequency and overtones are the root's plus, on the fifth, a step (below).
        self.freq, self.freq_step = root, root * np.float32(FIFTH - 1)
        self.tone = overtone_polynomials(root, BASS_OVERTONES)
        self.tone_step = overtone_polynomials(root * np.float32(FIFTH), BASS_OVERTONES) - self.tone

    def __call__(self, part):
        beat = self.beat[part]
        position = np.multiply(SECONDS, 1 / beat)  # in beats
        position += self.start[part]
        beat_index = np.floor(position)
        since_beat = position - beat_index
        since_beat *= beat  # seconds since the last beat
        # A fast decay and a falling pitch (75 -> 45 Hz) make a kick drum:
        # sin(2 pi (45 s + 0.9 (1 - exp(-s / 0.03)))) exp(-s / 0.07), s being the time since the beat.
        kick = np.exp(since_beat * (-1 / 0.03))
        kick *= -2 * np.pi * 0.9
        kick += since_beat * (2 * np.pi * 45)
        kick += 2 * np.pi * 0.9
        np.sin(kick, out=kick)
        kick *= np.exp(since_beat * (-1 / 0.07))
        # The bass: each sample takes the note of its beat (0 root, 1 fifth), and that note's overtones.
        fifth = np.right_shift(self.fifths[part], beat_index.astype(np.int32)) & 1
        fifth = fifth.astype(np.float32)
        # root + fifth * step picks per sample, three times faster than np.where would.
        angle = pick(fifth, self.freq[part], self.freq_step[part])
        angle *= TWO_PI_T
        bass = play(angle, [pick(fifth, c[part], step[part]) for c, step in zip(self.tone, self.tone_step)])
        bass *= np.exp(since_beat * (-1 / 0.25))
        bass *= 0.5
        bass += kick
        return bass


def overtone_polynomials(freq, weights):
    """P's coefficients, lowest power first, such that sum_k weights[k] sin((k+1) x) = sin(x) P(cos x).

    sin((k+1) x) = sin(x) U_k(cos x), U_k being the Chebyshev polynomials of the second
    kind: so one sin and one cos of each note give all its overtones. Overtones at or
    above 195 Hz are left out: a recording at 400 Hz cannot hold them.
    """
    polynomial = np.polynomial.polynomial
    u = [np.array([1.0]), np.array([0.0, 2.0])]  # U_0 = 1, U_1 = 2c
    while len(u) < len(weights):
        u.append(polynomial.polysub(2 * polynomial.polymulx(u[-1]), u[-2]))
    coefficients = np.zeros((len(weights),) + np.shape(freq), np.float32)
    for k, weight in enumerate(weights):
        audible = weight * (freq * (k + 1) < 195)
        for power, c in enumerate(u[k]):
            if c:
                coefficients[power] += c * audible
    return coefficients


def pick(fifth, root_value, step):
    """root_value where fifth is 0, root_value + step where it is 1 (both one value per row)."""
    value = fifth * step
    value += root_value
    return value


def play(angle, coefficients):
    """sin(angle) * P(cos(angle)), in place in angle: the sum of a note's overtones."""
    cos = np.cos(angle)
    np.sin(angle, out=angle)
    total = coefficients[-1] * cos  # Horner's rule, from the highest power down
    for c in coefficients[-2:0:-1]:
        total += c
        total *= cos
    total += coefficients[0]
    total *= angle
    return total
