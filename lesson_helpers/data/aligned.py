"""Weights whose memory starts on a 64-byte boundary, for the BLAS.

NumPy promises 16-byte alignment only, and where a fresh array lands differs
from run to run. The BLAS's AVX-512 kernels read and write whole 64-byte cache
lines, so a weight matrix that straddles them makes every update slower: on
this project's 2-core AMD EPYC, 283 against 258 us per update with the lesson's
W1 misaligned, in a random half of the runs.
"""
import numpy as np

BOUNDARY = 64  # bytes: a cache line, and one AVX-512 register


def aligned(values, boundary=BOUNDARY):
    """A copy of `values` (same dtype and shape) whose data starts at a multiple of `boundary`."""
    values = np.asarray(values)
    buffer = np.empty(values.nbytes + boundary, dtype=np.uint8)
    start = -buffer.ctypes.data % boundary
    copy = buffer[start:start + values.nbytes].view(values.dtype).reshape(values.shape)
    copy[...] = values
    return copy
