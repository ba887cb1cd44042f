"""make theano-diff's corpus and comparison (tests/theano_suite/diff.py), and a slice of it against home's record.

The slice (int32 and float32 tensors with every boundary literal, on Theano's Python
linker) is evaluated here, on this Python and NumPy, and must match what the home stack
(Python 3.11, NumPy 1.23.5) recorded in diff_home.json.
"""
import importlib.util
import json
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.join(HERE, "theano_suite")


@pytest.fixture(scope="module")
def diff():
    spec = importlib.util.spec_from_file_location("theano_diff", os.path.join(SUITE, "diff.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def home(diff):
    with open(diff.REFERENCE) as stream:
        return json.load(stream)["outcomes"]


def test_the_record_covers_the_corpus(diff, home):
    names = [name for name, _, _ in diff.corpus()]
    assert len(names) == len(set(names)) >= 300
    assert {"py: " + name for name in names} <= set(home)
    assert {"c: " + name for name, _, _ in diff.c_sample(diff.corpus())} <= set(home)
    # Every tensor dtype meets every boundary literal.
    for dtype in diff.TENSOR_DTYPES:
        for value in diff.INT_LITERALS:
            assert "%s | add(x, %r)" % (dtype, value) in names


def test_differ(diff):
    assert diff.differ(["int32", [1, 2]], ["int32", [1, 2]]) is None
    assert diff.differ(["float64", [1, 2]], ["int32", [1, 2]]) == "float64 here, int32 at home"
    assert diff.differ(["int16", [1, 3]], ["int16", [1, 2]]).startswith("values")
    assert diff.differ(["float32", [1.0000001]], ["float32", [1.0]]) is None
    assert diff.differ(["float32", [1.00001]], ["float32", [1.0]]) is not None
    assert diff.differ(["float64", [float("nan")]], ["float64", [float("nan")]]) is None
    assert diff.differ(["raises", "TypeError"], ["int32", [1]]) == "raises here, int32 at home"
    assert diff.differ(["raises", "TypeError"], ["raises", "OverflowError"]) is not None


def test_boundary_literals_as_at_home(genre_mlp, diff, home):
    genre_mlp.theano  # Theano imported as the lesson imports it
    import theano
    chosen = [e for e in diff.corpus() if e[2] in ("int32", "float32")
              and any(e[0].endswith("| add(x, %r)" % value) or e[0].endswith("| %r * x" % value)
                      for value in diff.INT_LITERALS)]
    assert len(chosen) == 2 * 2 * len(diff.INT_LITERALS)
    mode = theano.compile.Mode(linker="py", optimizer="fast_compile")
    here = diff.evaluate(chosen, mode)
    differing = {name: diff.differ(outcome, home["py: " + name]) for name, outcome in here.items()}
    assert {name: why for name, why in differing.items() if why} == {}
