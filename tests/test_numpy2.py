"""Theano's own NumPy 2 and Python 3.13 breaks (theano_today/theano_numpy2.py): each mended piece, against NumPy.

Each test fails without its piece, on the Python and NumPy that need it. The
graphs are tiny; FAST_COMPILE runs Theano's Python code and compiles no C, so
only the pieces about C code compile anything.
"""
import io

import numpy as np
import pytest

from theano_today import theano_numpy2

VALUES = np.array([[0.5, -2.0, 3.0], [7.0, 0.25, -1.5]], dtype=np.float32)


@pytest.fixture(scope="module")
def theano(genre_mlp):
    return genre_mlp.theano


def test_numpy_names_theano_calls(theano):
    T = theano.tensor
    x, y, z = T.vectors("x", "y", "z")
    ints = T.ivector("ints")
    angle = T.scalar("angle")
    # mul of three inputs runs Mul's Python code (np.product); exp of ints asks
    # np.sctype2char for a float signature; arcsin's gradient calls np.cast.
    f = theano.function([x, y, z, ints, angle], [T.mul(x, y, z), T.exp(ints), theano.grad(T.arcsin(angle), angle)],
                        mode="FAST_COMPILE")
    product, exp, slope = f(VALUES[0], VALUES[1], VALUES[0], [0, 1, 2], 0.5)
    np.testing.assert_allclose(product, VALUES[0] * VALUES[1] * VALUES[0])
    np.testing.assert_allclose(exp, np.exp([0, 1, 2]), rtol=1e-6)
    np.testing.assert_allclose(slope, 1 / np.sqrt(1 - 0.5 ** 2), rtol=1e-6)
    # NumPy itself, and so the user's own code, keeps NumPy 2's names.
    if theano_numpy2.NUMPY2:
        assert not hasattr(np, "product")


def test_batch_normalization_takes_its_epsilon(theano):
    from theano.tensor.nnet import bn
    T = theano.tensor
    inputs, gamma, beta = T.matrix("inputs"), T.row("gamma"), T.row("beta")
    normalized = bn.batch_normalization_train(inputs, gamma, beta, axes=(0,), epsilon=1e-3)[0]
    f = theano.function([inputs, gamma, beta], normalized, mode="FAST_COMPILE")
    scale, shift = np.float32([[2, 1, 0.5]]), np.float32([[0, 1, -1]])
    expected = (VALUES - VALUES.mean(0)) / np.sqrt(VALUES.var(0) + 1e-3) * scale + shift
    np.testing.assert_allclose(f(VALUES, scale, shift), expected, rtol=1e-5, atol=1e-6)


def test_complex_graphs_compile(theano):
    T = theano.tensor
    single, double = T.vector(dtype="complex64"), T.vector(dtype="complex128")
    f = theano.function([single, double], [single * single + 1, abs(double), double / (double + 1), -single])
    a, b = np.array([1 + 2j, -3j], np.complex64), np.array([3 + 4j, 0.5 - 1j])
    squared, magnitude, ratio, negated = f(a, b)
    assert squared.dtype == np.complex64 and negated.dtype == np.complex64
    np.testing.assert_allclose(squared, a * a + 1, rtol=1e-6)
    np.testing.assert_allclose(magnitude, np.abs(b))
    np.testing.assert_allclose(ratio, b / (b + 1))
    np.testing.assert_array_equal(negated, -a)


def test_increments_at_repeated_indices(theano):
    T = theano.tensor
    x, y, idx = T.vector("x"), T.vector("y"), T.lvector("idx")
    f = theano.function([x, y, idx], [T.inc_subtensor(x[idx], y), T.set_subtensor(x[idx], y)])
    start, more, where = np.zeros(4, np.float32), np.float32([1, 2, 3]), np.array([0, 2, 0])
    incremented, assigned = f(start, more, where)
    expected = start.copy()
    np.add.at(expected, where, more)
    np.testing.assert_array_equal(incremented, expected)
    expected = start.copy()
    expected[where] = more
    np.testing.assert_array_equal(assigned, expected)


def test_out_of_range_int_is_a_type_error(theano):
    T = theano.tensor
    small = T.scalar("small", dtype="int8")
    strict = theano.function([small], small * 2, mode="FAST_COMPILE")
    limits = np.iinfo(np.int8)
    with pytest.raises(TypeError, match="%d to %d" % (limits.min, limits.max)):
        strict(300)
    with pytest.raises(TypeError, match="-32768 to 32767"):
        T.vector(dtype="int16").type.filter([2 ** 20])


@pytest.mark.parametrize("dtype, value, wrapped", [
    # What Theano 1.0.5 gave on NumPy 1.23.5 (Python 3.11), worked out as two's complement by hand:
    ("int16", 2 ** 20, 0), ("int16", 70000, 70000 - 65536), ("int16", -2 ** 15 - 1, 32767),
    ("int8", 300, 300 - 256), ("int8", -129, 127), ("uint8", -1, 255), ("int32", 2 ** 40, 0)])
def test_allowed_downcast_wraps_as_numpy_1_did(theano, dtype, value, wrapped):
    T = theano.tensor
    x = T.vector(dtype=dtype)
    f = theano.function([x], x, mode="FAST_COMPILE", allow_input_downcast=True)
    out = f([value])
    assert out.dtype == dtype and out.tolist() == [wrapped]
    filtered = x.type.filter([value], allow_downcast=True)
    assert filtered.dtype == dtype and filtered.tolist() == [wrapped]
    small = T.scalar(dtype="int8")
    assert theano.function([small], small * 2, mode="FAST_COMPILE", allow_input_downcast=True)(100) \
        == np.int8(100) * np.int8(2)  # in range: computed in int8, as NumPy does


def test_reductions_over_all_axes(theano):
    T = theano.tensor
    matrix = T.matrix("matrix")
    maximum, argmax = T.max_and_argmax(matrix, axis=None)
    f = theano.function([matrix], [maximum, argmax, T.extra_ops.cumsum(matrix)])
    got_max, got_argmax, got_cumsum = f(VALUES)
    assert got_max == VALUES.max() and got_argmax == np.argmax(VALUES)
    np.testing.assert_allclose(got_cumsum, np.cumsum(VALUES))


def test_modules_that_import_theanos_gpu_code_on_the_cpu(theano):
    # may_share_memory imports theano.gpuarray, as theano.scan and pkl_utils do, even on
    # the CPU: on NumPy 2.4+ only with theano_setup.removed_modules' numpy.linalg.linalg.
    from theano.misc.may_share_memory import may_share_memory
    whole = np.arange(6.0)
    for other in (whole[2:], whole.copy()):
        assert may_share_memory(whole, other) == np.may_share_memory(whole, other)


def test_scan(theano):
    T = theano.tensor
    x = T.vector("x")
    running, _ = theano.scan(lambda value, total: total * value, sequences=x,
                             outputs_info=T.constant(np.float32(1)))
    f = theano.function([x], running)
    np.testing.assert_allclose(f(VALUES[0]), np.cumprod(VALUES[0]))


def test_pkl_utils_round_trip(theano):
    from theano.misc import pkl_utils
    weights = theano.shared(VALUES, name="weights")
    stream = io.BytesIO()
    pkl_utils.dump({"weights": weights, "step": 3}, stream)
    stream.seek(0)
    loaded = pkl_utils.load(stream)
    assert loaded["step"] == 3
    np.testing.assert_array_equal(loaded["weights"].get_value(), VALUES)
