"""Compiles, with NVIDIA's NVRTC and no GPU, every CUDA kernel the lessons need on device=cuda.

    make cuda-check        # = .venv-gpu-3.X/bin/python gpu_route/cuda_check.py --nvrtc-dir .nvrtc
    .venv-gpu-3.X/bin/python gpu_route/cuda_check.py --nvrtc-dir .nvrtc --lesson cnn

Both lessons by default, each collected in a process of its own: genre_mlp.py (the
MLP) and genre_cnn.py (the convolutional network). Where the kernels come from
(libgpuarray writes most of them while running, so they are taken from a run, not
retyped here):

1. The lesson's network is built and run for a few updates on an OpenCL device
   (pocl, a CPU OpenCL driver). libgpuarray generates the GpuElemwise kernels as
   it goes (its generator writes the same text for CUDA and OpenCL: the `cluda.h`
   header it includes is what differs), and pocl keeps each program's source
   when asked (POCL_LEAVE_KERNEL_COMPILER_TEMP_FILES).
2. The same graph is optimized once more for a context that says it is CUDA, so
   that Theano's optimizer picks what it picks on an NVIDIA GPU: GpuCAReduceCuda
   instead of the OpenCL reduction. Their kernels are the op's own gpu_kernels(),
   as are those of the CNN's convolutions: without cuDNN (dnn.enabled=False here)
   Theano's optimizer makes each conv2d a GpuCorrMM, and its gradients
   GpuCorrMM_gradWeights and GpuCorrMM_gradInputs, whose im2col/col2im kernels are
   the `#kernel` sections of theano/gpuarray/c_code/corr_gemm.c with the op's dtype
   macros in front (CGpuKernelBase.gpu_kernels). A convolution left on the CPU
   stops the check. Every other node must match the OpenCL run's, or the check stops.
3. libgpuarray compiles six kernels of its own when cuBLAS starts (batched gemv
   and ger helpers); they are string constants in libgpuarray.so.3, read from there,
   as is its CUDA header, cluda_cuda.h.

Each kernel is then compiled as libgpuarray compiles it: nvrtcCreateProgram with
cluda_cuda.h offered as "cluda.h", options `-arch compute_XY`, for compute_75 (Turing),
compute_80 (Ampere) and compute_90 (Hopper). It checks the kernels, not a GPU:
whether a driver accepts the PTX and runs it correctly is left to gpu_route/gpu_check.py.
"""
import argparse
import ctypes
import glob
import json
import os
import re
import shutil
import subprocess
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


def optimized_graphs(lesson, test_set):
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
        lesson.Model(test_set=test_set)
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


LESSONS = {"mlp": "genre_mlp", "cnn": "genre_cnn"}
FUNCTIONS = ("train_batch", "evaluate", "first_layer", "evaluate_test")  # those a lesson's Model has
CONVOLUTIONS = ("Conv", "Corr")  # in an op's class name: conv2d's abstract op, CorrMM, ConvOp ...


def convolutions(graphs):
    """(on the GPU, on the CPU): the class names of the graphs' convolution nodes, counted."""
    found = ({}, {})
    for graph in graphs:
        for node in graph.toposort():
            name = type(node.op).__name__
            if any(word in name for word in CONVOLUTIONS):
                where = found[0 if type(node.op).__module__.startswith("theano.gpuarray") else 1]
                where[name] = where.get(name, 0) + 1
    return found


def kernel_origin(op):
    """The op named in the report: GpuCorrMM's three ops share corr_gemm.c's kernels."""
    name = type(op).__name__
    return "GpuCorrMM" if name.startswith("GpuCorrMM") else name


def collect(lesson_name="mlp", batches=3):
    """Every kernel the lesson's compiled functions need on a CUDA device."""
    kept = tempfile.mkdtemp(prefix="pocl-sources-")
    os.environ.update(POCL_CACHE_DIR=kept, POCL_LEAVE_KERNEL_COMPILER_TEMP_FILES="1")
    # dnn.enabled=False: the graph without cuDNN, whose kernels are Theano's own (with
    # cuDNN the convolutions would be cuDNN's, already compiled, and nothing to check here).
    os.environ["THEANO_FLAGS"] = ",".join(filter(None, [os.environ.get("THEANO_FLAGS"), "device=opencl0:0",
                                                        "force_device=True", "dnn.enabled=False"]))
    import importlib
    import numpy as np
    lesson = importlib.import_module(LESSONS[lesson_name])
    from theano_today import lesson_start
    from theano.gpuarray.basic_ops import GpuKernelBase
    from theano.gpuarray.type import get_context

    device = lesson_start.device_name()
    test_set = (np.zeros((2000, lesson.SAMPLE_WIDTH), lesson.FLOATX),
                np.zeros(2000, lesson.FLOATX))
    model = lesson.Model(test_set=test_set)
    functions = [getattr(model, name) for name in FUNCTIONS if getattr(model, name, None) is not None]
    rng = np.random.RandomState(0)
    for _ in range(batches):
        inputs = rng.standard_normal((lesson.BATCH_SIZE, lesson.SAMPLE_WIDTH)).astype(lesson.FLOATX)
        targets = (rng.uniform(size=lesson.BATCH_SIZE) > 0.5).astype(lesson.FLOATX)
        model.train_batch(inputs, targets)
        model.evaluate(inputs, targets)
        model.evaluate_test()
        if getattr(model, "first_layer", None) is not None:
            model.first_layer(inputs)
    opencl_graphs = [f.maker.fgraph for f in functions]

    undo = pretend_cuda(get_context(None))
    try:
        cuda_graphs = optimized_graphs(lesson, test_set)
    finally:
        undo()

    def signatures(graphs):
        return sorted(repr(node_signature(n)) for g in graphs for n in g.toposort()
                      if type(n.op).__module__.startswith("theano.gpuarray"))
    if signatures(opencl_graphs) != signatures(cuda_graphs):
        raise SystemExit("error: the graph Theano builds for CUDA differs from the one run on OpenCL "
                         "beyond its reductions, so the kernels taken from the OpenCL run are not "
                         "the CUDA ones")
    on_gpu, on_cpu = convolutions(cuda_graphs)
    if on_cpu:
        raise SystemExit("error: %s's graph for CUDA keeps convolutions on the CPU (%s)"
                         % (LESSONS[lesson_name], ", ".join("%d %s" % (n, o) for o, n in sorted(on_cpu.items()))))

    kernels, seen = [], set()

    def add(kernel):
        if (kernel.name, kernel.source) not in seen:
            seen.add((kernel.name, kernel.source))
            kernels.append(kernel)

    # The kernels of Theano's own GpuKernelBase ops are taken from the CUDA graph below, not
    # from the OpenCL run (where they were compiled too).
    own = set(k.name for g in opencl_graphs for i, n in enumerate(g.toposort()) if isinstance(n.op, GpuKernelBase)
              for k in n.op.gpu_kernels(n, "node_%d" % i))
    for path in sorted(glob.glob(os.path.join(kept, "**", "*.cl"), recursive=True)):
        with open(path) as stream:
            source = stream.read()
        match = KERNEL_NAME.search(source)
        # libgpuarray's kernels include cluda.h (CLBlast's and pocl's own do not);
        # "reduk" is the OpenCL reduction, which CUDA replaces with GpuCAReduceCuda.
        if '#include "cluda.h"' in source and match and match.group(1) != "reduk" and match.group(1) not in own:
            add(Kernel(match.group(1), source, "GpuElemwise" if match.group(1) == "elem" else "libgpuarray"))
    if not any(k.origin == "GpuElemwise" for k in kernels):
        raise SystemExit("error: no kernel sources were kept from the OpenCL run: opencl0:0 (%s) must "
                         "be pocl (apt-get install pocl-opencl-icd)" % device)
    for graph in cuda_graphs:
        for index, node in enumerate(graph.toposort()):
            if isinstance(node.op, GpuKernelBase):
                for kernel in node.op.gpu_kernels(node, "node_%d" % index):
                    add(Kernel(kernel.name, kernel.code, kernel_origin(node.op)))
    if not any(k.origin == "GpuCAReduceCuda" for k in kernels):
        raise SystemExit("error: the CUDA graph has no GpuCAReduceCuda kernels; Theano's optimizer "
                         "did not take the context for CUDA")
    if on_gpu and not any(k.origin == "GpuCorrMM" for k in kernels):
        raise SystemExit("error: the CUDA graph's convolutions (%s) brought no GpuCorrMM kernels"
                         % ", ".join(sorted(on_gpu)))
    libgpuarray = cuda_libs.loaded_path("libgpuarray")
    for kernel in blas_helper_kernels(libgpuarray):
        add(kernel)
    shutil.rmtree(kept, ignore_errors=True)
    return dict(lesson=lesson_name, device=device, libgpuarray=libgpuarray, header=cluda_cuda_header(libgpuarray),
                convolutions=on_gpu, kernels=[k.to_json() for k in kernels])


def collect_apart(lesson_name):
    """collect(lesson_name), in a process of its own: one device and one pocl cache per lesson."""
    with tempfile.TemporaryDirectory(prefix="cuda-check-") as folder:
        saved = os.path.join(folder, "kernels.json")
        result = subprocess.run([sys.executable, os.path.abspath(__file__), "--collect-only", lesson_name,
                                 "--save", saved], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if result.returncode != 0:
            lines = (result.stderr.strip() or result.stdout.strip()).splitlines()
            errors = [line for line in lines if line.startswith("error: ")]
            raise SystemExit((errors or ["error: collecting %s's kernels failed: %s"
                                         % (LESSONS[lesson_name], (lines or ["exit status %d" % result.returncode])[-1])])[-1])
        with open(saved) as stream:
            return json.load(stream)


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


def check(nvrtc, header, kernels, architectures=ARCHITECTURES, log=print, label=""):
    """Compile every kernel for every architecture; returns the number of failures."""
    label = label and label + " "
    failures = 0
    for arch in architectures:
        started, failed = time.time(), []
        for kernel in kernels:
            problem = nvrtc.compile(kernel["source"], header, arch)
            if problem is not None:
                failed.append((kernel, problem))
        if failed:
            for kernel, problem in failed:
                log("%s%s: FAILED kernel %s (%s): %s" % (label, arch, kernel["name"], kernel["origin"],
                                                         first_error(problem)))
        else:
            log("%s%s: %d kernels compiled (%.1f s)" % (label, arch, len(kernels), time.time() - started))
        failures += len(failed)
    return failures


def find_nvrtc(folder):
    folders = cuda_libs.search_folders([folder]) if folder else cuda_libs.search_folders()
    found = cuda_libs.find_libraries("libnvrtc", folders)
    if not found:
        raise SystemExit("error: no libnvrtc.so.N in %s; run `make cuda-check`, which installs "
                         "the pinned NVRTC wheel there" % (folder or "the CUDA wheels or toolkits"))
    return max(found, key=lambda path: int(path.rsplit(".", 1)[1]))


def describe(found):
    """One line: the lesson, its kernels by origin, and where its graph ran."""
    origins = {}
    for kernel in found["kernels"]:
        origins[kernel["origin"]] = origins.get(kernel["origin"], 0) + 1
    line = "%s: %d kernels: %s (graph run on %s)" % (
        found["lesson"], len(found["kernels"]), ", ".join("%d %s" % (n, o) for o, n in sorted(origins.items())),
        found["device"])
    if found.get("convolutions"):
        line += "; its convolutions on CUDA: %s, none on the CPU" % ", ".join(
            "%d %s" % (n, o) for o, n in sorted(found["convolutions"].items()))
    return line


def main(argv=None):
    parser = cli.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--nvrtc-dir", help="a folder NVRTC's wheel was installed into with "
                        "pip --target (default: the wheels on sys.path, then CUDA toolkits)")
    parser.add_argument("--lesson", choices=sorted(LESSONS) + ["all"], default="all",
                        help="mlp (genre_mlp.py), cnn (genre_cnn.py) or all (default)")
    parser.add_argument("--kernels", metavar="KERNELS.json",
                        help="compile the kernels saved by --save instead of collecting them")
    parser.add_argument("--save", metavar="KERNELS.json", help="also write the kernels to this file")
    parser.add_argument("--collect-only", choices=sorted(LESSONS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.collect_only:  # the child process of collect_apart
        found = collect(args.collect_only)
        with open(args.save, "w") as stream:
            json.dump(found, stream)
        return
    started = time.time()
    nvrtc = Nvrtc(find_nvrtc(args.nvrtc_dir))
    names = sorted(LESSONS, reverse=True) if args.lesson == "all" else [args.lesson]  # mlp, then cnn
    if args.kernels:
        with open(args.kernels) as stream:
            lessons = [found for found in json.load(stream)["lessons"] if found["lesson"] in names]
    else:
        lessons = [collect_apart(name) for name in names]
    if args.save:
        with open(args.save, "w") as stream:
            json.dump(dict(lessons=lessons), stream)
    for found in lessons:
        print(describe(found))
    print("NVRTC %d.%d (%s), cluda.h from %s" % (nvrtc.version + (nvrtc.path, lessons[0]["libgpuarray"])))
    failures = 0
    for found in lessons:
        failures += check(nvrtc, found["header"], found["kernels"], label=found["lesson"])
    print("%s in %.0f s" % ("all compiled" if not failures else "%d failures" % failures,
                            time.time() - started))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
