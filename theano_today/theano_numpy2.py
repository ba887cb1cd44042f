"""Theano 1.0.5's own breaks on NumPy 2 and today's Python that a user meets beyond the lesson's graph.

theano_today/theano_setup.py's import_theano() calls mend(theano) right after `import theano`.
Each function in PIECES mends one break, says why, and runs only where that break
exists: NumPy 2, Python 3.13 (the pickler) or 3.11 (scan's C loop).
None of it changes what Theano computes; tests/test_numpy2.py and tests/test_literals.py test each.
"""
import pickle
import sys
import types

import numpy as np

NUMPY2 = int(np.__version__.split(".")[0]) >= 2
PY313 = sys.version_info >= (3, 13)

# NumPy 2's C headers spell "all axes" NPY_RAVEL_AXIS, and with the 2.0 API target
# that theano_setup.numpy2_c_flags sets it is the smallest C int.
RAVEL_AXIS = int(np.iinfo(np.intc).min)


def _cast_table():
    """np.cast as NumPy 1 had it: np.cast[dtype](x) is x as an array of that dtype."""
    class CastTable:
        def __getitem__(self, key):
            # Theano indexes it with a dtype name or with one of its types (which has .dtype).
            dtype = np.dtype(key if isinstance(key, (str, type, np.dtype)) else key.dtype)
            return lambda value: np.asarray(value).astype(dtype)
    return CastTable()


class _NumpyWithNames(types.ModuleType):
    """NumPy for one Theano module: every NumPy name, plus the few given here."""

    def __getattr__(self, name):
        return getattr(np, name)


def give_numpy_names(module, **names):
    """Let `module`'s `np` answer `names` too, leaving NumPy itself (and the user's code) as it is."""
    if not isinstance(module.np, _NumpyWithNames):
        module.np = _NumpyWithNames("numpy")
    vars(module.np).update(names)


def removed_numpy_names(theano):
    """np.product, np.sctype2char and np.cast, gone in NumPy 2, for the Theano code that calls them.

    Scalar Mul's Python code calls np.product (float16 graphs run it: the lesson with
    floatX=float16 stops at its first update); Elemwise calls np.sctype2char for a
    float op on integer inputs; the gradients of arcsin and its kin, and batch
    normalization, call np.cast.
    """
    from theano.scalar import basic as scalar_basic
    from theano.tensor import elemwise
    from theano.tensor.nnet import bn
    cast = _cast_table()
    give_numpy_names(scalar_basic, product=np.prod, cast=cast)
    give_numpy_names(elemwise, sctype2char=lambda dtype: np.dtype(dtype).char)
    give_numpy_names(bn, cast=cast)
    # expm's gradient catches np.ComplexWarning, which NumPy 2 keeps in np.exceptions only.
    from theano.tensor import slinalg
    give_numpy_names(slinalg, ComplexWarning=np.exceptions.ComplexWarning)


# NumPy 1's C++ npy_complex64/128 were structs with .real and .imag, which Theano's
# complex types inherit and use; NumPy 2's hold the two parts as _Val[2] instead.
# The same layout under NumPy 1's names, with a conversion back to NumPy's type.
COMPLEX_BASE = """
struct theano_npy1_complex%(nbits)s {
    npy_float%(half)s real, imag;
    operator npy_complex%(nbits)s() const { npy_complex%(nbits)s z; memcpy(&z, this, sizeof z); return z; }
};
static_assert(sizeof(theano_npy1_complex%(nbits)s) == sizeof(npy_complex%(nbits)s), "complex layout");
"""


def complex_members(theano):
    """Complex64/128 graphs compile: Theano's complex types get the .real/.imag that NumPy 2 took away."""
    from theano.scalar.basic import Scalar
    support_code, version = Scalar.c_support_code, Scalar.c_code_cache_version

    def c_support_code(self):
        code = support_code(self)
        for nbits, half in ((64, 32), (128, 64)):
            base = "public npy_complex%d" % nbits
            if base in code:
                code = (COMPLEX_BASE % dict(nbits=nbits, half=half)
                        + code.replace(base, "public theano_npy1_complex%d" % nbits))
        return code

    def c_code_cache_version(self):
        # A new key for complex types only: the lesson's modules keep theirs.
        return version(self) + (("npy1_complex",) if self.dtype.startswith("complex") else ())
    Scalar.c_support_code, Scalar.c_code_cache_version = c_support_code, c_code_cache_version


def no_mapiter(theano):
    """AdvancedIncSubtensor1 (x[idx] += y) runs its Python code: its C uses NumPy's MapIter C API, gone in NumPy 2."""
    from theano.tensor.subtensor import AdvancedIncSubtensor1

    def c_code(self, node, name, input_names, output_names, sub):
        raise NotImplementedError("NumPy 2 has no MapIter C API")  # Theano then uses perform()
    AdvancedIncSubtensor1.c_code = c_code


def int_overflow_is_type_error(theano):
    """An int input out of its dtype's range: wrapped where downcasting is allowed, else Theano's TypeError.

    NumPy 1 wrapped it (300 became 44 in int8, 2**20 became 0 in int16): Theano then
    refused it, or with allow_input_downcast=True (allow_downcast=True on a type's
    filter) took the wrapped value. NumPy 2 refuses to wrap, with an OverflowError.
    """
    from theano.tensor.type import TensorType
    filter_data = TensorType.filter

    def checked_filter(self, data, strict=False, allow_downcast=None):
        try:
            return filter_data(self, data, strict, allow_downcast)
        except OverflowError:
            if allow_downcast and not strict:
                try:
                    # NumPy 1's wrap: the values in the smallest dtype that holds them, then a C cast.
                    wrapped = np.asarray(data).astype(self.dtype)
                except (OverflowError, TypeError, ValueError):
                    wrapped = None  # beyond int64: NumPy 1 refused it too
                if wrapped is not None:
                    return filter_data(self, wrapped, strict, allow_downcast)
            limits = np.iinfo(self.dtype) if np.issubdtype(self.dtype, np.integer) else None
            held = " (%d to %d)" % (limits.min, limits.max) if limits else ""
            raise TypeError("%s cannot store %s: it is out of the range of %s%s, and NumPy 2 no longer "
                            "wraps it around; to wrap it, convert it first: np.array(value).astype(%r)"
                            % (self, data, self.dtype, held, self.dtype)) from None
    TensorType.filter = checked_filter


def wrapped_int(value, dtype):
    """`value` in integer `dtype` as NumPy 1 converted it: out-of-range ints wrapped (-216 is 40 in int8).

    Through the 64-bit array NumPy picks for the values, then a C cast, which wraps;
    beyond 64 bits NumPy 1 refused them too, and so does this (OverflowError).
    """
    if isinstance(value, np.ndarray) and value.dtype == object:
        value = value.tolist()
    held = np.array(value)
    if held.dtype.kind not in "biu":  # no 64-bit int holds them all (NumPy made floats or objects)
        raise OverflowError("Python int too large to convert to C long")
    return np.asarray(held.astype(dtype))


def python_elemwise_wraps_ints(theano):
    """Elemwise and CAReduce: their Python code keeps NumPy 1's wrap of an int out of its dtype's range.

    Without a C compiler, or in FAST_COMPILE and DebugMode, an Elemwise whose scalar op
    has no ufunc (mul of three inputs, the fused Composites) runs np.frompyfunc, whose
    object array Elemwise.perform converts with np.asarray(..., dtype): NumPy 1 wrapped
    the ints (int8 5*5*5 and -6*-6*-6 gave [125, 40], as the C code does); NumPy 2
    raises OverflowError. CAReduce.perform meets the same over an empty axis (below).
    """
    from theano.tensor import elemwise

    def asarray(value, dtype=None, *args, **kwargs):
        try:
            return np.asarray(value, dtype, *args, **kwargs)
        except OverflowError:
            if dtype is None or args or kwargs or np.dtype(dtype).kind not in "iu":
                raise
            return wrapped_int(value, dtype)
    give_numpy_names(elemwise, asarray=asarray)

    # A reduction over an empty axis fills its result with the op's identity, and
    # bitwise AND's is -1 (all bits set): NumPy 1 filled a uint8 array with 255, NumPy 2
    # raises. Only then is the reduction run again with the identity in the result's dtype.
    perform = elemwise.CAReduce.perform

    def wrapping_perform(self, node, inputs, output_storage, *args):
        try:
            return perform(self, node, inputs, output_storage, *args)
        except OverflowError:
            identity = getattr(self.scalar_op, "identity", None)
            dtype = getattr(self, "acc_dtype", None) or node.outputs[0].type.dtype
            if not isinstance(identity, int) or np.dtype(dtype).kind not in "iu":
                raise
            own = vars(self.scalar_op).get("identity")
            self.scalar_op.identity = wrapped_int(identity, dtype)
            try:
                return perform(self, node, inputs, output_storage, *args)
            finally:
                if own is None:
                    del self.scalar_op.identity  # back to its class's
                else:
                    self.scalar_op.identity = own
    elemwise.CAReduce.perform = wrapping_perform


def literals_as_numpy_1(theano):
    """A Python int or float literal gets the dtype Theano gave it on NumPy 1: ints uint64 only beyond int64.

    Theano's autocaster tries each dtype in turn by converting and comparing. NumPy 1
    wrapped 300 to 44 in int8, so Theano moved on to int16; NumPy 2 raises OverflowError,
    which convert() takes for "beyond int64" and so types every int literal of 128 or
    more uint64 (ivector + 300 became float64; reshape((n, 1, 1, 1200)) a float shape:
    TypeError). NumPy 1 compared a float literal with its float32 in double; NumPy 2
    compares in float32, so with floatX=float64 0.1 and 1e300 became float32 (1e300 inf).
    """
    from theano.scalar.basic import NumpyAutocaster
    call = NumpyAutocaster.__call__

    def __call__(self, x):
        if hasattr(x, "dtype") or theano.config.cast_policy != "custom":
            return call(self, x)
        if isinstance(x, int) and all(np.dtype(dtype).kind == "i" for dtype in self.dtypes):
            for dtype in self.dtypes:
                limits = np.iinfo(dtype)
                if limits.min <= x <= limits.max:
                    return theano._asarray(x, dtype=dtype)
            # Beyond int64: OverflowError here too, and convert() makes it uint64, as at home.
        elif isinstance(x, float) and not (theano.config.floatX in self.dtypes and theano.config.floatX != "float64"):
            tried = [dtype for dtype in self.dtypes if theano.config.floatX == "float16" or dtype != "float16"]
            for dtype in tried:
                held = theano._asarray(x, dtype=dtype)
                if float(held) == x:  # in double, as NumPy 1 compared
                    return held
            return held
        return call(self, x)
    NumpyAutocaster.__call__ = __call__


def python_casts_wrap(theano):
    """Cast's and inc_subtensor's Python code wrap an int out of the target's range, as NumPy 1 and the C code do.

    Cast's impl calls np.uint8(value), which NumPy 1 wrapped (-1 and -1.0 became 255)
    and NumPy 2 refuses with OverflowError. IncSubtensor's perform adds in place,
    `x[i] += y`: NumPy 1 typed a 0-d y by its value (2**31 fitted uint32, same kind as
    uint8), NumPy 2 by its dtype (int64 into uint8 is refused); y wrapped to x's dtype
    first gives the same sum, modulo 2**bits.
    """
    from theano.scalar.basic import Cast
    from theano.tensor.subtensor import IncSubtensor
    impl = Cast.impl

    def wrapping_impl(self, value):
        try:
            return impl(self, value)
        except OverflowError:
            if np.dtype(self.o_type.dtype).kind not in "iu":
                raise
            if isinstance(value, float) or isinstance(value, np.floating):
                return self.ctor(np.asarray(value).astype(self.o_type.dtype))  # NumPy's C cast, as NumPy 1's
            return self.ctor(wrapped_int(value, self.o_type.dtype))
    Cast.impl = wrapping_impl
    perform = IncSubtensor.perform

    def wrapping_perform(self, node, inputs, output_storage, *args):
        try:
            return perform(self, node, inputs, output_storage, *args)
        except TypeError as error:
            x, y = np.asarray(inputs[0]), np.asarray(inputs[1])
            if ("Cannot cast ufunc" not in str(error) or self.set_instead_of_inc or y.ndim
                    or (x.dtype.kind + y.dtype.kind).strip("iu")):
                raise
            # NumPy 1's rule: the sum in x's dtype promoted with y's smallest type, cast back if of the same kind.
            summed = np.promote_types(x.dtype, np.min_scalar_type(y.item()))
            if not np.can_cast(summed, x.dtype, "same_kind"):
                raise
            inputs = [inputs[0], wrapped_int(y.item(), x.dtype)] + list(inputs[2:])
            return perform(self, node, inputs, output_storage, *args)
    IncSubtensor.perform = wrapping_perform


def dtype_of(dtype):
    """What NumPy 1 read as a dtype: an object's .dtype, a string included (a Theano type or variable)."""
    held = getattr(dtype, "dtype", None)
    return held if isinstance(held, str) else dtype


def types_as_dtypes(theano):
    """Theano's scalar code passes its types and variables as dtypes, which NumPy 1 read by their .dtype string.

    NumPy 2 wants a np.dtype in .dtype ("dtype attribute is not a valid dtype instance"):
    deg2rad's and rad2deg's gradients (np.asarray(pi / 180, gz.type)) and upcast() of a
    variable, which ceil_intdiv calls, raised.
    """
    from theano.scalar import basic as scalar_basic

    def zeros(shape, dtype=float, *args, **kwargs):
        return np.zeros(shape, dtype_of(dtype), *args, **kwargs)

    def asarray(value, dtype=None, *args, **kwargs):
        return np.asarray(value, dtype_of(dtype), *args, **kwargs)
    give_numpy_names(scalar_basic, zeros=zeros, asarray=asarray)


def python_inv_in_double(theano):
    """inv's Python code, np.float32(1.0) / x, in the dtype NumPy 1 gave: x's own, a Python number's as 64 bits.

    Elemwise's Python code hands it Python floats and complexes: NumPy 1 made
    float32 / float a float64 (and / complex a complex128); NumPy 2 keeps float32,
    so inv of a float64 or complex128 lost half its digits (test_basic's InvTester).
    """
    from theano.scalar.basic import Inv

    def impl(self, x):
        return np.float32(1.0) / (x if isinstance(x, np.generic) else np.asarray(x)[()])
    Inv.impl = impl


def random_state_copies(theano):
    """RandomFunction's copy of a RandomState is a state of its own, as on NumPy 1.

    Theano draws from copy(r) so that r itself does not move (inplace=False); NumPy 2's
    copy.copy shares the bit generator, so r moved (the same r gave other numbers at
    its next call: test_raw_random, test_shared_randomstreams).
    """
    import copy
    from theano.tensor import raw_random

    def own_copy(value):
        return copy.deepcopy(value) if isinstance(value, np.random.RandomState) else copy.copy(value)
    raw_random.copy = own_copy


def unique(values, **options):
    """np.unique with NumPy 1's inverse over all axes: flat, as Unique's infer_shape says (NumPy 2 keeps the input's shape)."""
    found = np.unique(values, **options)
    if options.get("return_inverse") and options.get("axis") is None:
        at = 1 + bool(options.get("return_index"))
        found = found[:at] + (found[at].ravel(),) + found[at + 1:]
    return found


def flat_unique_inverse(theano):
    """Unique(return_inverse=True) of a matrix: the inverse flat, as on NumPy 1 and in Theano's own shape (test_Unique)."""
    from theano.tensor import extra_ops
    give_numpy_names(extra_ops, unique=unique)


class _PickleWithPurePython(types.ModuleType):
    def __getattr__(self, name):
        return getattr(pickle, name)


def pure_python_pickler(theano):
    """theano.misc.pkl_utils dump/load set persistent_id/persistent_load, which 3.13's C pickler classes refuse."""
    from theano.misc import pkl_utils
    pkl_utils.pickle = _PickleWithPurePython("pickle")
    pkl_utils.pickle.Pickler, pkl_utils.pickle.Unpickler = pickle._Pickler, pickle._Unpickler


def ravel_axis(theano):
    """max, argmax and cumsum over all axes: Theano passes NPY_MAXDIMS, which NumPy 2 takes for an axis.

    NumPy 1 read NPY_MAXDIMS (32) as "all axes"; NumPy 2 raises "axis 64 is out of
    bounds" and spells it NPY_RAVEL_AXIS. CumOp also reads np.MAXDIMS, gone in NumPy 2.
    """
    from theano.tensor import basic, extra_ops, subtensor
    give_numpy_names(extra_ops, MAXDIMS=RAVEL_AXIS)  # only CumOp's "all axes" reads it
    for op_class in (basic.MaxAndArgmax, basic.Argmax, extra_ops.CumOp, subtensor.AdvancedSubtensor1):
        c_code, version = op_class.c_code, op_class.c_code_cache_version

        def ravel_c_code(self, *args, c_code=c_code):
            return c_code(self, *args).replace("NPY_MAXDIMS", "NPY_RAVEL_AXIS")

        def ravel_version(self, version=version):
            kept = version(self)
            return kept + ("npy_ravel_axis",) if kept else kept  # an unversioned op stays so
        op_class.c_code, op_class.c_code_cache_version = ravel_c_code, ravel_version


def python_scan(theano, modules=sys.modules):
    """theano.scan runs its Python loop: the Cython C of its fast loop no longer compiles on Python 3.11+.

    It includes longintrepr.h, which Python 3.11 moved, and g++'s error would stop
    the function's compilation. An ImportError is what Theano falls back on.
    """
    modules.setdefault("theano.scan_module.scan_perform_ext", None)


def gpu_host_copies(theano, modules=sys.modules):
    """Host data bound for the GPU is converted (a list, another dtype): Theano asks np.array for copy=False.

    NumPy 1 read copy=False as "copy only if needed"; NumPy 2 reads it as "never copy"
    and raises. GpuArrayType.filter, which turns a user's values into device arrays,
    is the one place that asks; copy=None is NumPy 2's "only if needed". Only where
    Theano's gpuarray code is loaded (device=cuda or opencl): the CPU never calls it.
    """
    if "theano.gpuarray.type" not in modules:
        return

    def array(value, *args, copy=True, **options):
        return np.array(value, *args, copy=None if copy is False else copy, **options)
    give_numpy_names(modules["theano.gpuarray.type"], array=array)


def dnn_reduction_all_axes(theano, modules=sys.modules):
    """cuDNN's reduction over every axis: Theano writes its axis bitfield as np.uint32(-1).

    NumPy 1 wrapped -1 to 0xFFFFFFFF; NumPy 2 raises OverflowError. Where Theano finds
    a cuDNN, its optimizer tries GpuDnnReduction on every sum and mean of a CUDA graph
    (the lessons' losses, Adam's moments), logs that failure with a traceback each time,
    and keeps its own reduction. Only where theano.gpuarray.dnn is loaded (device=cuda
    or opencl).
    """
    if "theano.gpuarray.dnn" not in modules:
        return
    reduction = modules["theano.gpuarray.dnn"].GpuDnnReduction
    convert_axis = reduction._convert_axis

    def every_axis_as_numpy_1(self, axis):
        return np.uint32(0xFFFFFFFF) if axis is None else convert_axis(self, axis)
    reduction._convert_axis = every_axis_as_numpy_1


# (piece, whether this Python and NumPy need it)
PIECES = [(removed_numpy_names, NUMPY2), (complex_members, NUMPY2), (no_mapiter, NUMPY2),
          (int_overflow_is_type_error, NUMPY2), (literals_as_numpy_1, NUMPY2),
          (python_elemwise_wraps_ints, NUMPY2), (python_casts_wrap, NUMPY2),
          (types_as_dtypes, NUMPY2), (python_inv_in_double, NUMPY2),
          (random_state_copies, NUMPY2), (flat_unique_inverse, NUMPY2), (ravel_axis, NUMPY2),
          (pure_python_pickler, PY313), (python_scan, sys.version_info >= (3, 11)), (gpu_host_copies, NUMPY2),
          (dnn_reduction_all_axes, NUMPY2)]


def mend(theano):
    """Apply, once per process, each piece this Python and NumPy need; returns their names."""
    if getattr(theano, "numpy2_mended", None) is None:
        theano.numpy2_mended = [piece.__name__ for piece, needed in PIECES if needed]
        for piece, needed in PIECES:
            if needed:
                piece(theano)
    return theano.numpy2_mended
