"""A pytest plugin (`-p harness`) that runs Theano 1.0.5's own test modules against the project's glue.

run.py starts one pytest per module with it. Theano is imported as genre_mlp.py imports
it (theano_today.theano_setup.import_theano: the flags, BLIS, the NumPy 2 mends), and
the few stand-ins below let the 2017-2020 test code itself run under pytest 9 on
NumPy 2. Each lives only in this test process and reaches neither NumPy nor Theano:
the nose modules go into sys.modules (no library imports nose), numpy.testing.dec is
an attribute of numpy.testing only (which no library code reads), and the removed
NumPy names (and NumPy 1's np.dtype(np.number) and int wrap in np.array) are given to each test module's own `np`,
not to NumPy.
"""
import inspect
import itertools
import os
import sys
import types
import unittest

import numpy as np
import pytest

from theano_today import theano_numpy2
from theano_today.theano_setup import import_theano


def nose_stand_in(modules=sys.modules):
    """nose.tools and nose.plugins as the test modules use them: nose itself imports `imp`, gone in 3.12."""
    try:
        import nose  # noqa: F401
        return False
    except ImportError:
        pass
    case = unittest.TestCase("__init__")
    tools = types.ModuleType("nose.tools")
    tools.assert_raises, tools.assert_true = case.assertRaises, case.assertTrue
    tools.assert_equal = tools.assert_equals = case.assertEqual

    def raises(*exceptions):
        """nose's @raises: the test passes only when it raises one of `exceptions`."""
        def decorate(test):
            def wrapped(*args, **kwargs):
                with pytest.raises(exceptions):
                    test(*args, **kwargs)
            wrapped.__name__, wrapped.__doc__ = test.__name__, test.__doc__
            return wrapped
        return decorate
    tools.raises = raises
    skip = types.ModuleType("nose.plugins.skip")
    skip.SkipTest = unittest.SkipTest  # nose's own SkipTest is this class

    def attr(*names, **values):
        def decorate(test):
            for name in names:
                setattr(test, name, True)
            for name, value in values.items():
                setattr(test, name, value)
            return test
        return decorate
    attrib = types.ModuleType("nose.plugins.attrib")
    attrib.attr = attr
    plugins = types.ModuleType("nose.plugins")
    plugins.skip, plugins.attrib = skip, attrib
    nose = types.ModuleType("nose")
    nose.tools, nose.plugins = tools, plugins
    modules.update({"nose": nose, "nose.tools": tools, "nose.plugins": plugins,
                    "nose.plugins.skip": skip, "nose.plugins.attrib": attrib})
    return True


def testing_dec_stand_in():
    """numpy.testing.dec.skipif, which tensor/tests/test_basic.py imports: NumPy 1.25 removed `dec`."""
    import numpy.testing
    if hasattr(numpy.testing, "dec"):
        return False
    numpy.testing.dec = types.SimpleNamespace(
        skipif=lambda condition, message="": pytest.mark.skipif(condition, reason=message or "skipped"))
    return True


def find_common_type(array_types, scalar_types):
    """NumPy 1's np.find_common_type: the arrays' type, unless a scalar type is of a higher kind."""
    arrays = np.result_type(*array_types) if array_types else None
    scalars = np.result_type(*scalar_types) if scalar_types else None
    if arrays is None or scalars is None:
        return arrays if scalars is None else scalars
    kinds = "biufc"
    if kinds.index(scalars.kind) > kinds.index(arrays.kind):
        return np.promote_types(scalars, arrays)
    return arrays


class _Cast:
    """NumPy 1's np.cast: np.cast[dtype](x) is x as an array of dtype."""

    def __getitem__(self, dtype):
        return lambda value: np.asarray(value).astype(dtype)


# NumPy 1's np.dtype of an abstract scalar class (with a DeprecationWarning); NumPy 2 raises TypeError.
NUMPY1_ABSTRACT_DTYPES = {np.number: "float64", np.inexact: "float64", np.floating: "float64",
                          np.complexfloating: "complex128", np.integer: "int64", np.signedinteger: "int64",
                          np.unsignedinteger: "uint64"}


def numpy1_dtype(obj, *args, **kwargs):
    """np.dtype, reading np.number and its abstract kin as NumPy 1 did: test_basic's get_numeric_subclasses
    (behind test_arithmetic_cast) calls np.dtype(np.number)."""
    return np.dtype(NUMPY1_ABSTRACT_DTYPES.get(obj, obj) if isinstance(obj, type) else obj, *args, **kwargs)


def numpy1_array(obj, dtype=None, *args, **kwargs):
    """np.array, wrapping out-of-range ints as NumPy 1 did: test_elemwise's oracle reduce_bitwise_and
    writes np.array((-1,), dtype='uint8') for the all-ones identity (255)."""
    try:
        return np.array(obj, dtype, *args, **kwargs)
    except OverflowError:
        if dtype is None or args or kwargs or np.dtype(dtype).kind not in "iu":
            raise
        return theano_numpy2.wrapped_int(obj, dtype)


def numpy_refuses_abstract_dtypes():
    try:
        np.dtype(np.number)
        return False
    except TypeError:
        return True


# Names NumPy 2 removed that the test modules themselves call (tensor/tests/test_basic.py,
# test_elemwise.py, nnet/tests/test_nnet.py, test_extra_ops.py, test_subtensor.py: np.product). MAXDIMS is NumPy 2's limit,
# 64 dimensions (test_elemwise's test_too_big_rank builds a graph of MAXDIMS + 1).
TEST_NAMES = {"find_common_type": find_common_type, "MAXDIMS": 64, "cast": _Cast(), "product": np.prod}


def pure_python_pickle(module):
    """A test module's own `pickle` with the pure-Python Pickler: test_function_module's
    test_broken_pickle_with_shared sets persistent_id on a Pickler, which 3.13's C one refuses."""
    import pickle
    if sys.version_info >= (3, 13) and getattr(module, "pickle", None) is pickle:
        module.pickle = theano_numpy2._PickleWithPurePython("pickle")
        module.pickle.Pickler, module.pickle.Unpickler = pickle._Pickler, pickle._Unpickler


def give_test_module_names(module):
    """The removed names, in one test module's own `np` only; none where NumPy still has them."""
    pure_python_pickle(module)
    missing = {name: value for name, value in TEST_NAMES.items() if name not in vars(np)}
    if numpy_refuses_abstract_dtypes():  # NumPy 2
        missing.update(dtype=numpy1_dtype, array=numpy1_array)
    if missing and getattr(module, "np", None) is not None:
        theano_numpy2.give_numpy_names(module, **missing)
    return sorted(missing)


def pytest_configure(config):
    nose_stand_in()
    testing_dec_stand_in()
    import_theano()  # exactly as genre_mlp.py does, before any test module imports Theano
    config.addinivalue_line("markers", "theano_suite: Theano 1.0.5's own tests")
    config.yield_tests = []


class YieldCase(pytest.Item):
    """The index-th case a nose-style yield test yields, `test(*args)`, run as a test of its own (name[index]).

    As under nose, the case is called while its generator stands at it: a case may read
    the generator's loop variables (test_basic's test_triangle checks the current dtype).
    """

    def __init__(self, *, make_generator, index, **kwargs):
        super().__init__(**kwargs)
        self.make_generator, self.index = make_generator, index

    def runtest(self):
        generator = self.make_generator()
        case = next(itertools.islice(generator, self.index, None))
        test, args = (case[0], tuple(case[1:])) if isinstance(case, tuple) else (case, ())
        try:
            test(*args)
        finally:
            generator.close()

    def reportinfo(self):
        return self.path, None, self.name


def yielded_cases(parent, name, make_generator):
    """One case per yield of the generator `make_generator()` returns, counted at collection
    (the generator only makes the cases); an error there is one failing case."""
    try:
        count = sum(1 for _ in make_generator())
    except Exception as error:  # noqa: BLE001 (reported as that test's failure)
        def raise_it(error=error):
            raise error
        return [YieldCase.from_parent(parent, name=name + "[0]", make_generator=lambda: iter([raise_it]), index=0)]
    return [YieldCase.from_parent(parent, name="%s[%d]" % (name, index), make_generator=make_generator, index=index)
            for index in range(count)]


def bound_generator(cls, name):
    """The method `name` of a fresh, set-up instance of `cls` (a unittest class is made with its name)."""
    instance = cls(name) if issubclass(cls, unittest.TestCase) else cls()
    if hasattr(instance, "setUp"):
        instance.setUp()
    return getattr(instance, name)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector, name, obj):
    module = collector.getparent(pytest.Module)
    if module is not None and not getattr(module, "names_given", False):
        module.names_given = True
        give_test_module_names(module.obj)
    # nose-style yield tests, which pytest 9 refuses (and with them the whole module): one case per yield.
    if collector.funcnamefilter(name) and inspect.isgeneratorfunction(obj):
        if isinstance(collector, pytest.Class):
            return yielded_cases(collector, name, lambda: bound_generator(collector.obj, name)())
        return yielded_cases(collector, name, obj)
    return None


def place_testers(items):
    """A tester made by test_basic's makeTester names the module that holds it, as its setUp checks.

    makeTester's classes say they are test_basic's; setUp's check_name evals
    "<__module__>.<name>", which fails for the testers test_sigm and test_nnet make
    (SigmoidTester, SoftplusTester, ...) before a single value is compared.
    """
    for item in items:
        cls, module = getattr(item, "cls", None), item.getparent(pytest.Module)
        if cls is None or module is None or not getattr(cls, "check_name", False):
            continue
        home = sys.modules.get(cls.__module__)
        if getattr(module.obj, cls.__name__, None) is cls and getattr(home, cls.__name__, None) is not cls:
            cls.__module__ = module.obj.__name__


def pytest_collection_modifyitems(config, items):
    place_testers(items)
    # Yield tests inside unittest classes: unittest would call them, get a generator, and pass.
    expanded = []
    for item in items:
        if inspect.isgeneratorfunction(getattr(item, "obj", None)) and getattr(item, "cls", None) is not None:
            cls, name = item.cls, item.name
            expanded += yielded_cases(item.parent, name, lambda cls=cls, name=name: bound_generator(cls, name)())
            config.yield_tests.append(item.nodeid)
        else:
            expanded.append(item)
    items[:] = expanded


def pytest_terminal_summary(terminalreporter, config):
    if config.yield_tests:
        terminalreporter.write_line("harness: %d nose-style yield tests in unittest classes run as one case per yield"
                                    % len(config.yield_tests))


def pytest_runtest_logreport(report):
    # Each test's outcome as it ends, for run.py: a module stopped at its time cap keeps what it reached.
    path = os.environ.get("THEANO_SUITE_OUTCOMES")
    if not path or not (report.when == "call" or report.outcome != "passed"):
        return
    outcome = "failed" if report.failed else report.outcome
    with open(path, "a") as outcomes:
        outcomes.write("%s\t%s\n" % (report.nodeid, outcome))
