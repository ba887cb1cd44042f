"""Compiles, with NVIDIA's NVRTC and no GPU, every CUDA kernel the lesson needs on device=cuda.

    make cuda-check        # = .venv-gpu-3.X/bin/python gpu_route/cuda_check.py --nvrtc-dir .nvrtc

Where the kernels come from (libgpuarray writes most of them while running, so
they are taken from a run, not retyped here):

1. The lesson's network is built and run for a few updates on an OpenCL device
   (pocl, a CPU OpenCL driver). libgpuarray generates the GpuElemwise kernels as
   it goes (its generator writes the same text for CUDA and OpenCL: the `cluda.h`
   header it includes is what differs), and pocl keeps each program's source
   when asked (POCL_LEAVE_KERNEL_COMPILER_TEMP_FILES).
2. The same graph is optimized once more for a context that says it is CUDA, so
   that Theano's optimizer picks what it picks on an NVIDIA GPU: GpuCAReduceCuda
   instead of the OpenCL reduction. Their kernels are the op's own gpu_kernels().
   Every other node must match the OpenCL run's, or the check stops.
3. libgpuarray compiles six kernels of its own when cuBLAS starts (batched gemv
   and ger helpers); they are string constants in libgpuarray.so.3, read from there,
   as is its CUDA header, cluda_cuda.h.

Each kernel is then compiled as libgpuarray compiles it: nvrtcCreateProgram with
cluda_cuda.h offered as "cluda.h", options `-arch compute_XY`, for compute_75 (Turing),
compute_80 (Ampere) and compute_90 (Hopper). It checks the kernels, not a GPU:
whether a driver accepts the PTX and runs it correctly is left to gpu_route/gpu_check.py.
"""
import ctypes
import glob
import json
import os
import re
import shutil
import sys
import tempfile
import types
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from lesson_helpers.command_line import cli  # noqa: E402 (after the path)
from gpu_route import cuda_libs  # noqa: E402 (after the path)

ARCHITECTURES = ("compute_75", "compute_80", "compute_90")
BLAS_HELPERS = ("sgemv", "dgemv", "_sgerBH_gen_small", "_dgerBH_gen_small")
KERNEL_NAME = re.compile(r"KERNEL\s+void\s+(\w+)\s*\(")


class Kernel(object):
    def __init__(self, name, source, origin):
        self.name, self.source, self.origin = name, source, origin

    def to_json(self):
        return dict(name=self.name, source=self.source, origin=self.origin)


# ---------------------------------------------------------------------------
# libgpuarray's own strings: the CUDA header and the cuBLAS helper kernels
# ---------------------------------------------------------------------------
def c_strings(path, marker):
    """The NUL-terminated strings in a binary file that contain `marker` (bytes)."""
    with open(path, "rb") as stream:
        data = stream.read()
    found, start = [], 0
    while True:
        at = data.find(marker, start)
        if at < 0:
            return found
        begin, end = data.rfind(b"\0", 0, at) + 1, data.find(b"\0", at)
        text = data[begin:end].decode(errors="replace")
        if text not in found:
            found.append(text)
        start = end


def cluda_cuda_header(libgpuarray):
    headers = [text for text in c_strings(libgpuarray, b"#define CLUDA_H") if "__syncthreads" in text]
    if len(headers) != 1:
        raise SystemExit("error: %s holds %d CUDA cluda.h headers, not one; is it libgpuarray 0.7?"
                         % (libgpuarray, len(headers)))
    return headers[0]


def blas_helper_kernels(libgpuarray):
    kernels = []
    for text in c_strings(libgpuarray, b"KERNEL void "):
        match = KERNEL_NAME.search(text)
        if match and match.group(1) in BLAS_HELPERS and text.startswith('#include "cluda.h"'):
            kernels.append(Kernel(match.group(1), text, "libgpuarray cuBLAS helper"))
    return kernels


# ---------------------------------------------------------------------------
# The lesson's kernels, from an OpenCL run and a CUDA-flavoured optimization
# ---------------------------------------------------------------------------
def pretend_cuda(context):
    """Make `context.kind` read b'cuda' (returns a function that undoes it).

    pygpu keeps `kind` in a read-only C field of GpuContext; its public header
    (pygpu/gpuarray.h) lays the object out as PyObject_HEAD, __dict__, ctx, kind.
    The field is checked to hold the current kind before it is written.
    """
    slot = ctypes.c_void_p.from_address(id(context) + object.__basicsize__ + 2 * ctypes.sizeof(ctypes.c_void_p))
    original = context.kind
    if slot.value != id(original):
        raise SystemExit("error: pygpu's GpuContext is not laid out as pygpu 0.7.6's; cannot "
                         "optimize for CUDA here")
    cuda = b"cuda"
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(cuda))  # the field now holds a reference
    slot.value = id(cuda)

    def undo():
        slot.value = id(original)
    return undo


def optimized_graphs(genre_mlp, test_set):
    """The optimized graphs of the lesson's compiled functions, without compiling them."""
    import theano
    from theano.compile import function_module

    class Optimized(Exception):
        pass

    def create(maker, *args, **kwargs):
        raise Optimized(maker.fgraph)

    graphs, real_function, real_create = [], theano.function, function_module.FunctionMaker.create

    def optimize_only(*args, **kwargs):
        try:
            real_function(*args, **kwargs)
        except Optimized as done:
            graphs.append(done.args[0])
        return types.SimpleNamespace()  # stands in for the function: Model sets trust_input on it

    theano.function, function_module.FunctionMaker.create = optimize_only, create
    try:
        genre_mlp.Model(test_set=test_set)
    finally:
        theano.function, function_module.FunctionMaker.create = real_function, real_create
    return graphs


def node_signature(node):
    """What decides a node's kernels: its op (reductions counted as one kind) and, for
    GpuElemwise, the exact code and argument types Theano hands libgpuarray."""
    op = node.op
    name = type(op).__name__
    if name in ("GpuCAReduceCuda", "GpuCAReduceCPY"):
        return ("reduction", str(op.scalar_op), tuple(i.type for i in node.inputs))
    if name == "GpuElemwise":
        return (name, op._generate_op_string(node), tuple(i.type for i in node.inputs),
                tuple(sorted(op.inplace_pattern.items())))
    return (name, str(op), tuple(getattr(i, "type", None) for i in node.inputs))


def collect(batches=3):
    """Every kernel the lesson's three compiled functions need on a CUDA device."""
    kept = tempfile.mkdtemp(prefix="pocl-sources-")
    os.environ.update(POCL_CACHE_DIR=kept, POCL_LEAVE_KERNEL_COMPILER_TEMP_FILES="1")
    os.environ["THEANO_FLAGS"] = ",".join(filter(None, [os.environ.get("THEANO_FLAGS"), "device=opencl0:0",
                                                        "force_device=True"]))
    import numpy as np
    import genre_mlp
    from theano_today import lesson_start
    from theano.gpuarray.basic_ops import GpuKernelBase
    from theano.gpuarray.type import get_context

    device = lesson_start.device_name()
    test_set = (np.zeros((2000, genre_mlp.SAMPLE_WIDTH), genre_mlp.FLOATX),
                np.zeros(2000, genre_mlp.FLOATX))
    model = genre_mlp.Model(test_set=test_set)
    rng = np.random.RandomState(0)
    for _ in range(batches):
        inputs = rng.standard_normal((genre_mlp.BATCH_SIZE, genre_mlp.SAMPLE_WIDTH)).astype(genre_mlp.FLOATX)
        targets = (rng.uniform(size=genre_mlp.BATCH_SIZE) > 0.5).astype(genre_mlp.FLOATX)
        model.train_batch(inputs, targets)
        model.evaluate(inputs, targets)
        model.evaluate_test()
    opencl_graphs = [f.maker.fgraph for f in (model.train_batch, model.evaluate, model.evaluate_test)]

    undo = pretend_cuda(get_context(None))
    try:
        cuda_graphs = optimized_graphs(genre_mlp, test_set)
    finally:
        undo()

    def signatures(graphs):
        return sorted(repr(node_signature(n)) for g in graphs for n in g.toposort()
                      if type(n.op).__module__.startswith("theano.gpuarray"))
    if signatures(opencl_graphs) != signatures(cuda_graphs):
        raise SystemExit("error: the graph Theano builds for CUDA differs from the one run on OpenCL "
                         "beyond its reductions, so the kernels taken from the OpenCL run are not "
                         "the CUDA ones")

    kernels, seen = [], set()

    def add(kernel):
        if (kernel.name, kernel.source) not in seen:
            seen.add((kernel.name, kernel.source))
            kernels.append(kernel)

    for path in sorted(glob.glob(os.path.join(kept, "**", "*.cl"), recursive=True)):
        with open(path) as stream:
            source = stream.read()
        match = KERNEL_NAME.search(source)
        # libgpuarray's kernels include cluda.h (CLBlast's and pocl's own do not);
        # "reduk" is the OpenCL reduction, which CUDA replaces with GpuCAReduceCuda.
        if '#include "cluda.h"' in source and match and match.group(1) != "reduk":
            add(Kernel(match.group(1), source, "GpuElemwise" if match.group(1) == "elem" else "libgpuarray"))
    if not any(k.origin == "GpuElemwise" for k in kernels):
        raise SystemExit("error: no kernel sources were kept from the OpenCL run: opencl0:0 (%s) must "
                         "be pocl (apt-get install pocl-opencl-icd)" % device)
    reductions = 0
    for graph in cuda_graphs:
        for index, node in enumerate(graph.toposort()):
            if isinstance(node.op, GpuKernelBase):
                for kernel in node.op.gpu_kernels(node, "node_%d" % index):
                    add(Kernel(kernel.name, kernel.code, type(node.op).__name__))
                    reductions += 1
    if not reductions:
        raise SystemExit("error: the CUDA graph has no GpuCAReduceCuda kernels; Theano's optimizer "
                         "did not take the context for CUDA")
    libgpuarray = cuda_libs.loaded_path("libgpuarray")
    for kernel in blas_helper_kernels(libgpuarray):
        add(kernel)
    shutil.rmtree(kept, ignore_errors=True)
    return dict(device=device, libgpuarray=libgpuarray, header=cluda_cuda_header(libgpuarray),
                kernels=[k.to_json() for k in kernels])


# ---------------------------------------------------------------------------
# NVRTC, called as libgpuarray calls it
# ---------------------------------------------------------------------------
class Nvrtc(object):
    def __init__(self, path):
        self.path, self.lib = path, cuda_libs.load_nvrtc(path)
        self.lib.nvrtcGetErrorString.restype = ctypes.c_char_p
        self.version = cuda_libs.nvrtc_version(path)

    def compile(self, source, header, arch):
        """None when it compiles, else NVRTC's log (or error) as text."""
        lib, program = self.lib, ctypes.c_void_p()
        status = lib.nvrtcCreateProgram(ctypes.byref(program), source.encode(), b"kernel.cu", 1,
                                        (ctypes.c_char_p * 1)(header.encode()),
                                        (ctypes.c_char_p * 1)(b"cluda.h"))
        if status:
            return lib.nvrtcGetErrorString(status).decode()
        try:
            options = (ctypes.c_char_p * 2)(b"-arch", arch.encode())
            status = lib.nvrtcCompileProgram(program, 2, options)
            if not status:
                return None
            size = ctypes.c_size_t()
            lib.nvrtcGetProgramLogSize(program, ctypes.byref(size))
            log = ctypes.create_string_buffer(size.value)
            lib.nvrtcGetProgramLog(program, log)
            return log.value.decode(errors="replace") or lib.nvrtcGetErrorString(status).decode()
        finally:
            lib.nvrtcDestroyProgram(ctypes.byref(program))


def first_error(log):
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line]
    return (errors or lines or ["(no log)"])[0]


def check(nvrtc, header, kernels, architectures=ARCHITECTURES, log=print):
    """Compile every kernel for every architecture; returns the number of failures."""
    failures = 0
    for arch in architectures:
        started, failed = time.time(), []
        for kernel in kernels:
            problem = nvrtc.compile(kernel["source"], header, arch)
            if problem is not None:
                failed.append((kernel, problem))
        if failed:
            for kernel, problem in failed:
                log("%s: FAILED kernel %s (%s): %s" % (arch, kernel["name"], kernel["origin"],
                                                       first_error(problem)))
        else:
            log("%s: %d kernels compiled (%.1f s)" % (arch, len(kernels), time.time() - started))
        failures += len(failed)
    return failures


def find_nvrtc(folder):
    folders = cuda_libs.search_folders([folder]) if folder else cuda_libs.search_folders()
    found = cuda_libs.find_libraries("libnvrtc", folders)
    if not found:
        raise SystemExit("error: no libnvrtc.so.N in %s; run `make cuda-check`, which installs "
                         "the pinned NVRTC wheel there" % (folder or "the CUDA wheels or toolkits"))
    return max(found, key=lambda path: int(path.rsplit(".", 1)[1]))


def main(argv=None):
    parser = cli.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--nvrtc-dir", help="a folder NVRTC's wheel was installed into with "
                        "pip --target (default: the wheels on sys.path, then CUDA toolkits)")
    parser.add_argument("--kernels", metavar="KERNELS.json",
                        help="compile the kernels saved by --save instead of collecting them")
    parser.add_argument("--save", metavar="KERNELS.json", help="also write the kernels to this file")
    args = parser.parse_args(argv)
    started = time.time()
    nvrtc = Nvrtc(find_nvrtc(args.nvrtc_dir))
    if args.kernels:
        with open(args.kernels) as stream:
            found = json.load(stream)
    else:
        found = collect()
    if args.save:
        with open(args.save, "w") as stream:
            json.dump(found, stream)
    origins = {}
    for kernel in found["kernels"]:
        origins[kernel["origin"]] = origins.get(kernel["origin"], 0) + 1
    print("%d kernels: %s (graph run on %s)" % (
        len(found["kernels"]), ", ".join("%d %s" % (n, o) for o, n in sorted(origins.items())),
        found["device"]))
    print("NVRTC %d.%d (%s), cluda.h from %s" % (nvrtc.version + (nvrtc.path, found["libgpuarray"])))
    failures = check(nvrtc, found["header"], found["kernels"])
    print("%s in %.0f s" % ("all compiled" if not failures else "%d failures" % failures,
                            time.time() - started))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
