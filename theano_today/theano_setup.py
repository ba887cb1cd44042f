"""Compatibility glue: what Theano 1.0.5 (2020) needs to import and run on today's Python.

genre_mlp.py calls import_theano() before anything else touches Theano. It

- restores the NumPy aliases that NumPy 1.24 removed (np.bool, np.complex, ...):
  Theano still uses them, and without np.complex it silently drops its
  log-sigmoid stability rewrites;
- puts back the modules Theano imports that Python 3.12 (`imp`) and NumPy 2
  (`numpy.distutils`, `numpy.linalg.linalg`) dropped (removed_modules);
- on NumPy 2, gives Theano's C code the names it used to get from NumPy 1's
  headers (numpy2_c_flags, through gcc.cxxflags), and mends the NumPy names Theano's Python code
  still calls, and its other NumPy 2 and Python 3.13 breaks (theano_today/theano_numpy2.py);
- spares Theano's import two SciPy modules it cannot or does not use
  (skip_unused_scipy_imports: 0.2 s of every start);
- puts defaults in front of THEANO_FLAGS for what the user did not set there or
  in a .theanorc: floatX=float32 (the lesson's dtype, and what GPUs want) and
  blas.ldflags linking a real BLAS (today's NumPy wheels no longer describe
  their BLAS, so Theano's own guess crashes at import, and its fallback through
  NumPy's C API is 4-10x slower), and allow_gc=False (intermediate arrays are
  kept between calls, not allocated at every update). These merged flags are
  in THEANO_FLAGS only while Theano is imported: the user's own THEANO_FLAGS is
  put back, so a process started from this one (a test, the benchmark) makes
  its own choice and reports it truly;
- keeps OpenBLAS to one thread unless the user chose otherwise;
- mends Theano's compile cache and shortens its compiling (theano_today/theano_compile.py);
- gives conv2d's CPU code (CorrMM) an im2col and col2im without a test per element: the
  same numbers, the second lesson's convolutions faster (theano_today/theano_corr.py);
- hides the imported modules' objects from the garbage collector (gc.freeze), whose
  passes would otherwise walk them again and again;
- with device=cuda, makes the NVIDIA libraries findable for libgpuarray
  (gpu_route/cuda_libs.py), or says in one line why the GPU cannot be used;
- refuses, in one line before any work, a THEANO_FLAGS or .theanorc key that Theano
  does not know (it would only warn and run on), naming the closest valid one;
- turns Theano's traceback about an unusable GPU, a missing package, a bad
  flag or a blas.ldflags of the user's that does not link into one line;
- says in one notice, instead of Theano's warnings, when there is no C++
  compiler (Theano then runs its Python code, hundreds of times slower) or
  when floatX=float16 is emulated on the CPU (and drops Theano's line per op).

All of it runs before or right after `import theano`; none of it is part of the lesson.
"""
import configparser
import ctypes.util
import difflib
import gc
import importlib
import importlib.util
import logging
import os
import re
import shlex
import sys
import types
import warnings

# One BLAS thread, set before NumPy or Theano loads a BLAS: batch-16 products are
# too small to gain from a second one, and on a busy machine OpenBLAS threads wait
# for each other (measured on 2 cores with another job running: 0.28 ms per
# update with one thread, 32 ms with two). OPENBLAS_NUM_THREADS overrides it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# OpenMP (the openmp flag below) spreads a convolution's excerpts over the cores. Its threads
# sleep while they wait rather than spin: on 2 cores, idle, genre_cnn.py's update takes 7 ms with
# OpenMP and 12 ms without; with another job on one core, 13 ms either way, where spinning
# threads took 24 ms. OMP_WAIT_POLICY overrides it.
USERS_OWN = {name for name in ("OMP_WAIT_POLICY",) if name in os.environ}  # kept as the user set them
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# The NumPy that requirements.txt pins for each supported Python: 2.3.5 is the
# newest with wheels for 3.11, 2.5.5 the one for 3.12 to 3.15.
NUMPY_PINS = {(3, 11): "2.3.5", (3, 12): "2.5.5", (3, 13): "2.5.5", (3, 14): "2.5.5", (3, 15): "2.5.5"}


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the project's folder


def install_command(python=None, root=ROOT):
    """The lesson's packages into `python` (this one by default), as the Makefile installs them, from any
    folder: setuptools first, then Theano built with theano_today/build_shims on PYTHONPATH, which its
    setup.py needs on Python 3.12 and later (there pip's build isolation would drop PYTHONPATH)."""
    requirements = os.path.join(root, "requirements.txt")
    try:
        with open(requirements) as lines:
            setuptools = [line.strip() for line in lines if line.startswith("setuptools==")][0]
    except (OSError, IndexError):
        setuptools = "setuptools"
    pip = "%s -m pip install" % shlex.quote(python or sys.executable)
    return "%s %s && PYTHONPATH=%s %s --no-build-isolation -r %s" % (
        pip, shlex.quote(setuptools), shlex.quote(os.path.join(root, "theano_today", "build_shims")), pip,
        shlex.quote(requirements))


def install_hint(version=None):
    """What to run to get the lesson's packages for the Python in use (or Python `version`, (3, 14))."""
    version = tuple(version or sys.version_info[:2])
    pin = NUMPY_PINS.get(version)
    if pin is None and version < (3, 11):
        return "Python %d.%d is not supported: use 3.11 to 3.15 (`make run` finds one)" % version
    hint = "run `make -C %s run` (a venv of its own), or install them into this Python: %s" % (
        shlex.quote(ROOT), install_command())
    if pin is None:  # newer than 3.15: untested, and pip picks the NumPy
        return hint
    return hint + " (NumPy %s on Python %d.%d)" % ((pin,) + version)


try:
    import numpy as np  # noqa: E402 (after the line above)
except ImportError:
    sys.exit("error: NumPy is not installed for %s; %s" % (sys.executable, install_hint()))

# The BLAS routines Theano's C code calls by name.
BLAS_ROUTINES = ("sgemm", "dgemm", "sgemv", "dgemv", "sger", "dger", "sdot", "ddot")

NUMPY_ALIASES = {"bool": bool, "int": int, "float": float, "complex": complex,
                 "object": object, "str": str, "long": int, "unicode": str}


from theano_today import theano_compile, theano_corr, theano_numpy2  # noqa: E402 (plain Python; Theano is imported later)


class SetupError(Exception):
    """Theano cannot be used as configured; the message is one line for the user."""


def restore_numpy_aliases(numpy_module=np):
    for name, builtin in NUMPY_ALIASES.items():
        if name not in vars(numpy_module):
            setattr(numpy_module, name, builtin)


def removed_modules(numpy_module=np, modules=sys.modules):
    """Stand-ins for what Theano 1.0.5 imports and today's Python or NumPy no longer has.

    Each only where it is missing: nothing on Python 3.11 with NumPy 1. Returns the
    names of the modules put in place.
    """
    added = []
    if "numpy.distutils" not in modules and not _importable("numpy.distutils"):
        # Gone from NumPy 2 on Python 3.12 and later. Theano asks it only for NumPy's
        # headers and, when blas.ldflags is unset, for NumPy's BLAS (None: unknown).
        distutils = types.ModuleType("numpy.distutils")
        misc_util = types.ModuleType("numpy.distutils.misc_util")
        misc_util.get_numpy_include_dirs = lambda: [numpy_module.get_include()]
        distutils.misc_util, distutils.__config__ = misc_util, None
        modules.update({"numpy.distutils": distutils, "numpy.distutils.misc_util": misc_util})
        # Also an attribute: NumPy 2's module __getattr__ refuses the name even when
        # sys.modules holds it, and `import numpy.distutils` reads the attribute.
        numpy_module.distutils = distutils
        added.append("numpy.distutils")
    if "numpy.linalg.linalg" not in modules and not _importable("numpy.linalg.linalg"):
        # Private since NumPy 2.0 and gone in 2.4; Theano's GPU linear algebra takes
        # LinAlgError from it, and theano.scan and pickling import that code on the CPU too.
        linalg = types.ModuleType("numpy.linalg.linalg")
        linalg.LinAlgError = numpy_module.linalg.LinAlgError
        modules["numpy.linalg.linalg"] = linalg
        added.append("numpy.linalg.linalg")
    if "imp" not in modules and not _importable("imp"):
        # Removed in 3.12; only theano/tests/breakpoint.py imports it (through
        # theano.gpuarray) and it uses nothing from it.
        modules["imp"] = types.ModuleType("imp")
        added.append("imp")
    return added


def numpy2_c_flags(numpy_module=np):
    """g++ flags that let Theano's C code compile against NumPy 2's headers; none on NumPy 1.

    - Theano's C code (its lazy linker, the ops) tells Python 3 from 2 by NPY_PY3K and
      calls three PyInt_ names, all of which NumPy 1's headers defined and NumPy 2's
      no longer do: without them it compiles as Python 2 code, and fails;
    - it reads PyArray_DESCR(x)->elsize, a field NumPy 2 declares only for code that
      targets its 2.0 API (NPY_TARGET_VERSION).
    """
    if int(numpy_module.__version__.split(".")[0]) < 2:
        return []
    names = {"PyInt_Check": "PyLong_Check", "PyInt_AsLong": "PyLong_AsLong", "PyInt_FromLong": "PyLong_FromLong"}
    return (["-DNPY_PY3K=1", "-DNPY_TARGET_VERSION=NPY_2_0_API_VERSION"]
            + ["-D%s=%s" % pair for pair in sorted(names.items())])


class _ImportedOnUse(types.ModuleType):
    """Stands in sys.modules for a module until one of its names is first read, then imports it."""

    def __init__(self, name):
        super().__init__(name)
        spec = importlib.util.find_spec(name)
        # Asked of every module by some (inspect.getmodule, while Theano optimizes): answered
        # here, they do not import the module. __path__ lets its submodules import as usual.
        self.__file__, self.__path__ = spec.origin, spec.submodule_search_locations

    def __getattr__(self, name):
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


def skip_unused_scipy_imports(modules=sys.modules):
    """Spare every start the 0.2 s of SciPy modules Theano imports but never gets to use.

    - theano.tensor.nnet imports private helpers from scipy.signal.signaltools, which
      SciPy 1.8 and later no longer has: the import fails (Theano then does without
      them), but only after loading scipy.signal and, through it, scipy.stats.
      None in sys.modules makes it fail at once, with an ImportError too.
    - theano.scalar imports scipy.stats for one op (chi2.sf) the lesson never uses:
      it is imported when something first reads a name from it. (importlib.util's
      LazyLoader cannot do this: `import scipy.stats` reads __spec__, which loads it.)
    Returns the names put in sys.modules, for import_theano to take back those that
    must not outlive Theano's import.
    """
    try:
        import scipy
    except ImportError:
        return []  # Theano's own import then says which package is missing
    added = []
    version = tuple(int(part) for part in scipy.__version__.split(".")[:2])
    if version >= (1, 8) and "scipy.signal.signaltools" not in modules:
        modules["scipy.signal.signaltools"] = None
        added.append("scipy.signal.signaltools")
    if "scipy.stats" not in modules:
        modules["scipy.stats"] = _ImportedOnUse("scipy.stats")
        added.append("scipy.stats")
    return added


def _importable(name):
    # Imported for real: NumPy 1.26 ships numpy/distutils, which refuses 3.12 on import.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            importlib.import_module(name)
        return True
    except ImportError:
        return False


def parse_flags(text):
    """THEANO_FLAGS as Theano reads it: comma-separated key=value, later keys win."""
    splitter = shlex.shlex(text, posix=True)
    splitter.whitespace, splitter.whitespace_split = ",", True
    pairs = (item.strip().split("=", 1) for item in splitter)
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


def theano_bool(text):
    """A boolean flag as Theano 1.0.5's BoolParam reads it: True, true or 1; False, false or 0; else None."""
    return {"True": True, "true": True, "1": True, "False": False, "false": False, "0": False}.get(text)


def theano_flag_names():
    """Every flag Theano registers (the AddConfigVar calls of its configdefaults.py), read from
    its source without importing it; None when Theano is not installed."""
    spec = importlib.util.find_spec("theano")
    if spec is None or not spec.submodule_search_locations:
        return None
    try:
        with open(os.path.join(spec.submodule_search_locations[0], "configdefaults.py")) as source:
            text = source.read()
    except OSError:
        return None
    return frozenset(re.findall(r"""\bAddConfigVar\(\s*['"]([\w.]+)['"]""", text))


def _closest(key, names):
    close = difflib.get_close_matches(key, names, n=1)
    return "did you mean %s?" % close[0] if close else "no flag has a name like it"


# A bare word that names a device, as in THEANO_FLAGS=cuda.
DEVICE_WORD = re.compile(r"(cpu|cuda\d*|opencl\d+:\d+)$")


def _as_theanorc_reads(name):
    section, dot, option = name.rpartition(".")  # floatX -> floatx; gcc.cxxflags stays
    return section + dot + option.lower()


def check_flag_names(environ, names=None):
    """Theano ignores a key it does not know, with a warning, and runs on: raise SetupError naming it
    and the closest valid one instead, for THEANO_FLAGS and for each .theanorc Theano reads."""
    names = theano_flag_names() if names is None else names
    if not names:
        return  # no Theano: its import says so
    splitter = shlex.shlex(environ.get("THEANO_FLAGS", ""), posix=True)  # as Theano splits it
    splitter.whitespace, splitter.whitespace_split = ",", True
    for item in (item.strip() for item in splitter):
        key, equals, value = item.partition("=")
        if not item:
            continue
        if not equals:
            suggestion = ("did you mean device=%s?" % item if DEVICE_WORD.match(item)
                          else _closest(item, names).replace("?", "=...?"))
            raise SetupError("THEANO_FLAGS holds %r, which has no '=' (Theano would ignore it); %s"
                             % (item, suggestion))
        if key != key.strip() or value != value.lstrip():
            raise SetupError("THEANO_FLAGS holds %r, with spaces around '=' (Theano would read the key %r); "
                             "write %s=%s" % (item, key, key.strip(), value.strip()))
        if key not in names:
            raise SetupError("THEANO_FLAGS sets %r, which is not a Theano flag (Theano would ignore it); %s"
                             % (key, _closest(key, names)))
    # A .theanorc's sections name the flag's prefix ([global] none), and its option names
    # are read without case, as Theano's own ConfigParser reads them.
    known = {_as_theanorc_reads(name) for name in names}
    for path in (os.path.expanduser(f) for f in environ.get("THEANORC", "~/.theanorc").split(os.pathsep)):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path)
        except configparser.Error:
            continue  # Theano reports a broken file itself
        for section in parser.sections():
            for option in set(parser.options(section)) - set(parser.defaults()):
                key = option if section == "global" else "%s.%s" % (section, option)
                if key not in known:
                    raise SetupError("%s sets %s in [%s], which is not a Theano flag (Theano would ignore "
                                     "it); %s" % (path, option, section, _closest(key, names)))


def theanorc_sets(key, environ):
    """Whether a .theanorc file that Theano reads sets `key` ("floatX", "blas.ldflags")."""
    files = [os.path.expanduser(f) for f in
             environ.get("THEANORC", "~/.theanorc").split(os.pathsep)]
    parser = configparser.RawConfigParser()
    try:
        parser.read(files)
    except configparser.Error:
        return False  # Theano will report a broken .theanorc itself
    section, _, option = key.rpartition(".")
    return parser.has_option(section or "global", option)


def blas_ldflags(prefix=sys.prefix):
    """Link flags for the best BLAS on hand, and a word on which one it is."""
    # BLIS, which `make setup` keeps in the venv (theano_today/get_blis.py): ~10% faster per update.
    blis = os.path.join(prefix, "lib", "blis")
    try:
        with open(os.path.join(blis, "VERSION")) as text:
            blis_version = text.read().strip()
    except OSError:
        blis_version = None
    if blis_version and os.path.isfile(os.path.join(blis, "libblis.so")):
        # Theano splits THEANO_FLAGS on commas, hence -Xlinker rather than -Wl,-rpath,DIR.
        return ("-L%s -lblis -Xlinker -rpath=%s" % (blis, blis),
                "BLIS %s (Debian's libblis4-serial, in the venv)" % blis_version.split("-")[0])
    try:
        import scipy_openblas32 as wheel
    except ImportError:
        wheel = None
    if wheel is not None:
        # The pip wheel prefixes its symbols with scipy_ (so it never clashes
        # with another BLAS): map the names Theano calls onto them.
        lib_dir = wheel.get_lib_dir()
        flags = ["-L" + lib_dir, "-l" + wheel.get_library(), "-Xlinker", "-rpath=" + lib_dir]
        flags += ["-D%s_=scipy_%s_" % (name, name) for name in BLAS_ROUTINES]
        return " ".join(flags), "OpenBLAS (scipy-openblas32 wheel)"
    if ctypes.util.find_library("openblas"):
        return "-lopenblas", "OpenBLAS (system library)"
    return "", "none found: Theano falls back to NumPy's C API, 4-10x slower"


def merged_flags(environ):
    """THEANO_FLAGS with our defaults in front, for keys the user left unset.

    Returns (flags, blas description). Theano lets later keys win, so the user's
    own THEANO_FLAGS still override anything added here.
    """
    user = environ.get("THEANO_FLAGS", "")
    user_keys = parse_flags(user)
    ldflags, blas_name = blas_ldflags()
    # allow_gc=False: a function keeps its intermediate arrays from one call to the
    # next instead of freeing and allocating them again (~5 us of a ~285 us update).
    # openmp=True: CorrMM (genre_cnn.py's convolutions) works on the batch's excerpts in parallel;
    # element-wise operations only from openmp_elemwise_minsize (200,000) elements on.
    defaults = [("floatX", "float32"), ("blas.ldflags", ldflags), ("allow_gc", "False"), ("openmp", "True")]
    added = ["%s=%s" % (key, value) for key, value in defaults
             if key not in user_keys and not theanorc_sets(key, environ)]
    if "blas.ldflags" in user_keys or theanorc_sets("blas.ldflags", environ):
        blas_name = "as set by you"
    flags = added + ([user] if user else [])
    c_flags = numpy2_c_flags()
    if c_flags:
        # Needed whatever the user's own cxxflags (kept after ours), so last: later keys win.
        flags.append("gcc.cxxflags=" + " ".join(c_flags + [requested("gcc.cxxflags", environ)]).strip())
    return ",".join(flags), blas_name


def requested(key, environ, default=""):
    """A setting as Theano will read it: THEANO_FLAGS first, then .theanorc ("gcc.cxxflags": its [gcc])."""
    flags = parse_flags(environ.get("THEANO_FLAGS", ""))
    if key in flags:
        return flags[key]
    files = [os.path.expanduser(f) for f in environ.get("THEANORC", "~/.theanorc").split(os.pathsep)]
    parser = configparser.RawConfigParser()
    try:
        parser.read(files)
    except configparser.Error:
        return default
    section, _, option = key.rpartition(".")
    return parser.get(section or "global", option, fallback=default)


# What device=cuda uses ("NVIDIA H100 80GB HBM3, driver 580.95.05 (CUDA 13.0), NVRTC 13.0,
# cuBLAS 13.0.2"), once import_theano has prepared it; None otherwise.
CUDA_LIBRARIES = None


def prepare_cuda(environ, prepare=None):
    """Before Theano imports pygpu: make the NVIDIA libraries findable for device=cuda.

    When the GPU cannot be used (compute capability 10 or more, an NVRTC newer than
    the driver, ...), says so in one line and switches the flags to the CPU, or with
    force_device=True raises SetupError.
    """
    global CUDA_LIBRARIES
    device = requested("device", environ)
    if not device.startswith("cuda"):
        return
    if prepare is None:
        from gpu_route import cuda_libs
        prepare = cuda_libs.prepare
    try:
        CUDA_LIBRARIES = prepare(device)
    except Exception as error:  # cuda_libs.CudaLibsError, or an unexpected driver answer
        why = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if theano_bool(requested("force_device", environ, "False")):
            raise SetupError("THEANO_FLAGS asks for device=%s with force_device=True, but the GPU "
                             "cannot be used: %s" % (device, why))
        print("notice: THEANO_FLAGS asks for device=%s, but the GPU cannot be used: %s; training "
              "on the CPU instead" % (device, why), file=sys.stderr)
        environ["THEANO_FLAGS"] = ",".join(filter(None, [environ.get("THEANO_FLAGS"), "device=cpu"]))
        return
    avoid_new_cudnn(environ)


def avoid_new_cudnn(environ, header=None):
    """device=cuda, dnn.enabled left to Theano, and a cuDNN 8 or later where gcc would find it: one
    line, and dnn.enabled=False. Theano 1.0.5 would take that cuDNN (its check only builds a handle)
    and then fail to build its convolutions, which call functions cuDNN 8 removed
    (cudnnGetConvolutionForwardAlgorithm, ...). Without cuDNN the GPU runs Theano's own kernels:
    GpuCorrMM for genre_cnn.py's convolutions (docs/gpu.md)."""
    if requested("dnn.enabled", environ):
        return  # the user's choice
    if header is None:
        from gpu_route import cuda_libs
        header = cuda_libs.cudnn_header(cuda_libs.cudnn_include_folders(lambda key: requested(key, environ),
                                                                        environ))
    if header and header[1] is not None and header[1] >= 8:
        print("notice: %s is cuDNN %d, which Theano 1.0.5's cuDNN ops (written for cuDNN 5 to 7) cannot "
              "use; dnn.enabled=False: the GPU runs Theano's own kernels" % header, file=sys.stderr)
        environ["THEANO_FLAGS"] = ",".join(filter(None, [environ.get("THEANO_FLAGS"), "dnn.enabled=False"]))


class _Recorder(logging.Handler):
    def __init__(self):
        logging.Handler.__init__(self)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def gpu_failure_reason(records):
    """One phrase for why Theano's gpuarray back end could not start."""
    for record in records:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ImportError):
            return "pygpu is not installed (it is not on PyPI)"
        if error is not None:
            # pygpu's errors carry bytes: b'Could not load "libcuda.so": ...'
            text = error.args[0] if error.args else ""
            text = text.decode(errors="replace") if isinstance(text, bytes) else str(error)
            return text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return records[0].getMessage() if records else "the gpuarray back end did not start"


class _Quiet(logging.Filter):
    """Drops Theano's warning about a missing g++: our notice says it with the cost and the fix."""

    def filter(self, record):
        return "g++ not detected" not in record.getMessage()


def notice(message):
    print("notice: " + message, file=sys.stderr)


def no_compiler_notice(theano, environ):
    """The first line's BLAS when Theano has no C++ compiler, after a notice of what it costs."""
    if "cxx" in parse_flags(environ.get("THEANO_FLAGS", "")) or theanorc_sets("cxx", environ):
        why = "THEANO_FLAGS or ~/.theanorc sets cxx empty"
    else:
        why = "g++ is not on PATH"
    # Measured with the lesson's network (cxx=, 50 updates of 16, a busy 2-core machine): 0.22-0.32 s
    # per update, against 0.3 ms compiled on a quiet one and 0.6 ms on that busy one.
    notice("no C++ compiler (%s): Theano runs its Python code instead of compiled C, about 0.2-0.3 s "
           "per update instead of 0.3-0.6 ms; install g++ (apt-get install g++)%s"
           % (why, " and drop cxx= from your flags" if why.startswith("THEANO") else ""))
    return "none (no C++ compiler: Theano runs its Python code)"


def quiet_float16(theano):
    """Float16 ops go straight to Theano's Python code, as they would anyway, without a line each.

    Theano compiles each op's C code for a float16 node, prints "Disabling C code for ... due
    to unsupported float16" on stdout (20 lines for the lesson's network) and then uses
    its Python code: the float16 notice says it once, and those compiles are skipped.
    """
    from theano.gof.op import Op
    make_c_thunk = Op.make_c_thunk
    if getattr(make_c_thunk, "quiet_float16", False):
        return

    def without_float16(self, node, *args, **kwargs):
        if not getattr(self, "_f16_ok", False) and any(
                getattr(variable.type, "dtype", "") == "float16" for variable in node.inputs + node.outputs):
            raise NotImplementedError("float16")  # Op.make_thunk then takes the Python code
        return make_c_thunk(self, node, *args, **kwargs)
    without_float16.quiet_float16 = True
    Op.make_c_thunk = without_float16


# A tiny program that calls the one routine the lesson cannot do without.
SGEMM_PROGRAM = b"""
extern "C" void sgemm_(const char*, const char*, const int*, const int*, const int*, const float*,
                       const float*, const int*, const float*, const int*, const float*, float*, const int*);
int main() {
    const char no = 'N'; const int one = 1; const float a = 2, b = 3, zero = 0; float c = 0;
    sgemm_(&no, &no, &one, &one, &one, &a, &b, &one, &b, &one, &zero, &c, &one);
    return c == 18 ? 0 : 1;
}
"""


def check_user_blas(theano):
    """A blas.ldflags of the user's must link a BLAS: else one line now, not a traceback at compile time.

    One link of a tiny program, about half a second, and only when the user set blas.ldflags.
    """
    from theano.gof.cmodule import GCC_compiler
    flags = [token.strip("'\"") for token in theano.config.blas.ldflags.split()]  # as Theano splits them
    ok, _, err = GCC_compiler.try_compile_tmp(SGEMM_PROGRAM, tmp_prefix="genre_mlp_blas_",
                                              flags=flags, output=True)
    if not ok:
        err = err.decode(errors="replace") if isinstance(err, bytes) else str(err or "")
        lines = [line[line.find("undefined reference"):] if "undefined reference" in line else line.strip()
                 for line in err.splitlines()
                 if "cannot find" in line or "undefined reference" in line or "error" in line]
        raise SetupError("blas.ldflags=%r (THEANO_FLAGS or ~/.theanorc) does not link a BLAS: %s; "
                         "correct it, or leave blas.ldflags unset to use the venv's own BLAS"
                         % (theano.config.blas.ldflags,
                            lines[0] if lines else "the linker failed"))


def import_theano(environ=os.environ):
    """Import Theano configured for today; returns (theano, description of the BLAS)."""
    check_flag_names(environ)  # before any work: Theano itself would only warn
    restore_numpy_aliases()
    removed_modules()
    skipped = skip_unused_scipy_imports()
    users_flags = environ.get("THEANO_FLAGS")
    environ["THEANO_FLAGS"], blas_name = merged_flags(environ)
    prepare_cuda(environ)

    # Theano logs an unusable GPU with a full traceback; keep the records and say it in one line.
    gpu_log = logging.getLogger("theano.gpuarray")
    recorder = _Recorder()
    gpu_log.addHandler(recorder)
    gpu_log.propagate = False
    quiet = _Quiet()
    logging.getLogger("theano.configdefaults").addFilter(quiet)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="DeprecationWarning: there is no c\\+\\+ compiler")
            import theano
    except ModuleNotFoundError as error:
        raise SetupError("%s is not installed for %s; %s" % (error.name, sys.executable, install_hint()))
    except Exception as error:  # a bad THEANO_FLAGS value or .theanorc
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SetupError("Theano could not start: %s; check THEANO_FLAGS and ~/.theanorc" % message)
    finally:
        if "scipy.signal.signaltools" in skipped:
            del sys.modules["scipy.signal.signaltools"]  # blocked for Theano's import only
        # Theano has read its flags: give THEANO_FLAGS back as the user left it.
        if users_flags is None:
            environ.pop("THEANO_FLAGS", None)
        else:
            environ["THEANO_FLAGS"] = users_flags
        gpu_log.removeHandler(recorder)
        gpu_log.propagate = True
        logging.getLogger("theano.configdefaults").removeFilter(quiet)

    theano_numpy2.mend(theano)  # Theano's own NumPy 2 and Python 3.13 breaks
    theano_corr.faster_corr_mm(theano)  # conv2d's im2col without a test per element (genre_cnn.py)
    theano_compile.fix_compile_cache(theano)
    theano_compile.remember_march_flags(theano)
    theano_compile.compile_faster(theano)
    device = theano.config.device
    if device.startswith(("cuda", "opencl")) and not theano.gpuarray.pygpu_activated:
        if theano.gpuarray.pygpu is None:
            why = "pygpu is not installed (it is not on PyPI)"
        else:
            why = gpu_failure_reason(recorder.records)
        if theano.config.force_device:
            raise SetupError("THEANO_FLAGS asks for device=%s with force_device=True, but no GPU "
                             "can be used: %s; see README \"GPU\", or drop force_device to train "
                             "on the CPU" % (device, why))
        print("notice: THEANO_FLAGS asks for device=%s, but no GPU can be used: %s; training on "
              "the CPU instead (README \"GPU\" says how to set one up)" % (device, why),
              file=sys.stderr)
    if not theano.config.cxx:
        blas_name = no_compiler_notice(theano, environ)
    elif blas_name == "as set by you" and theano.config.blas.ldflags:
        check_user_blas(theano)
    on_gpu = device.startswith(("cuda", "opencl")) and theano.gpuarray.pygpu_activated
    if theano.config.floatX == "float16" and not on_gpu:
        # Measured with the lesson's network: 0.2-0.4 s per update, against 0.3 ms in float32.
        notice("floatX=float16 is emulated on the CPU (no BLAS or C code computes in it): about "
               "0.3 s per update instead of 0.3 ms in float32; use floatX=float32 on the CPU")
        quiet_float16(theano)
    # The ~100,000 objects of the modules just imported live until the process ends. Out
    # of the garbage collector's sight, its full passes while Theano compiles, and the one
    # at exit, skip them: 0.15 s of a 2.6 s warm run here.
    gc.freeze()
    return theano, blas_name
