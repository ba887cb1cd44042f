"""make theano-tests: Theano 1.0.5's own test modules, one pytest process per module, each under a time cap.

    python tests/theano_suite/run.py [--ci] [--record FILE] [--reference FILE] [--only PATH ...]

Theano is imported as genre_mlp.py imports it (harness.py). Prints a table per module
(run, passed, failed, skipped), and with --reference compares each test's outcome with
the home stack's (Python 3.11, NumPy 1.23.5: home_outcomes.txt, made with --record on
.venv-home): a test that passed at home and fails here fails the run, unless
AT_FAULT below says why the test itself is to blame.
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
REFERENCE = os.path.join(HERE, "home_outcomes.txt")

# (module under site-packages/theano, pytest -k selection or None, time cap in s, CI's part)
# Every module of tensor/tests, scalar/tests, gof/tests and compile/tests, whole, but
# test_mpi (MPI) and the two helper files that are no test modules. CI's part (--ci:
# False, True for the whole module, or a -k selection of its own) is what exercises the
# mended ops and the downcasting wrap, in about 150 s from a cold compile cache:
# max/argmax (without its gradient checks), sum, mean, reshape (test_basic),
# cumsum/cumprod (test_extra_ops), advanced indexing and inc_subtensor (test_subtensor),
# allow_input_downcast (pfunc, function), pickling with shared variables (function_module).
MODULES = [
    ("scalar/tests/test_basic.py", None, 300, False),
    ("scalar/tests/test_basic_sympy.py", None, 300, False),
    ("scalar/tests/test_div_future.py", None, 300, False),
    ("scalar/tests/test_div_no_future.py", None, 300, False),
    ("tensor/tests/test_elemwise.py", None, 900, False),
    ("tensor/tests/test_blas.py", None, 900, False),
    ("tensor/nnet/tests/test_nnet.py", None, 900, False),
    ("tensor/nnet/tests/test_sigm.py", None, 300, False),
] + [("gof/tests/%s.py" % name, None, 300, False) for name in (
    "test_cc", "test_op", "test_types", "test_link", "test_vm", "test_graph", "test_fg", "test_cmodule",
    "test_compiledir", "test_compute_test_value", "test_destroyhandler", "test_graph_opt_caching", "test_lazy",
    "test_opt", "test_optdb", "test_params_type", "test_sched", "test_toolbox", "test_utils")] + [
    ("compile/tests/test_function_module.py", None, 300, "T_picklefunction"),
    ("compile/tests/test_pfunc.py", None, 300, "downcast"),
    ("compile/tests/test_shared.py", None, 300, False),
    ("compile/tests/test_function.py", None, 300, True),
] + [("compile/tests/%s.py" % name, None, 300, False) for name in (
    "test_builders", "test_debugmode", "test_function_name", "test_misc", "test_mode", "test_modes",
    "test_monitormode", "test_nanguardmode", "test_ops", "test_profiling")] + [
    ("tensor/tests/%s.py" % name, None, 600, False) for name in (
        "test_casting", "test_complex", "test_keepdims", "test_inc_subtensor", "test_var", "test_misc",
        "test_merge", "test_xlogx", "test_utils", "test_type_other", "test_io", "test_gc", "test_opt_uncanonicalize",
        "test_sort", "test_sharedvar", "test_blas_c", "test_blas_scipy", "test_fourier", "test_fft", "test_nlinalg",
        "test_slinalg", "test_raw_random", "test_shared_randomstreams")] + [
    ("tensor/tests/test_extra_ops.py", None, 900, "TestCumOp"),
    ("tensor/tests/test_subtensor.py", None, 1200, "TestIncSubtensor1 or TestAdvancedSubtensor or (T_subtensor and (adv or inc))"),
    ("tensor/tests/test_opt.py", None, 1800, False),
    ("tensor/tests/test_basic.py", None, 3600,
     "(T_max_and_argmax and not test_grad) or T_min_max or T_sum or T_mean or T_reshape"),
]

# Tests that fail on NumPy 2 or Python 3.13 for a reason in the test's own code, not Theano's,
# with why: each compares Theano's output dtype, the same as at home, with its NumPy or
# SciPy oracle's, whose dtype NumPy 2 changed; the values agree (np.allclose).
ORACLE_CEIL = ("its oracle np.ceil/np.floor/np.trunc keeps an int input's dtype on NumPy 2 (int64);"
               " Theano's output is float64, as at home")
ORACLE_SCIPY = ("its SciPy oracle gives float64 for an int8 or uint8 input on NumPy 2 (float32 at home);"
                " Theano's output is float32, as at home")
AT_FAULT = dict(
    [("theano/tensor/tests/test_basic.py::%s::test_good" % tester, ORACLE_CEIL)
     for tester in ("CeilTester", "FloorTester", "TruncTester")]
    + [("theano/tensor/tests/test_basic.py::%s::test_good" % tester, ORACLE_SCIPY)
       for tester in ("ErfTester", "GammaTester", "GammalnTester", "I0Tester", "I1Tester", "J0Tester", "J1Tester",
                      "PsiTester", "TriGammaTester")])
AT_FAULT["theano/tensor/tests/test_extra_ops.py::test_Unique::test_basic_matrix"] = (
    "its oracle np.unique(matrix, return_inverse=True) gives the inverse in the matrix's shape on NumPy 2;"
    " Theano's is flat, as at home and as its infer_shape says (theano_numpy2.flat_unique_inverse)")


def run_module(path, selection, cap, site, compiledir):
    """{test id: outcome} for one module, whether it finished within `cap`, and its time."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as outcomes:
        env = dict(os.environ, THEANO_SUITE_OUTCOMES=outcomes.name,
                   PYTHONPATH=os.pathsep.join([ROOT, HERE]))
        # A cache of the suite's own (the tests compile many ops the lesson never does), kept in the venv.
        env["THEANO_FLAGS"] = ",".join(filter(None, ["base_compiledir=" + compiledir, os.environ.get("THEANO_FLAGS")]))
        command = [sys.executable, "-m", "pytest", "-c", os.path.join(HERE, "pytest.ini"), "--rootdir", site,
                   "-p", "harness", "-q", "-p", "no:cacheprovider", os.path.join(site, "theano", path)]
        if selection:
            command += ["-k", selection]
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, cwd=site, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            process.wait(timeout=cap)
            finished = True
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # with the g++ it started
            process.wait()
            finished = False
        seconds = time.monotonic() - started
        results = {}
        for line in outcomes:
            test, _, outcome = line.rstrip("\n").rpartition("\t")
            if results.get(test) not in ("failed",):
                results[test] = outcome
    return results, finished, seconds


def record(path, module, results):
    """Write one module's outcomes into the record at `path`, keeping the other modules' outcomes there."""
    import numpy
    sys.path.insert(0, ROOT)
    from lesson_helpers.files import write_atomically
    prefix = "theano/" + module + "::"
    kept = read_outcomes(path) if os.path.exists(path) else {}
    everything = dict({test: outcome for test, outcome in kept.items() if not test.startswith(prefix)}, **results)
    lines = ["# Each test's outcome: Python %s, NumPy %s, tests/theano_suite/run.py --record\n"
             % (sys.version.split()[0], numpy.__version__)]
    lines += ["%s\t%s\n" % item for item in sorted(everything.items())]
    # Atomically: a run stopped while writing keeps the record it had.
    write_atomically(path, lambda stream: stream.write("".join(lines).encode()))


def read_outcomes(path):
    with open(path) as text:
        return dict(line.rstrip("\n").rsplit("\t", 1) for line in text if line.strip() and not line.startswith("#"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ci", action="store_true", help="only the modules CI runs")
    parser.add_argument("--only", nargs="+", help="only these modules (paths as in MODULES)")
    parser.add_argument("--record", help="write every test's outcome to this file")
    parser.add_argument("--reference", help="compare with this file's outcomes (default: the home stack's)")
    parser.add_argument("--cap-scale", type=float, default=1.0, help="multiply every time cap")
    args = parser.parse_args(argv)
    import importlib.util
    import numpy
    # Found, not imported: harness.py imports Theano in each module's process, as genre_mlp.py does.
    site = os.path.dirname(os.path.dirname(importlib.util.find_spec("theano").origin))
    compiledir = os.path.join(sys.prefix, "theano-suite-cache")
    chosen = [(path, ci if args.ci and isinstance(ci, str) else selection, cap, ci)
              for path, selection, cap, ci in MODULES
              if (not args.ci or ci) and (not args.only or path in args.only)]
    if args.only:  # in the order given
        chosen.sort(key=lambda module: args.only.index(module[0]))
    reference = read_outcomes(args.reference or REFERENCE) if (args.reference or not args.record) else None
    print("Theano 1.0.5's own tests on Python %s, NumPy %s (%d modules)"
          % (sys.version.split()[0], numpy.__version__, len(chosen)), flush=True)
    print("%-40s %5s %6s %6s %7s %7s" % ("module", "run", "passed", "failed", "skipped", "time"), flush=True)
    everything, worse, total = {}, [], 0.0
    for path, selection, cap, _ in chosen:
        results, finished, seconds = run_module(path, selection, cap * args.cap_scale, site, compiledir)
        total += seconds
        everything.update(results)
        counts = {kind: sum(1 for o in results.values() if o == kind) for kind in ("passed", "failed", "skipped")}
        ran = counts["passed"] + counts["failed"]
        print("%-40s %5d %6d %6d %7d %6.0fs%s" % (path, ran, counts["passed"], counts["failed"], counts["skipped"],
                                                seconds, "" if finished else " (cap reached)"), flush=True)
        if reference is not None:
            worse += [test for test, outcome in sorted(results.items())
                      if outcome == "failed" and reference.get(test) == "passed"]
        if args.record:  # after each module: a run stopped keeps the modules it finished
            record(args.record, path, results)
    print("total %.0f s" % total)
    excused = [test for test in worse if test in AT_FAULT]
    for test in excused:
        print("passes at home, fails here, the test's own fault: %s (%s)" % (test, AT_FAULT[test]))
    worse = [test for test in worse if test not in AT_FAULT]
    for test in worse:
        print("FAILS HERE, PASSES AT HOME: %s" % test)
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
