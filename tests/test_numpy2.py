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


# What NumPy 1.23.5 (Theano's home stack) answered, read there: np.sctype2char(name) and np.cast[dtype](value).
NUMPY1_LETTERS = {"bool": "?", "int8": "b", "int16": "h", "int32": "i", "int64": "l", "uint8": "B", "uint16": "H",
                  "uint32": "I", "uint64": "L", "float16": "e", "float32": "f", "float64": "d", "complex64": "F",
                  "complex128": "D"}
NUMPY1_CASTS = [("int8", 2.7, 2), ("int8", -1.5, -1), ("int8", 300, 44), ("uint8", -1, 255),
                ("float32", 0.1, float(np.float32(0.1))), ("float16", 1, 1.0), ("float64", [1, 2], [1.0, 2.0]),
                ("int64", True, 1), ("bool", 2, True), ("complex64", 1.5, 1.5 + 0j)]


def test_cast_stand_in_converts_value_and_dtype(theano):
    from theano.scalar import basic as scalar_basic
    from theano.tensor.nnet import bn
    for cast in (scalar_basic.np.cast, bn.np.cast):
        for dtype, value, expected in NUMPY1_CASTS:
            # Theano indexes it with a dtype name, and with its own types (x.type in the scalar gradients).
            for key in (dtype, np.dtype(dtype), theano.scalar.Scalar(dtype)):
                got = cast[key](value)
                assert isinstance(got, np.ndarray) and got.dtype == dtype, (key, value, got)
                assert got.tolist() == expected, (key, value, got)
    # The gradients that call it have the dtypes Theano gave them on NumPy 1.23.5: a constant
    # of another dtype would upcast them (float16's mix is Theano's own, the same there).
    T = theano.tensor
    functions = (T.exp2, T.arcsin, T.arccos, T.arctan, T.arccosh, T.arcsinh, T.arctanh)
    home = {"float16": "float16 float32 float32 float32 float16 float16 float32".split(),
            "float32": ["float32"] * 7, "float64": ["float64"] * 7}
    for dtype, expected in home.items():
        x = T.scalar(dtype=dtype)
        assert [theano.grad(function(x), x).dtype for function in functions] == expected, dtype


def test_sctype2char_answers_numpy_1s_letters(theano):
    from theano.tensor import elemwise
    for dtype, letter in NUMPY1_LETTERS.items():
        assert elemwise.np.sctype2char(dtype) == letter, dtype
        assert elemwise.np.sctype2char(getattr(np, dtype if dtype != "bool" else "bool_")) == letter, dtype
    # Elemwise builds the ufunc's signature from it for a float op on integer inputs.
    T = theano.tensor
    inputs = [T.vector(dtype=dtype) for dtype in ("int8", "uint16", "int32", "int64")]
    f = theano.function(inputs, [T.exp(x) for x in inputs], mode="FAST_COMPILE")
    signatures = sorted(node.tag.sig for node in f.maker.fgraph.toposort() if hasattr(node.tag, "sig"))
    assert signatures == ["d->d", "d->d", "f->f", "f->f"]
    for got, dtype in zip(f(*[[0, 1, 2]] * 4), ("float32", "float32", "float64", "float64")):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, np.exp([0, 1, 2]), rtol=1e-6)


def test_python_elemwise_wraps_ints_as_numpy_1_did(theano):
    # mul of three inputs has no ufunc: Elemwise's Python code runs np.frompyfunc and converts
    # its object array. NumPy 1.23.5 gave these, two's complement worked out by hand.
    T = theano.tensor
    signed, unsigned, half = T.vector(dtype="int8"), T.vector(dtype="uint8"), T.vector(dtype="float16")
    f = theano.function([signed, unsigned, half], [T.mul(x, x, x) for x in (signed, unsigned, half)],
                        mode="FAST_COMPILE")
    cubes = f([5, -6], [7, 200], [300, 2.5])
    assert [cube.dtype for cube in cubes] == ["int8", "uint8", "float16"]
    assert cubes[0].tolist() == [125, -216 + 256] and cubes[1].tolist() == [343 - 256, 200 ** 3 % 256]
    assert cubes[2].tolist() == [np.inf, 15.625]
    # Bitwise AND over an empty axis: its identity -1, all bits set, in the result's dtype.
    from theano.tensor.elemwise import CAReduce
    matrices = [T.matrix(dtype=dtype) for dtype in ("uint8", "int8", "uint32")]
    g = theano.function(matrices, [CAReduce(theano.scalar.and_, axis=1)(m) for m in matrices], mode="FAST_COMPILE")
    empty = [np.zeros((3, 0), m.dtype) for m in matrices]
    assert [r.tolist() for r in g(*empty)] == [[255] * 3, [-1] * 3, [2 ** 32 - 1] * 3]
    full = [np.array(values, m.dtype) for m, values in zip(matrices, ([[7, 12]], [[-3, 6]], [[5, 4]]))]
    assert [r.tolist() for r in g(*full)] == [[7 & 12], [-3 & 6], [5 & 4]]
    assert theano.scalar.and_.identity == -1  # the op's own, shared by every graph, is left as it was
    # What NumPy 1 converted, and what it refused (an int beyond 64 bits, or ints no 64-bit dtype holds).
    wrapped = theano_numpy2.wrapped_int
    assert wrapped(np.array([-216, 300], object), "int8").tolist() == [40, 44]
    assert wrapped(np.array([-1], object), "uint64").tolist() == [2 ** 64 - 1]
    assert wrapped(300, "int8").dtype == np.int8
    for too_big in ([2 ** 70], [-216, 2 ** 63 + 3]):
        with pytest.raises(OverflowError):
            wrapped(np.array(too_big, object), "int8")


INDEX_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


@pytest.fixture(scope="module")
def ravel_ops(theano):
    """One compiled function with every op whose C code said NPY_MAXDIMS, and the ops it holds."""
    T = theano.tensor
    matrix, vector = T.matrix("matrix"), T.vector("vector")
    indices = [T.vector("idx_" + dtype, dtype=dtype) for dtype in INDEX_DTYPES]
    maximum, argmax = T.max_and_argmax(matrix, axis=None)
    outputs = [maximum, argmax, T.max_and_argmax(matrix, axis=1)[1], T.argmax(matrix * 2, axis=None),
               T.extra_ops.cumsum(matrix), T.extra_ops.cumprod(matrix), T.extra_ops.cumsum(matrix, axis=1),
               T.extra_ops.cumsum(vector, axis=0), T.extra_ops.cumprod(vector)]
    outputs += [vector[idx] for idx in indices]
    f = theano.function([matrix, vector] + indices, outputs)
    return f, [type(node.op).__name__ for node in f.maker.fgraph.toposort()]


def test_ops_over_all_axes_with_every_index_dtype(theano, ravel_ops):
    f, ops = ravel_ops
    for name in ("MaxAndArgmax", "Argmax", "CumOp", "AdvancedSubtensor1"):
        assert name in ops, ops  # each mended op is in the graph, not one Theano's rewrites chose instead
    row = VALUES[1]
    # Negative indices where the dtype has them. uint64, the one index dtype that does not cast
    # safely to npy_intp, takes AdvancedSubtensor1's path that called NPY_MAXDIMS (its min and max).
    picks = [np.array([-1, 0, 2] if dtype.startswith("int") else [2, 0, 2], dtype) for dtype in INDEX_DTYPES]
    got = f(VALUES, row, *picks)
    assert got[0] == VALUES.max() and got[1] == np.argmax(VALUES) and got[1].dtype == np.int64
    np.testing.assert_array_equal(got[2], np.argmax(VALUES, axis=1))
    assert got[3] == np.argmax(VALUES)
    np.testing.assert_allclose(got[4], np.cumsum(VALUES))
    np.testing.assert_allclose(got[5], np.cumprod(VALUES), rtol=1e-6)
    np.testing.assert_allclose(got[6], np.cumsum(VALUES, axis=1))
    np.testing.assert_allclose(got[7], np.cumsum(row))
    np.testing.assert_allclose(got[8], np.cumprod(row), rtol=1e-6)
    for dtype, pick, taken in zip(INDEX_DTYPES, picks, got[9:]):
        np.testing.assert_array_equal(taken, row[pick.astype(np.int64)], err_msg=dtype)
    # An index npy_intp cannot hold: refused as on NumPy 1.23.5
    # (an OverflowError; unmended, NumPy 2 raised its AxisError before looking at a value).
    too_big = np.array([0, 2 ** 63 + 1], np.uint64)
    with pytest.raises(OverflowError, match="int too big to convert"):
        f(VALUES, row, *(picks[:-1] + [too_big]))


# Theano 1.0.5's own cache versions of the ops the glue changes, read in its source.
THEANO_VERSIONS = {"MaxAndArgmax": (5,), "Argmax": (1,), "CumOp": (8,), "AdvancedSubtensor1": (0, 1, 2)}


def test_mended_ops_have_cache_keys_of_their_own(theano, ravel_ops):
    f, _ = ravel_ops
    seen, ravel = {}, set()
    for node in f.maker.fgraph.toposort():
        name = type(node.op).__name__
        if name in THEANO_VERSIONS:
            seen[name] = node.op.c_code_cache_version()
            # On NumPy 2 the C code differs from Theano's, so its compiled module must too.
            expected = THEANO_VERSIONS[name] + (("npy_ravel_axis",) if theano_numpy2.NUMPY2 else ())
            assert seen[name] == expected, name
            try:
                code = node.op.c_code(node, "node", ["in%d" % i for i in range(len(node.inputs))],
                                      ["out%d" % i for i in range(len(node.outputs))], dict(fail="fail", params="p"))
            except NotImplementedError:
                continue  # Argmax over several axes: Theano runs its Python code
            assert "NPY_MAXDIMS" not in code or not theano_numpy2.NUMPY2, name
            if "NPY_RAVEL_AXIS" in code:
                ravel.add(name)
            # The key Theano files the module under: versioned, it holds that version; unversioned
            # (AdvancedSubtensor1's empty __props__), the module is named by a hash of its source.
            linker = theano.gof.cc.CLinker().accept(theano.gof.FunctionGraph(node.inputs, node.outputs, clone=True))
            version, _ = linker.cmodule_key()
            if version:
                assert seen[name] in version, name
            else:
                source = linker.get_src_code()
                assert ("NPY_RAVEL_AXIS" in source) == theano_numpy2.NUMPY2 != ("NPY_MAXDIMS" in source), name
    assert sorted(seen) == sorted(THEANO_VERSIONS)
    # Argmax's own "all axes" C line is never compiled: Argmax(None) fails in its __init__ (tuple(None)).
    assert sorted(ravel) == (["AdvancedSubtensor1", "CumOp", "MaxAndArgmax"] if theano_numpy2.NUMPY2 else [])
    # Complex scalars get a key of their own too; the lesson's float32 modules keep theirs.
    floats, complexes = theano.scalar.Scalar("float32"), theano.scalar.Scalar("complex64")
    assert floats.c_code_cache_version() == (13, np.__version__)
    assert complexes.c_code_cache_version() == (13, np.__version__) + (
        ("npy1_complex",) if theano_numpy2.NUMPY2 else ())


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


def test_theano_types_taken_as_dtypes(theano):
    """deg2rad's gradient and ceil_intdiv pass a Theano type or variable where NumPy wants a dtype."""
    T = theano.tensor
    x, a, b = T.fvector("x"), T.ivector("a"), T.ivector("b")
    slope = theano.grad(T.deg2rad(x).sum(), x)
    back = theano.grad(T.rad2deg(x).sum(), x)
    f = theano.function([x, a, b], [slope, back, T.ceil_intdiv(a, b)], mode="FAST_COMPILE")
    slopes, backs, quotients = f(np.float32([1, 2]), [7, -7, 6], [2, 2, 3])
    assert slopes.dtype == backs.dtype == np.float32
    np.testing.assert_allclose(slopes, [np.pi / 180] * 2, rtol=1e-6)
    np.testing.assert_allclose(backs, [180 / np.pi] * 2, rtol=1e-6)
    assert quotients.dtype == np.int32 and quotients.tolist() == [4, -3, 2]  # ceil(3.5), ceil(-3.5), 2


def test_inv_in_its_inputs_precision(theano):
    """inv's Python code: 1/x of a float64 or complex128 to every digit, of a float32 in float32."""
    T = theano.tensor
    mode = theano.compile.Mode(linker="py", optimizer="fast_compile")
    double, single, complex_ = T.dvector(), T.fvector(), T.vector(dtype="complex128")
    f = theano.function([double, single, complex_], [T.inv(double), T.inv(single), T.inv(complex_)], mode=mode)
    values = [3.0, -0.60506916]
    doubles, singles, complexes = f(values, np.float32(values), np.complex128(values))
    assert (doubles.dtype, singles.dtype, complexes.dtype) == ("float64", "float32", "complex128")
    np.testing.assert_allclose(doubles, [1 / 3.0, 1 / -0.60506916], rtol=1e-15)
    np.testing.assert_allclose(complexes, [1 / 3.0, 1 / -0.60506916], rtol=1e-15)
    np.testing.assert_allclose(singles, [1 / 3.0, 1 / -0.60506916], rtol=1e-7)


def test_expm_gradient(theano):
    """ExpmGrad catches np.ComplexWarning (np.exceptions.ComplexWarning in NumPy 2).

    At A = diag(1, 2), d sum(expm(A)) / dA is e and e**2 on the diagonal and the divided
    difference (e**2 - e) / (2 - 1) off it, worked out by hand.
    """
    from theano.tensor.slinalg import expm
    T = theano.tensor
    a = T.dmatrix("a")
    gradient = theano.function([a], theano.grad(expm(a).sum(), a), mode="FAST_COMPILE")(np.diag([1.0, 2.0]))
    e = np.e
    np.testing.assert_allclose(gradient, [[e, e ** 2 - e], [e ** 2 - e, e ** 2]], rtol=1e-10)


def test_random_function_leaves_its_state(theano):
    """A RandomFunction not in place draws from a copy: the same state gives the same draws again."""
    from theano.tensor.raw_random import RandomFunction, random_state_type
    T = theano.tensor
    state = random_state_type()
    _, out = RandomFunction("uniform", T.dvector)(state, (4,), 0.0, 1.0)
    f = theano.function([state], out, mode="FAST_COMPILE")
    rng = np.random.RandomState(5)
    first, second = f(rng), f(rng)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, np.random.RandomState(5).uniform(0.0, 1.0, 4))


def test_unique_inverse_is_flat(theano):
    """Unique's inverse over all axes of a matrix is flat, as NumPy 1 made it and Theano's shape says."""
    from theano.tensor.extra_ops import Unique
    T = theano.tensor
    x = T.matrix()
    inverse = Unique(return_inverse=True)(x)[1]
    f = theano.function([x], [inverse, inverse.shape], mode="FAST_COMPILE")
    values, shape = f(np.float32([[2, 1], [3, 2], [2, 3]]))
    assert values.tolist() == [1, 0, 2, 1, 1, 2] and shape.tolist() == [6]
