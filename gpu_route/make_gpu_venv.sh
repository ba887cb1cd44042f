#!/usr/bin/env bash
# Builds the GPU venv: make_gpu_venv.sh PYTHON VENV   (run by `make gpu-venv`)
#
# A venv for PYTHON (3.11 to 3.15) with the lesson's pins and pygpu, in which
# THEANO_FLAGS=device=opencl0:0 (pocl) or device=cuda runs the lesson.
# pygpu and libgpuarray are not on PyPI, and Debian 13 dropped them: we fetch
# Debian 12's packages by name with a private apt configuration (the system's
# apt setup and packages stay untouched), keep their files inside VENV, and
# compile pygpu's C sources, which the package ships, for PYTHON.
# VENV/.ready is written last: without it the venv is not finished.
# On failure: one line on stderr, the details in VENV/build.log, exit 1.
set -euo pipefail

DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# Debian 12 (bookworm) packages, pinned like every other dependency.
PACKAGES=(libgpuarray3=0.7.6-13+b1 libgpuarray-dev=0.7.6-13+b1 python3-pygpu=0.7.6-13+b1)
PYGPU_MODULES=(gpuarray blas _elemwise collectives)

die() { echo "error: make_gpu_venv: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: gpu_route/make_gpu_venv.sh PYTHON VENV"
PYTHON=$1
REPO=$(cd "$(dirname "$0")/.." && pwd)
VENV=$(realpath -m "$2")

# ---- what the build needs, checked before anything is written -----------------
version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) ||
    die "$PYTHON does not run; pass a Python 3.11 to 3.15 (make gpu-venv PYTHON=...)"
case $version in
    3.11 | 3.12 | 3.13 | 3.14 | 3.15) ;;
    *) die "$PYTHON is Python $version; the GPU route needs 3.11 to 3.15 (pygpu's C, from Cython 0.29, is mended and tested for those)" ;;
esac
for tool in apt-get dpkg-deb; do
    command -v $tool >/dev/null || die "$tool not found; this needs a Debian (or Debian-based) system"
done
for tool in gcc g++; do
    command -v $tool >/dev/null || die "$tool not found; apt-get install gcc g++"
done
[ -r "$DEBIAN_KEYRING" ] || die "$DEBIAN_KEYRING is missing; apt-get install debian-archive-keyring"

rm -rf "$VENV"
mkdir -p "$VENV"
LOG=$VENV/build.log
: > "$LOG"
step() {  # step "what it does" command...: the command's output goes to the log
    echo "== [${SECONDS} s] $1" >> "$LOG"
    "${@:2}" >> "$LOG" 2>&1 || die "$1 failed; see $LOG"
}

# ---- Debian 12's packages, fetched with apt into VENV/debian (first: it fails fastest)
# Our own sources list, package lists, cache and (empty) dpkg status, so that
# the system's apt configuration and installed packages play no part.
apt_dir=$VENV/debian/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$VENV/debian/debs"
echo "deb [signed-by=$DEBIAN_KEYRING] $DEBIAN_MIRROR bookworm main" > "$apt_dir/sources.list"
: > "$apt_dir/status"
apt_private=(
    -o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$apt_dir/lists" -o Dir::State::status="$apt_dir/status"
    -o Dir::Cache="$apt_dir/cache" -o Acquire::Languages=none
    # apt's download user (_apt) cannot write into VENV; download as ourselves.
    -o APT::Sandbox::User="$(id -un)"
)
step "fetching Debian 12's package list from $DEBIAN_MIRROR (DEBIAN_MIRROR=... picks another mirror)" \
    apt-get "${apt_private[@]}" --error-on=any update
cd "$VENV/debian/debs"  # apt-get download writes into the current folder
step "apt-get download ${PACKAGES[*]}" apt-get "${apt_private[@]}" download "${PACKAGES[@]}"
cd "$REPO"
rm -rf "$apt_dir"  # 10 MB of package lists, needed only for the download

# ---- the venv and the lesson's pins ------------------------------------------
step "creating the venv with $PYTHON" "$PYTHON" -m venv "$VENV"
PY=$VENV/bin/python
# As the Makefile installs the lesson's venv: Theano's setup.py needs the venv's
# setuptools and, on 3.12, theano_today/build_shims (that file says why).
step "installing setuptools" "$PY" -m pip install --disable-pip-version-check \
    "$(grep -E '^setuptools==' "$REPO/requirements.txt")"
step "installing requirements.txt and gpu_route/gpu-requirements.txt" \
    env PYTHONPATH="$REPO/theano_today/build_shims" "$PY" -m pip install --disable-pip-version-check \
    --no-build-isolation -r "$REPO/requirements.txt" -r "$REPO/gpu_route/gpu-requirements.txt"

unpacked=$VENV/debian/unpacked
for deb in "$VENV"/debian/debs/*.deb; do
    step "unpacking $(basename "$deb")" dpkg-deb -x "$deb" "$unpacked"
done

# Theano's GPU ops add sys.exec_prefix's include/ and lib/ (here VENV/include,
# VENV/lib) to their compiler's -I and -L: libgpuarray goes there. When they
# load, pygpu has loaded VENV/lib/libgpuarray.so.3 already, which serves them.
cp -a "$unpacked"/usr/lib/libgpuarray.so* "$VENV/lib/"
mkdir -p "$VENV/include"
cp -a "$unpacked/usr/include/gpuarray" "$VENV/include/"
site=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
pygpu=$site/pygpu
cp -a "$unpacked"/usr/lib/python3/dist-packages/pygpu* "$site/"
# Debian's own .so files (for python3.11) look for libgpuarray.so.3 in the
# system's folders only; we build ours, with VENV/lib as their rpath, on every
# Python: one way, tried on both.
rm -f "$pygpu"/*.so
rm -rf "$unpacked"

# ---- pygpu's C sources (Cython 0.29.32 output) built for PYTHON ---------------
# Five edits, each checked to match once per file (the packages are pinned):
# - Python 3.12 keeps the raised exception in one field, not in
#   tstate->curexc_*: __Pyx_Raise must attach a traceback through PyErr_Fetch
#   and PyErr_Restore, as Cython does on PyPy;
# - 3.12's bool type is 24 bytes, less than the sizeof(PyBoolObject) of its
#   headers (32), which Cython's import check refuses; pygpu never reads a
#   bool's fields, so that size is not checked;
# - 3.12's strings are always "ready" and its headers no longer declare
#   _PyUnicode_Ready, which GCC 14 (Debian 13) refuses to call undeclared;
# - NumPy 2 keeps a dtype's subarray in the legacy descriptor only, which its
#   PyDataType_SUBARRAY() accessor reads (Cython's inline PyDataType_SHAPE);
# - pygpu copies host data to the device through numpy.array(..., copy=False),
#   which on NumPy 2 means "never copy" and raises for a list, another dtype or
#   a non-contiguous array: copy=None is what False meant on NumPy 1.x.
step "patching pygpu's C sources" "$PY" - "$pygpu" <<'EOF'
import pathlib
import sys

RAISE = ("#if CYTHON_COMPILING_IN_PYPY\n        PyObject *tmp_type, *tmp_value, *tmp_tb;\n"
         "        PyErr_Fetch(&tmp_type, &tmp_value, &tmp_tb);\n")
BOOL = '"bool", sizeof(PyBoolObject), __Pyx_ImportType_CheckSize_Warn)'
READY = "  #if defined(PyUnicode_IS_READY)\n  #define __Pyx_PyUnicode_READY(op)"
SUBARRAY = ("    __Pyx_INCREF(((PyObject*)__pyx_v_d->subarray->shape));\n"
            "    __pyx_r = ((PyObject*)__pyx_v_d->subarray->shape);\n")
COPY = "__pyx_n_s_copy, Py_False) < 0) __PYX_ERR(0, 1021,"  # gpuarray.pyx:1021, in carray()
ALL = ["gpuarray.c", "blas.c", "_elemwise.c", "collectives.c"]
edits = [  # (old, new, files in which it occurs once)
    (RAISE, RAISE.replace("PYPY", "PYPY || PY_VERSION_HEX >= 0x030C0000", 1), ALL),
    (BOOL, '"bool", 0, __Pyx_ImportType_CheckSize_Ignore)', ["gpuarray.c", "collectives.c"]),
    (READY, READY.replace("IS_READY)", "IS_READY) && PY_VERSION_HEX < 0x030C0000", 1), ALL),
    (SUBARRAY, SUBARRAY.replace("__pyx_v_d->subarray", "PyDataType_SUBARRAY(__pyx_v_d)"), ALL),
    (COPY, COPY.replace("Py_False", "Py_None"), ["gpuarray.c"]),
]
for old, new, names in edits:
    for name in names:
        path = pathlib.Path(sys.argv[1], name)
        text = path.read_text()
        if text.count(old) != 1:
            sys.exit("%s: expected one %r, found %d" % (path, old.splitlines()[0], text.count(old)))
        path.write_text(text.replace(old, new))
        print("patched", path)
EOF

# Python 3.13 changed or removed private C API that Cython's helper code calls
# (and 3.14, 3.15 keep it so): the same names, defined from public functions, in
# a header given to gcc with -include, not edits: they are called in many places.
cat > "$pygpu/pyapi_compat.h" <<'EOF'
/* Python.h first: the macros below must not rename its own declarations. */
#include <Python.h>

#if PY_VERSION_HEX >= 0x030D0000
/* 3.13 added a with_exceptions argument; 1 behaves as before. */
#define _PyLong_AsByteArray(v, bytes, n, little_endian, is_signed) \
    _PyLong_AsByteArray(v, bytes, n, little_endian, is_signed, 1)

/* Gone in 3.13; PyObject_GC_IsFinalized (3.9) is the public spelling. */
#define _PyGC_FINALIZED(o) PyObject_GC_IsFinalized(o)

/* Gone in 3.13; it returned a new reference to None, or NULL on error. */
static inline PyObject *_PyList_Extend(PyListObject *list, PyObject *iterable)
{
    if (PyList_Extend((PyObject *)list, iterable) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* Gone in 3.13: return `value` from a generator. A tuple or an exception
 * must be wrapped in a StopIteration first, else PyErr_SetObject would unpack
 * the tuple or raise the exception itself. */
static inline int _PyGen_SetStopIterationValue(PyObject *value)
{
    PyObject *stop;
    if (value == NULL || (!PyTuple_Check(value) && !PyExceptionInstance_Check(value))) {
        PyErr_SetObject(PyExc_StopIteration, value);
        return 0;
    }
    stop = PyObject_CallOneArg(PyExc_StopIteration, value);
    if (stop == NULL)
        return -1;
    PyErr_SetObject(PyExc_StopIteration, stop);
    Py_DECREF(stop);
    return 0;
}
#endif
EOF

read -r py_include ext_suffix numpy_include < <("$PY" -c '
import sysconfig, numpy
print(sysconfig.get_paths()["include"], sysconfig.get_config_var("EXT_SUFFIX"), numpy.get_include())')
# -DNDEBUG as in Python's own release builds (3.12's Py_SIZE asserts on ints);
# Cython's PyLong shortcuts read int internals that 3.12 changed; an undeclared
# function is an error with every GCC, as GCC 14 makes it (else it would be an
# unresolved symbol at import). Cython caches module globals by the dicts'
# version tags, which 3.12 deprecated and 3.14 removed: without the cache it
# looks each global up. NumPy 2's headers declare the full dtype struct (pygpu
# reads its elsize and alignment) only for a 2.0 API target. The rpath lets the
# modules find VENV/lib/libgpuarray.so.3, not a system copy.
for module in "${PYGPU_MODULES[@]}"; do
    step "compiling pygpu/$module.c" gcc -shared -fPIC -O2 -fwrapv -DNDEBUG \
        -DCYTHON_USE_PYLONG_INTERNALS=0 -DCYTHON_USE_DICT_VERSIONS=0 -Werror=implicit-function-declaration \
        -DNPY_TARGET_VERSION=NPY_2_0_API_VERSION -include "$pygpu/pyapi_compat.h" \
        -I"$py_include" -I"$numpy_include" -I"$VENV/include" -I"$pygpu" \
        "$pygpu/$module.c" -o "$pygpu/$module$ext_suffix" \
        -L"$VENV/lib" -lgpuarray -Wl,-rpath,"$VENV/lib"
done

# pip byte-compiles what it installs; so do we, so that 3.12's SyntaxWarnings
# about pygpu's old escape sequences land in the log, not in the user's output.
step "byte-compiling pygpu" "$PY" -m compileall -q "$pygpu"

# ---- check, then mark the venv ready -----------------------------------------
# pygpu must import and load the libgpuarray inside VENV, not one of the system.
step "importing pygpu from the venv" "$PY" -c '
import sys, pygpu
lib = [line.split()[-1] for line in open("/proc/self/maps") if "libgpuarray" in line][0]
if not lib.startswith(sys.prefix + "/"):
    sys.exit("pygpu loaded %s, not the copy in %s" % (lib, sys.prefix))
print("pygpu", pygpu.__version__, "with", lib)'
touch "$VENV/.ready"
echo "GPU venv ready: $VENV (Python $version, pygpu 0.7.6, libgpuarray from Debian 12)"
