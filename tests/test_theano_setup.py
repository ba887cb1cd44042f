"""The compatibility glue: flags merged without overriding the user, NumPy aliases restored."""
import logging
import os
import subprocess
import sys
import types

import pytest

from conftest import ROOT
from theano_today import theano_compile, theano_setup


# What numpy2_c_flags must give on NumPy 2 (the only NumPy requirements.txt installs), written out.
NUMPY2_FLAGS = ("-DNPY_PY3K=1 -DNPY_TARGET_VERSION=NPY_2_0_API_VERSION -DPyInt_AsLong=PyLong_AsLong "
                "-DPyInt_Check=PyLong_Check -DPyInt_FromLong=PyLong_FromLong")


def venv_blas():
    """(blas.ldflags, name) for this venv, worked out from its files: BLIS if make setup put it
    there, else the scipy-openblas32 wheel's library with the routines' names mapped."""
    blis = os.path.join(sys.prefix, "lib", "blis")
    if os.path.isfile(os.path.join(blis, "libblis.so")):
        with open(os.path.join(blis, "VERSION")) as text:
            version = text.read().split("-")[0]
        return ("-L%s -lblis -Xlinker -rpath=%s" % (blis, blis),
                "BLIS %s (Debian's libblis4-serial, in the venv)" % version)
    import scipy_openblas32
    lib = os.path.join(os.path.dirname(scipy_openblas32.__file__), "lib")
    names = ("sgemm", "dgemm", "sgemv", "dgemv", "sger", "dger", "sdot", "ddot")
    return (" ".join(["-L" + lib, "-lscipy_openblas", "-Xlinker", "-rpath=" + lib]
                     + ["-D%s_=scipy_%s_" % (name, name) for name in names]),
            "OpenBLAS (scipy-openblas32 wheel)")


def test_defaults_added_when_user_sets_nothing(tmp_path):
    flags, blas = theano_setup.merged_flags({"THEANORC": str(tmp_path / "none")})
    assert theano_setup.parse_flags(flags) == {"floatX": "float32", "blas.ldflags": venv_blas()[0],
                                               "allow_gc": "False", "openmp": "True", "gcc.cxxflags": NUMPY2_FLAGS}
    assert blas == venv_blas()[1]
    assert "," not in venv_blas()[0]  # Theano would split it there


def test_user_flags_are_kept_and_win(tmp_path):
    user = "floatX=float64,blas.ldflags=-lmyblas,optimizer=fast_compile,allow_gc=True"
    flags, blas = theano_setup.merged_flags({"THEANO_FLAGS": user, "THEANORC": str(tmp_path / "none")})
    # Later keys win in Theano, so the user's come last; only NumPy 2's C flags follow them.
    assert flags.endswith(user + ",gcc.cxxflags=" + NUMPY2_FLAGS)
    parsed = theano_setup.parse_flags(flags)
    assert parsed == {"floatX": "float64", "blas.ldflags": "-lmyblas", "optimizer": "fast_compile",
                      "allow_gc": "True", "openmp": "True", "gcc.cxxflags": NUMPY2_FLAGS}
    assert blas == "as set by you"


def test_theanorc_settings_are_not_overridden(tmp_path):
    rc = tmp_path / "theanorc"
    rc.write_text("[global]\nfloatX = float64\nallow_gc = True\nopenmp = False\n[blas]\nldflags = -lblas\n")
    flags, _ = theano_setup.merged_flags({"THEANORC": str(rc), "THEANO_FLAGS": "device=cpu"})
    assert theano_setup.parse_flags(flags) == {"device": "cpu", "gcc.cxxflags": NUMPY2_FLAGS}


def test_blas_ldflags_in_the_home_theanorc_wins(tmp_path, monkeypatch):
    # No THEANORC: Theano reads ~/.theanorc, so must the set-up.
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".theanorc").write_text("[blas]\nldflags = -lmyblas\n")
    flags, blas = theano_setup.merged_flags({"THEANO_FLAGS": "device=cpu"})
    assert theano_setup.parse_flags(flags) == {"floatX": "float32", "allow_gc": "False", "openmp": "True",
                                               "device": "cpu", "gcc.cxxflags": NUMPY2_FLAGS}
    assert blas == "as set by you"


def test_openmp_threads_wait_without_spinning():
    # genre_cnn.py's convolutions run on every core (openmp=True, above); OpenMP threads that spin
    # while they wait took 24 ms an update with one core busy, against 13 ms passive (docs/speed.md).
    import os
    assert os.environ.get("OMP_WAIT_POLICY") == "PASSIVE" or "OMP_WAIT_POLICY" in theano_setup.USERS_OWN
    import genre_cnn  # noqa: F401
    import theano
    assert theano.config.openmp


# Theano itself, started as the script starts it, with a ~/.theanorc of the user's in a new HOME.
USERS_THEANORC = """
import os, sys
from theano_today.theano_setup import import_theano
theano, blas = import_theano()
print(theano.config.blas.ldflags)
print(blas)
print(os.environ.get("THEANO_FLAGS", "unset"))
"""


def test_theano_uses_the_blas_ldflags_of_the_home_theanorc(tmp_path):
    # The venv's own BLAS, with one more folder to search, so that it links and is told apart.
    mine = venv_blas()[0] + " -L" + str(tmp_path)
    (tmp_path / ".theanorc").write_text("[global]\nbase_compiledir = %s\n[blas]\nldflags = %s\n"
                                        % (os.path.expanduser("~/.theano"), mine))  # a warm cache
    env = {key: value for key, value in os.environ.items() if key not in ("THEANO_FLAGS", "THEANORC")}
    result = subprocess.run([sys.executable, "-c", USERS_THEANORC], cwd=ROOT, capture_output=True, text=True,
                            env=dict(env, HOME=str(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [mine, "as set by you", "unset"]


OPENBLAS_THREADS = """
import ctypes, glob, os
from theano_today import theano_setup  # before NumPy loads its OpenBLAS, as in genre_mlp.py
import numpy
# The OpenBLAS of NumPy's wheel, already loaded: dlopen of the same file hands back that copy.
library, = glob.glob(os.path.join(os.path.dirname(numpy.__file__), os.pardir, "numpy.libs", "libscipy_openblas*.so*"))
print(os.environ.get("OPENBLAS_NUM_THREADS"), ctypes.CDLL(library).scipy_openblas_get_num_threads64_())
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="OpenBLAS runs no more threads than there are cores")
@pytest.mark.parametrize("users, expected", [(None, "1 1"), ("2", "2 2")])
def test_openblas_threads_are_one_unless_the_user_sets_them(users, expected):
    env = {key: value for key, value in os.environ.items() if key != "OPENBLAS_NUM_THREADS"}
    if users:
        env["OPENBLAS_NUM_THREADS"] = users
    result = subprocess.run([sys.executable, "-c", OPENBLAS_THREADS], cwd=ROOT, capture_output=True, text=True,
                            env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected  # the variable, and the threads NumPy's OpenBLAS runs


def test_only_the_unset_key_is_added(tmp_path):
    rc = tmp_path / "theanorc"
    rc.write_text("[global]\nfloatX = float16\n")
    flags, _ = theano_setup.merged_flags({"THEANORC": str(rc)})
    assert set(theano_setup.parse_flags(flags)) == {"blas.ldflags", "allow_gc", "openmp", "gcc.cxxflags"}


@pytest.mark.parametrize("where", ["THEANO_FLAGS", ".theanorc"])
def test_users_own_cxxflags_are_kept_after_numpy2s(tmp_path, where):
    rc = tmp_path / "theanorc"
    environ = {"THEANORC": str(rc)}
    if where == "THEANO_FLAGS":
        environ["THEANO_FLAGS"] = "gcc.cxxflags=-O1 -Wall"
    else:
        rc.write_text("[gcc]\ncxxflags = -O1 -Wall\n")
    flags, _ = theano_setup.merged_flags(environ)
    # The last gcc.cxxflags is the one Theano keeps: NumPy 2's definitions, then the user's.
    assert flags.rsplit(",", 1)[1] == "gcc.cxxflags=" + NUMPY2_FLAGS + " -O1 -Wall"


def test_numpy2_c_flags_only_on_numpy_2():
    assert theano_setup.numpy2_c_flags(types.SimpleNamespace(__version__="1.26.4")) == []
    assert "-DNPY_PY3K=1" in theano_setup.numpy2_c_flags(types.SimpleNamespace(__version__="2.3.5"))


# Theano's own lazy linker, and the field access its ops make, compiled against this
# NumPy's headers with NumPy 2's C flags, and with each of them left out in turn.
ELSIZE = "#include <numpy/arrayobject.h>\nint item_size(PyArrayObject *a) { return PyArray_DESCR(a)->elsize; }\n"


def syntax_errors(source, flags):
    import sysconfig
    import numpy as np
    import theano
    c_code = os.path.join(os.path.dirname(theano.gof.__file__), "c_code")  # the lazy linker's own header
    command = ["g++", "-fsyntax-only", "-x", "c++", "-I" + sysconfig.get_paths()["include"], "-I" + c_code,
               "-I" + np.get_include(), "-DNPY_NO_DEPRECATED_API=NPY_1_7_API_VERSION"] + flags + ["-"]
    result = subprocess.run(command, input=source, capture_output=True, text=True)
    return [line for line in result.stderr.splitlines() if "error" in line]


@pytest.fixture(scope="module")
def lazylinker_source(genre_mlp):
    path = os.path.join(os.path.dirname(genre_mlp.theano.gof.__file__), "c_code", "lazylinker_c.c")
    with open(path) as source:
        return source.read()


def test_theanos_c_code_compiles_on_numpy_2_with_its_flags(lazylinker_source):
    flags = theano_setup.numpy2_c_flags()
    assert flags, "NumPy 2 is the only NumPy requirements.txt installs"
    assert syntax_errors(lazylinker_source, flags) == []
    assert syntax_errors(ELSIZE, flags) == []


@pytest.mark.parametrize("left_out", ["NPY_PY3K", "NPY_TARGET_VERSION", "PyInt_AsLong", "PyInt_Check",
                                      "PyInt_FromLong"])
def test_each_numpy2_c_flag_is_needed(lazylinker_source, left_out):
    flags = [flag for flag in theano_setup.numpy2_c_flags() if not flag.startswith("-D" + left_out)]
    assert len(flags) == len(theano_setup.numpy2_c_flags()) - 1
    source = ELSIZE if left_out == "NPY_TARGET_VERSION" else lazylinker_source
    assert syntax_errors(source, flags), "%s compiled without -D%s" % (source[:40], left_out)


def test_precompiled_header_gets_numpy2s_definitions(genre_mlp):
    from theano.gof import cmodule
    common = set(cmodule.GCC_compiler.compile_args())
    preargs = list(cmodule.GCC_compiler.compile_args()) + ["-Dsgemm_=scipy_sgemm_"]
    flags = theano_compile.header_flags(preargs, common)
    assert set(theano_setup.numpy2_c_flags()) <= set(flags)  # the .gch is built with them ...
    assert "-Dsgemm_=scipy_sgemm_" not in flags  # ... and not with an op's own


@pytest.mark.parametrize("before", [{}, {"THEANO_FLAGS": "device=cpu"}, {"THEANO_FLAGS": ""}])
def test_theano_flags_are_given_back_after_the_import(genre_mlp, tmp_path, before):
    # Theano is imported already (genre_mlp): this runs the set-up around a no-op import.
    environ = dict(before, THEANORC=str(tmp_path / "none"))
    theano, blas = theano_setup.import_theano(environ)
    assert environ == dict(before, THEANORC=str(tmp_path / "none"))
    assert blas == venv_blas()[1] and theano is genre_mlp.theano


def test_numpy_aliases_restored_only_where_missing():
    fake = types.ModuleType("numpy")
    fake.bool = "kept"
    theano_setup.restore_numpy_aliases(fake)
    assert fake.bool == "kept"
    assert fake.complex is complex and fake.float is float and fake.object is object


def test_gpu_reason_is_one_phrase():
    def record(error):
        return logging.LogRecord("theano.gpuarray", logging.ERROR, "", 0, "x", (), (type(error), error, None))
    missing = record(ImportError("No module named 'pygpu'"))
    assert theano_setup.gpu_failure_reason([missing]) == "pygpu is not installed (it is not on PyPI)"
    no_driver = record(RuntimeError('Could not load "libcuda.so": no such file\nmore detail'))
    assert theano_setup.gpu_failure_reason([no_driver]) == 'Could not load "libcuda.so": no such file'
    from_pygpu = record(RuntimeError(b'Could not load "libcuda.so": not found'))
    assert theano_setup.gpu_failure_reason([from_pygpu]) == 'Could not load "libcuda.so": not found'


COUNT_COMPILES = """
import sys
import genre_mlp
from theano.gof import cmodule
compiled = []
original = cmodule.GCC_compiler.compile_str
def counting(*args, **kwargs):
    # Theano passes module_name by keyword (cc.py), other callers by position.
    compiled.append(kwargs.get("module_name", args[0] if args else None))
    return original(*args, **kwargs)
cmodule.GCC_compiler.compile_str = staticmethod(counting)
exec(sys.argv[1])
print(len(compiled))
"""


def compiles(statement, env=None):
    """How many C modules Theano compiles for `statement`, run in a new process after the import."""
    result = subprocess.run([sys.executable, "-c", COUNT_COMPILES, statement], cwd=ROOT, capture_output=True,
                            text=True, env=env)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip().splitlines()[-1])


def test_a_second_process_compiles_nothing(compiled):
    # The session's model is compiled, so the cache holds every module the network needs:
    # a new process must find them all (Theano 1.0.5 alone recompiles Dot22 and DimShuffle).
    assert compiles("genre_mlp.Model()") == 0


def test_the_compile_counter_counts(tmp_path):
    # The same counter in an empty compile cache: a small new function must be counted.
    flags = ",".join(filter(None, [os.environ.get("THEANO_FLAGS", ""), "base_compiledir=%s" % tmp_path]))
    statement = ("x = genre_mlp.theano.tensor.vector()\n"
                 "genre_mlp.theano.function([x], genre_mlp.theano.tensor.exp(x) * 3)")
    assert compiles(statement, env=dict(os.environ, THEANO_FLAGS=flags)) > 0


def test_header_flags_keep_code_generation_and_theanos_own_macros():
    common = {"-DNPY_NO_DEPRECATED_API=NPY_1_7_API_VERSION", "-fPIC"}
    preargs = ["-O3", "-fno-math-errno", "-DNPY_NO_DEPRECATED_API=NPY_1_7_API_VERSION", "-fPIC",
               "-Dsgemm_=scipy_sgemm_", "-L/blas", "-lscipy_openblas", "-Xlinker", "-rpath=/blas", "-I/inc"]
    assert theano_compile.header_flags(preargs, common) == [
        "-O3", "-fno-math-errno", "-DNPY_NO_DEPRECATED_API=NPY_1_7_API_VERSION", "-fPIC", "-g0"]


# A first run in an empty compile directory: it says once why it waits, builds the
# precompiled header and remembers g++'s -march flags; the next run compiles nothing,
# probes nothing and says nothing. Two small functions, not the lesson's network.
COLD_RUN = """
import subprocess, sys
commands = []
original = subprocess.Popen.__init__
def recording(self, args, *rest, **options):
    commands.append(" ".join(args) if isinstance(args, (list, tuple)) else str(args))
    original(self, args, *rest, **options)
subprocess.Popen.__init__ = recording
from theano_today.theano_setup import import_theano
theano, _ = import_theano()
import numpy as np
x = theano.tensor.vector()
first = theano.function([x], theano.tensor.exp(x) * 2)
second = theano.function([x], theano.tensor.sqrt(x) + 3)
values = np.array([1.0, 4.0], dtype=np.float32)
np.testing.assert_allclose(first(values), np.exp(values) * 2, rtol=1e-6)
np.testing.assert_allclose(second(values), np.sqrt(values) + 3, rtol=1e-6)
print("march probes:", sum("-march=native" in command for command in commands))
print("compiledir:", theano.config.compiledir)
"""


def test_first_compile_says_so_once_and_later_runs_skip_the_probes(tmp_path):
    env = dict(os.environ, THEANO_FLAGS="base_compiledir=%s" % tmp_path)
    runs = [subprocess.run([sys.executable, "-c", COLD_RUN], cwd=ROOT, env=env, capture_output=True, text=True)
            for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
    first, second = runs
    assert first.stderr.count("notice: Compiling the network to C, once") == 1
    assert "notice" not in second.stderr
    compiledir = first.stdout.split("compiledir: ")[1].strip()
    assert os.path.isfile(os.path.join(compiledir, "march_flags.txt"))
    assert any(name.endswith(".h.gch") for name in os.listdir(os.path.join(compiledir, "precompiled_header")))
    assert "march probes: 0" in second.stdout


# A function of several new modules compiled in an empty compile directory: g++ runs
# for them in the pool's threads, not one after another in Theano's; with "broken",
# every g++ of the pool fails and Theano's own path must build them all the same.
POOL_RUN = """
import subprocess, sys, threading
builds = []
original = subprocess.Popen.__init__
def recording(self, args, *rest, **options):
    if isinstance(args, (list, tuple)) and any(str(arg).endswith("mod.cpp") for arg in args):
        builds.append("theano" if threading.current_thread() is threading.main_thread() else "pool")
    original(self, args, *rest, **options)
subprocess.Popen.__init__ = recording
from theano_today.theano_setup import import_theano
theano, _ = import_theano()
from theano_today import theano_compile
if sys.argv[1] == "broken":
    theano_compile.Job.extra = lambda job: ["-include", "/no/such/header.h"]
import numpy as np
T = theano.tensor
x, w = T.matrix(), T.matrix()
f = theano.function([x, w], [T.tanh(T.dot(x, w)).sum(axis=1), T.exp(x).max(axis=0) * 3])
rng = np.random.RandomState(0)
a, b = rng.randn(5, 4).astype(theano.config.floatX), rng.randn(4, 3).astype(theano.config.floatX)
rows, peaks = f(a, b)
np.testing.assert_allclose(rows, np.tanh(a @ b).sum(axis=1), rtol=1e-5)
np.testing.assert_allclose(peaks, np.exp(a).max(axis=0) * 3, rtol=1e-5)
print("pool:", builds.count("pool"), "theano:", builds.count("theano"))
"""


def pool_builds(directory, how):
    """(g++ runs in the pool, g++ runs in Theano's own path) for POOL_RUN in `directory`."""
    temporary = os.path.join(str(directory) + "-tmp")  # the pool's folders for each g++ run
    os.makedirs(temporary, exist_ok=True)
    env = dict(os.environ, THEANO_FLAGS="base_compiledir=%s" % directory, TMPDIR=temporary)
    run = subprocess.run([sys.executable, "-c", POOL_RUN, how], cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert os.listdir(temporary) == []  # none left behind, whether its g++ runs worked or failed
    assert "Compilation failed" not in run.stdout + run.stderr
    words = run.stdout.split("pool:")[1].split()
    return int(words[0]), int(words[2])


def test_a_cold_compile_runs_gcc_in_the_pool_and_a_warm_one_not_at_all(tmp_path):
    pool, theano = pool_builds(tmp_path, "normal")
    assert pool >= 3 and pool > theano
    assert pool_builds(tmp_path, "normal") == (0, 0)


@pytest.mark.once
def test_when_the_pools_gcc_fails_theano_compiles_as_usual(tmp_path):
    normal_pool, normal_theano = pool_builds(tmp_path / "normal", "normal")
    pool, theano = pool_builds(tmp_path / "broken", "broken")
    assert pool == normal_pool  # each failed, quietly ...
    assert theano == normal_theano + normal_pool  # ... and Theano built those modules itself


def test_imported_modules_are_hidden_from_the_garbage_collector(genre_mlp):
    # import_theano froze what the import made; the collector's full passes skip it.
    import gc
    import theano.tensor
    assert gc.get_freeze_count() > 50000
    assert all(obj is not vars(theano.tensor) for obj in gc.get_objects(2))  # not in the oldest generation


def test_theano_gets_the_scipy_it_would_get_without_the_import_skips(genre_mlp):
    # What the skipped imports would give Theano: the helpers are gone from today's SciPy.
    result = subprocess.run([sys.executable, "-W", "ignore", "-c",
                             "from scipy.signal.signaltools import _valfrommode, _bvalfromboundary, convolve"],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "ImportError: cannot import name '_valfrommode'" in result.stderr
    import theano.scalar.basic_scipy
    import theano.tensor.nnet.abstract_conv
    assert theano.tensor.nnet.abstract_conv.imported_scipy_signal is False  # as without the skip
    assert theano.scalar.basic_scipy.imported_scipy_special is True          # scipy.special is real
    # Blocked during Theano's import only: absent, or imported for real by a later test.
    assert sys.modules.get("scipy.signal.signaltools", "absent") is not None


def test_scipy_stats_and_signal_work_when_first_used_after_the_import():
    code = ("import sys, math\n"
            "import genre_mlp\n"
            "genre_mlp.Model()\n"  # Theano's optimizer runs inspect, which asks every module for __file__
            "print('stats loaded at start:', 'scipy.stats._stats_py' in sys.modules)\n"
            "import scipy.stats\n"
            "assert math.isclose(scipy.stats.chi2.sf(3.0, 2), math.exp(-1.5))\n"
            "from scipy import stats\n"
            "assert stats.norm.cdf(0.0) == 0.5 and sys.modules['scipy.stats'].__file__\n"
            "import scipy.signal\n"
            "print(len(scipy.signal.resample_poly([1.0, 1.0, 1.0, 1.0], 2, 1)))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["stats loaded at start: False", "8"]


# ---------------------------------------------------------------------------
# Flags Theano does not know: one line before any work, not Theano's warning and a run
# ---------------------------------------------------------------------------
def test_the_flag_names_read_from_theanos_source_are_its_registry(genre_mlp):
    # The registry Theano builds as it imports (every AddConfigVar call that ran).
    registry = {param.fullname for param in genre_mlp.theano.configparser._config_var_list}
    assert theano_setup.theano_flag_names() == registry and len(registry) > 100


@pytest.mark.parametrize("flags, message", [
    ("devcie=cuda", "THEANO_FLAGS sets 'devcie', which is not a Theano flag (Theano would ignore it); "
                    "did you mean device?"),
    ("floatx=float32", "THEANO_FLAGS sets 'floatx', which is not a Theano flag (Theano would ignore it); "
                       "did you mean floatX?"),
    ("device=cpu,gcc.cxxflag=-O2", "THEANO_FLAGS sets 'gcc.cxxflag', which is not a Theano flag (Theano would "
                                   "ignore it); did you mean gcc.cxxflags?"),
    ("cuda", "THEANO_FLAGS holds 'cuda', which has no '=' (Theano would ignore it); did you mean device=cuda?"),
    ("device = cuda", "THEANO_FLAGS holds 'device = cuda', with spaces around '=' (Theano would read the key "
                      "'device '); write device=cuda"),
    ("qwxz=1", "THEANO_FLAGS sets 'qwxz', which is not a Theano flag (Theano would ignore it); "
               "no flag has a name like it"),
])
def test_an_unknown_flag_is_named_with_the_closest_one(tmp_path, flags, message):
    environ = {"THEANO_FLAGS": flags, "THEANORC": str(tmp_path / "none")}
    with pytest.raises(theano_setup.SetupError) as error:
        theano_setup.check_flag_names(environ)
    assert str(error.value) == message


def test_flags_theano_knows_pass_in_any_spelling_it_reads(tmp_path):
    rc = tmp_path / "theanorc"
    # Options without case (FLOATX), sections with dots, a [DEFAULT] for interpolation: all Theano's own.
    rc.write_text("[DEFAULT]\nroot = /tmp\n[global]\nFLOATX = float32\ndevice = cpu\nbase_compiledir = %(root)s/t\n"
                  "[gcc]\ncxxflags = -O2\n[dnn.conv]\nalgo_fwd = small\n")
    flags, _ = theano_setup.merged_flags({"THEANORC": str(rc)})
    environ = {"THEANO_FLAGS": flags + ",device=cuda,force_device=true,,'gcc.cxxflags=-O1 -Wall'",
               "THEANORC": str(rc)}
    theano_setup.check_flag_names(environ)  # raises if any of them were refused


def test_an_unknown_key_in_a_theanorc_is_named_with_its_file(tmp_path):
    rc = tmp_path / "theanorc"
    rc.write_text("[global]\nfloatX = float32\n[blas]\nldflag = -lblas\n")
    with pytest.raises(theano_setup.SetupError) as error:
        theano_setup.check_flag_names({"THEANORC": os.pathsep.join([str(tmp_path / "none"), str(rc)])})
    assert str(error.value) == ("%s sets ldflag in [blas], which is not a Theano flag (Theano would ignore it); "
                                "did you mean blas.ldflags?" % rc)


def test_an_unknown_flag_stops_the_script_before_any_work(small_file):
    flags = ",".join(filter(None, [os.environ.get("THEANO_FLAGS", ""), "devcie=cuda"]))
    result = subprocess.run([sys.executable, os.path.join(ROOT, "genre_mlp.py"), "--data", small_file],
                            capture_output=True, text=True, env=dict(os.environ, THEANO_FLAGS=flags))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == ("error: THEANO_FLAGS sets 'devcie', which is not a Theano flag (Theano would ignore "
                             "it); did you mean device?\n")
