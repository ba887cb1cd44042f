"""Python literals in Theano graphs get the dtypes Theano 1.0.5 gave them on NumPy 1 (theano_numpy2.literals_as_numpy_1).

Expected values are what the home stack (Python 3.11, NumPy 1.23.5) printed for the
same lines, and agree with the rule worked out by hand: an int literal is the smallest
of int8, int16, int32, int64 that holds it, uint64 up to 2**64 - 1, and an error beyond.
Typing needs no compilation; one small function checks the reshape runs.
"""
import numpy as np
import pytest


@pytest.fixture(scope="module")
def theano(genre_mlp):
    return genre_mlp.theano


BOUNDARIES = [(127, "int8"), (128, "int16"), (-128, "int8"), (-129, "int16"),
              (32767, "int16"), (32768, "int32"), (-32768, "int16"), (-32769, "int32"),
              (2 ** 31 - 1, "int32"), (2 ** 31, "int64"), (-2 ** 31, "int32"), (-2 ** 31 - 1, "int64"),
              (2 ** 63 - 1, "int64"), (2 ** 63, "uint64"), (-2 ** 63, "int64"), (2 ** 64 - 1, "uint64")]


@pytest.mark.parametrize("value, dtype", BOUNDARIES)
def test_int_literal_on_each_side_of_each_boundary(theano, value, dtype):
    constant = theano.tensor.constant(value)
    assert constant.dtype == dtype
    assert int(constant.data) == value


@pytest.mark.parametrize("value", [-2 ** 63 - 1, 2 ** 64])
def test_int_literal_beyond_64_bits_is_refused(theano, value):
    with pytest.raises(OverflowError):
        theano.tensor.constant(value)


def test_the_issues_six_expressions(theano):
    T = theano.tensor
    ints, floats = T.ivector(), T.fmatrix()
    assert [(ints + 100).dtype, (ints + 300).dtype, (ints * 1000).dtype] == ["int32"] * 3
    assert (floats.sum() * 1000).dtype == "float32"
    assert T.arange(300).dtype == "int64"
    shaped = floats.reshape((floats.shape[0], 1, 1, 1200))
    assert (shaped.dtype, shaped.broadcastable) == ("float32", (False, True, True, False))
    data = np.arange(2 * 1200, dtype=np.float32).reshape(2, 1200)
    out = theano.function([floats], shaped, mode="FAST_COMPILE")(data)
    assert out.shape == (2, 1, 1, 1200) and (out.ravel() == data.ravel()).all()


@pytest.mark.parametrize("value, float32_floatx, float64_floatx", [
    # floatX=float32 (the lesson's): every float literal is float32 (Theano's deliberate downcast).
    # floatX=float64: float32 only where it holds the value exactly, compared in double.
    (0.5, "float32", "float32"), (0.1, "float32", "float64"), (3.4e38, "float32", "float64"),
    (3.5e38, "float32", "float64"), (1e300, "float32", "float64"), (-1e300, "float32", "float64"),
    (1e-50, "float32", "float64")])
def test_float_literals_by_floatx(theano, value, float32_floatx, float64_floatx):
    T = theano.tensor
    assert theano.config.floatX == "float32"
    assert T.constant(value).dtype == float32_floatx
    with theano.change_flags(floatX="float64"):
        constant = T.constant(value)
        assert constant.dtype == float64_floatx
        assert (T.fvector() + value).dtype == float64_floatx
        if float64_floatx == "float64":
            assert float(constant.data) == value


def test_numpy_scalars_keep_their_dtype(theano):
    T = theano.tensor
    for dtype in ("int8", "int16", "int32", "int64", "uint8", "float32", "float64"):
        assert T.constant(np.dtype(dtype).type(3)).dtype == dtype
    assert (T.ivector() + np.int64(300)).dtype == "int64"
    assert (T.ivector() + np.int16(300)).dtype == "int32"


def test_python_code_wraps_casts_and_increments(theano):
    """Cast and inc_subtensor's Python code: NumPy 1's wrap (home's values), and its refusals."""
    T = theano.tensor
    mode = theano.compile.Mode(linker="py", optimizer="fast_compile")
    ints, small = T.ivector(), T.vector(dtype="uint8")
    f = theano.function([ints, small], [T.cast(ints, "uint8"), T.cast(ints * 300, "int8"),
                                        T.cast(T.cast(ints, "float32"), "uint8"),
                                        T.inc_subtensor(small[1:], 2 ** 31 + 5)], mode=mode)
    unsigned, wrapped, from_float, incremented = f([3, -1, 100], [3, 1, 250])
    assert unsigned.dtype == "uint8" and unsigned.tolist() == [3, 255, 100]
    assert wrapped.dtype == "int8" and wrapped.tolist() == [-124, -44, 48]  # 900, -300, 30000 mod 256
    assert from_float.tolist() == [3, 255, 100]
    assert incremented.dtype == "uint8" and incremented.tolist() == [3, 6, 255]  # 250 + 5
    # NumPy 1 refused a negative increment of a uint8 (int16 is not of its kind): so does this.
    refused = theano.function([small], T.inc_subtensor(small[1:], -129), mode=mode)
    with pytest.raises(TypeError):
        refused(np.uint8([3, 1, 250]))
