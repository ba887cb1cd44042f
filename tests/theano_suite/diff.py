"""make theano-diff: small Theano expressions, each typed and evaluated here, compared with the home stack.

    python tests/theano_suite/diff.py [--record FILE] [--reference FILE] [--ci]

The corpus is made by rule (CORPUS below): the elemwise, reduction, shape, indexing and
casting ops of theano.tensor, on tensors of int8 ... int64, uint8, float32 and float64,
with Python int and float literals on each side of every dtype boundary and NumPy scalars
of each dtype. Each expression's outcome is its output dtype and values, or the exception
its building or evaluation raised. Home (Python 3.11, NumPy 1.23.5: .venv-home) recorded
diff_home.json with --record; any other stack compares with it: ints and dtypes exactly,
floats to a tolerance, and which expressions raise.

Theano is imported as genre_mlp.py imports it. Evaluation uses Theano's Python linker
(no C compile per expression: the typing is what differs between NumPy releases);
a sample also runs through the C linker (FAST_RUN), each tensor dtype's expressions in
one function, whose modules the compile cache keeps; --ci leaves the sample out.
"""
import argparse
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
REFERENCE = os.path.join(HERE, "diff_home.json")

TENSOR_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "float32", "float64"]
# Each side of every int dtype's limits, and beyond int64 (uint64 there; past it, an error).
INT_LITERALS = [0, 1, 2, 127, 128, 255, 256, -128, -129, 32767, 32768, -32768, -32769,
                2 ** 31 - 1, 2 ** 31, -2 ** 31, -2 ** 31 - 1, 2 ** 63 - 1, 2 ** 63, -2 ** 63, -2 ** 63 - 1, 2 ** 64]
# A float32 holds 1.5 exactly, not 0.1; 3.4e38 is below float32's largest, 3.5e38 beyond it.
FLOAT_LITERALS = [0.5, 0.1, 1.5, 3.4e38, 3.5e38, 1e300, 1e-50]
NUMPY_SCALARS = [("int8", 3), ("int16", 300), ("int32", 70000), ("int64", 2 ** 40), ("uint8", 200),
                 ("uint16", 60000), ("uint32", 2 ** 31), ("uint64", 2 ** 63), ("float32", 1.5), ("float64", 0.1)]
# Each tensor's values: small enough for every dtype, a negative one where the dtype has them.
VALUES = {"uint8": [3, 1, 250]}
DEFAULT_VALUES = [3, -1, 100]

BINARY = ["add", "sub", "mul", "true_div", "int_div", "mod", "maximum", "minimum", "lt", "eq", "pow"]
UNARY = ["neg", "abs_", "exp", "sqrt", "sgn", "floor", "sqr", "inv"]
REDUCTIONS = ["sum", "prod", "max", "min", "mean", "argmax", "any"]


def operands():
    """(name, value) for every literal and NumPy scalar of the corpus."""
    import numpy as np
    for value in INT_LITERALS + FLOAT_LITERALS:
        yield repr(value), value
    for dtype, value in NUMPY_SCALARS:
        yield "np.%s(%r)" % (dtype, value), np.dtype(dtype).type(value)


def corpus():
    """[(expression id, build(T, x) -> Theano variable, tensor dtype)], made by rule."""
    import numpy as np
    made = []

    def add(name, dtype, build):
        made.append(("%s | %s" % (dtype, name), build, dtype))
    for dtype in TENSOR_DTYPES:
        for operand, value in operands():
            for op in BINARY:
                add("%s(x, %s)" % (op, operand), dtype, lambda T, x, op=op, v=value: getattr(T, op)(x, v))
            # The literal on the left: Theano's __radd__ and kin.
            add("%s + x" % operand, dtype, lambda T, x, v=value: v + x)
            add("%s * x" % operand, dtype, lambda T, x, v=value: v * x)
            add("x.sum() * %s" % operand, dtype, lambda T, x, v=value: x.sum() * v)
            add("switch(x > 0, x, %s)" % operand, dtype, lambda T, x, v=value: T.switch(x > 0, x, v))
            add("clip(x, 0, %s)" % operand, dtype, lambda T, x, v=value: T.clip(x, 0, v))
            add("inc_subtensor(x[1:], %s)" % operand, dtype, lambda T, x, v=value: T.inc_subtensor(x[1:], v))
        for op in UNARY:
            add("%s(x)" % op, dtype, lambda T, x, op=op: getattr(T, op)(x))
        for op in REDUCTIONS:
            add("%s(x)" % op, dtype, lambda T, x, op=op: getattr(T, op)(x))
        for target in TENSOR_DTYPES + ["uint16", "uint32", "uint64"]:
            add("cast(x, %s)" % target, dtype, lambda T, x, t=target: T.cast(x, t))
            add("cast(x * 300, %s)" % target, dtype, lambda T, x, t=target: T.cast(x * 300, t))
    # Float literals where floatX=float64 lets Theano choose float32 or float64 by exactness.
    floats = [(repr(v), v) for v in FLOAT_LITERALS + [-v for v in FLOAT_LITERALS]]
    floats += [(name, value) for name, value in operands() if name.startswith("np.float")]
    for dtype in TENSOR_DTYPES:
        for operand, value in floats:
            add("floatX=float64: add(x, %s)" % operand, dtype, lambda T, x, v=value: T.add(x, v))
            add("floatX=float64: %s * x" % operand, dtype, lambda T, x, v=value: v * x)
            add("floatX=float64: true_div(x, %s)" % operand, dtype, lambda T, x, v=value: T.true_div(x, v))
    # Shapes and indexing: literals as sizes, shapes, indices and ranges.
    for size in [3, 127, 128, 300, 32768, 70000]:
        add("arange(%d)" % size, "int32", lambda T, x, n=size: T.arange(n))
        add("arange(x.shape[0], %d)" % size, "int32", lambda T, x, n=size: T.arange(x.shape[0], n))
        add("zeros((%d,))" % size, "int32", lambda T, x, n=size: T.zeros((n,)))
        add("alloc(x[0], %d)" % size, "int32", lambda T, x, n=size: T.alloc(x[0], n))
        add("x.reshape((x.shape[0] // %d, 1, 1, %d)) of %d" % (size, size, size), "float32",
            lambda T, x, n=size: x.reshape((x.shape[0] // n, 1, 1, n)))
        add("tile(x, %d)" % size, "float32", lambda T, x, n=size: T.tile(x, (n,)))
    for dtype in TENSOR_DTYPES:
        for index in [0, -1, 2, 3, 128, 2 ** 31, 2 ** 63]:
            add("x[%d]" % index, dtype, lambda T, x, i=index: x[i])
            add("x[:%d]" % index, dtype, lambda T, x, i=index: x[:i])
        add("x[[0, 2]]", dtype, lambda T, x: x[[0, 2]])
        add("x[np.int64(1)]", dtype, lambda T, x: x[np.int64(1)])
        add("x.shape[0] * 300", dtype, lambda T, x: x.shape[0] * 300)
        add("x.dimshuffle('x', 0)", dtype, lambda T, x: x.dimshuffle("x", 0))
        add("concatenate([x, x * 128])", dtype, lambda T, x: T.concatenate([x, x * 128]))
        add("stack([x[0], 300])", dtype, lambda T, x: T.stack([x[0], 300]))
        add("set_subtensor(x[0], 300)", dtype, lambda T, x: T.set_subtensor(x[0], 300))
    return made


def tensor_values(dtype, n=None):
    import numpy as np
    values = VALUES.get(dtype, DEFAULT_VALUES)
    if n is not None:
        return np.arange(n, dtype=dtype)
    return np.array(values, dtype=dtype)


def outcome_of(value):
    """[dtype, values] with floats as JSON takes them (NaN and infinities by name)."""
    import numpy as np
    value = np.asarray(value)
    if value.size > 16:  # a long one by its shape, ends and sum
        flat = value.ravel()
        return [str(value.dtype), ["shape", list(value.shape), flat[:4].tolist(), flat[-4:].tolist(),
                                   flat.sum(dtype="float64").tolist()]]
    return [str(value.dtype), value.tolist()]


def evaluate(expressions, mode):
    """{id: [dtype, values] or ["raises", exception name]} for each expression."""
    import numpy as np
    import warnings
    from theano_today.theano_setup import import_theano
    theano = import_theano()[0]
    T = theano.tensor
    results = {}
    warnings.simplefilter("ignore")  # overflow and invalid-value warnings of the float expressions
    np.seterr(all="ignore")
    for name, build, dtype in expressions:
        x = T.vector("x", dtype=dtype)
        reshape = "reshape" in name
        data = tensor_values(dtype, 2 * int(name.rsplit(" ", 1)[1]) if reshape else None)
        flags = {"floatX": "float64"} if "floatX=float64" in name else {}
        try:
            with theano.change_flags(**flags):
                out = build(T, x)
                f = theano.function([x], out, mode=mode, on_unused_input="ignore")
            results[name] = outcome_of(f(data))
        except Exception as error:  # which one, and whether at all, is what is compared
            results[name] = ["raises", type(error).__name__]
    return results


def differ(here, home):
    """Why two outcomes differ, or None: dtypes and ints exactly, floats to a relative 1e-6."""
    if here[0] != home[0]:
        return "%s here, %s at home" % (here[0], home[0])
    if here[1] == home[1]:
        return None
    if here[0] == "raises":
        return "raises %s here, %s at home" % (here[1], home[1])
    if here[0].startswith("float"):
        ours, theirs = flatten(here[1]), flatten(home[1])
        if len(ours) == len(theirs) and all(close(a, b, here[0]) for a, b in zip(ours, theirs)):
            return None
    return "values %s here, %s at home" % (short(here[1]), short(home[1]))


def flatten(value):
    return [y for x in value for y in flatten(x)] if isinstance(value, list) else [value]


def close(a, b, dtype):
    if not isinstance(a, float) or not isinstance(b, float):
        return a == b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    tolerance = 1e-6 if dtype == "float32" else 1e-12
    return a == b or abs(a - b) <= tolerance * max(abs(a), abs(b))


def short(value):
    text = json.dumps(value)
    return text if len(text) < 60 else text[:57] + "..."


# The C-linked sample: every per-literal expression of four tensor dtypes with these operands.
C_TENSORS = ("int32", "uint8", "int64", "float32")
C_OPERANDS = ("127", "128", "32768", "2147483648", "9223372036854775808", "0.1", "3.5e+38", "np.int16(300)")


def c_sample(expressions):
    def in_sample(name, dtype):
        if dtype not in C_TENSORS or "floatX" in name:
            return False
        text = name.split(" | ", 1)[1]
        return any(("(x, %s)" % o) in text or text.startswith(o + " ") or text.endswith(" * " + o) for o in C_OPERANDS)
    return [e for e in expressions if in_sample(e[0], e[2])]


def evaluate_together(expressions, mode):
    """evaluate(), with the expressions of each tensor dtype in one function: one C compile per dtype,
    Theano's fusion making the elemwise ones one module. A function that fails is run one by one."""
    from theano_today.theano_setup import import_theano
    theano = import_theano()[0]
    T = theano.tensor
    results, groups = {}, {}
    for expression in expressions:
        groups.setdefault(expression[2], []).append(expression)
    for dtype, group in sorted(groups.items()):
        x = T.vector("x", dtype=dtype)
        built, alone = [], []
        for name, build, _ in group:
            try:
                built.append((name, build(T, x)))
            except Exception:
                alone.append((name, build, dtype))
        try:
            f = theano.function([x], [out for _, out in built], mode=mode)
            for (name, _), value in zip(built, f(tensor_values(dtype))):
                results[name] = outcome_of(value)
        except Exception:
            alone += [(name, build, dtype) for name, build, _ in group if name in dict(built)]
        results.update(evaluate(alone, mode))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", help="write every outcome to this file (the home stack's: diff_home.json)")
    parser.add_argument("--reference", default=REFERENCE, help="compare with this file's outcomes")
    parser.add_argument("--ci", action="store_true", help="CI's part: the Python linker only, no C sample")
    parser.add_argument("--show", type=int, default=20, help="print at most this many differences")
    args = parser.parse_args(argv)
    sys.path.insert(0, ROOT)
    import numpy
    started = time.monotonic()
    from theano_today.theano_setup import import_theano
    theano = import_theano()[0]
    import logging
    logging.getLogger("theano.gof.opt").setLevel(logging.CRITICAL)  # an optimizer refusing inf (both stacks)
    expressions = corpus()
    python_mode = theano.compile.Mode(linker="py", optimizer="fast_compile")
    results = {"py: " + name: outcome for name, outcome in evaluate(expressions, python_mode).items()}
    if not args.ci:
        sample = c_sample(expressions)
        results.update(("c: " + name, outcome) for name, outcome in evaluate_together(sample, "FAST_RUN").items())
    seconds = time.monotonic() - started
    stack = "Python %s, NumPy %s" % (sys.version.split()[0], numpy.__version__)
    raised = sum(1 for outcome in results.values() if outcome[0] == "raises")
    print("%s: %d expressions (%d raise) in %.0f s" % (stack, len(results), raised, seconds))
    if args.record:
        from lesson_helpers.files import write_atomically
        text = json.dumps({"stack": stack, "outcomes": results}, indent=0, sort_keys=True) + "\n"
        write_atomically(args.record, lambda stream: stream.write(text.encode()))
        return 0
    with open(args.reference) as stream:
        home = json.load(stream)["outcomes"]
    compared = [name for name in results if name in home]
    differences = [(name, differ(results[name], home[name])) for name in compared]
    differences = [(name, why) for name, why in differences if why]
    for name, why in differences[:args.show]:
        print("DIFFERS: %s: %s" % (name, why))
    print("%d of %d compared with home agree; %d differ; %d not in home's record"
          % (len(compared) - len(differences), len(compared), len(differences), len(results) - len(compared)))
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
