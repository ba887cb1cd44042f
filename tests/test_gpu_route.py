"""The GPU route (THEANO_FLAGS=device=...) through pygpu, on a CPU OpenCL driver (pocl).

Theano's gpuarray back end runs the same code on OpenCL as on CUDA, so these
tests exercise the pygpu path on a machine without a GPU. They need the GPU
venv (`make gpu-venv`, README "GPU") and an OpenCL driver; CI has both, and
there a missing route fails instead of skipping.
"""
import glob
import json
import os
import re
import subprocess

import numpy as np
import pytest

from conftest import GPU_PYTHON, GPU_READY, GPU_VENV, NO_SYSFS, ROOT, run_script, separable, write_npz
from benchmark.reference import NumpyMLP

OPENCL = {"THEANO_FLAGS": "device=opencl0:0"}
UPDATES = 40


@pytest.fixture(scope="module")
def gpu_python():
    if NO_SYSFS:
        pytest.skip(NO_SYSFS)  # even in CI: the machine, not the set-up, lacks it
    missing = [what for what, present in (("the GPU venv %s (make gpu-venv)" % os.path.basename(GPU_VENV), GPU_READY),
                                          ("an OpenCL driver (apt-get install pocl-opencl-icd)",
                                           glob.glob("/etc/OpenCL/vendors/*.icd")))
               if not present]
    if missing:
        if os.environ.get("CI"):
            pytest.fail("CI must test the GPU route, but it lacks %s" % " and ".join(missing))
        pytest.skip("the GPU route is not set up here: it lacks %s" % " and ".join(missing))
    return GPU_PYTHON


@pytest.fixture(scope="module")
def opencl_run(gpu_python, tmp_path_factory):
    """The lesson's network trained for a few dozen updates on opencl0:0."""
    folder = tmp_path_factory.mktemp("opencl")
    rng = np.random.RandomState(5)
    pool = separable(200, 6)
    rows = rng.randint(0, 200, size=(UPDATES, 16))
    batches = dict(inputs=pool[rows], targets=(rows >= 100).astype(np.float32))
    np.savez(str(folder / "batches.npz"), **batches)
    result = subprocess.run([gpu_python, os.path.join(ROOT, "tests", "opencl_worker.py"),
                             str(folder / "batches.npz"), str(folder / "out.npz")],
                            capture_output=True, text=True, env=dict(os.environ, **OPENCL), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return batches, dict(np.load(str(folder / "out.npz")))


def test_graph_runs_on_gpuarray_ops(opencl_run):
    _, seen = opencl_run
    assert str(seen["device"]).startswith("opencl0:0: ")  # a gpuarray context, not a CPU fallback
    ops = set(seen["gpu_ops"])
    assert {"GpuFromHost", "GpuElemwise"} <= ops
    assert ops & {"GpuGemm", "GpuDot22"}  # the matrix products themselves run through the device's BLAS


def test_opencl_matches_the_cpu_and_numpy(opencl_run, model):
    batches, seen = opencl_run
    reference = NumpyMLP([p.get_value() for p in model.params])  # the same start as the worker's
    numpy_losses = [reference.train_batch(x, t) for x, t in zip(batches["inputs"], batches["targets"])]
    cpu_losses = [model.train_batch(x, t) for x, t in zip(batches["inputs"], batches["targets"])]
    np.testing.assert_allclose(seen["losses"], cpu_losses, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(seen["losses"], numpy_losses, rtol=1e-4, atol=1e-5)
    assert numpy_losses[-1] < 0.5 * numpy_losses[0]  # it learned, so agreeing means something
    for param, expected in zip(model.params, reference.params):
        np.testing.assert_allclose(seen[param.name], param.get_value(), atol=1e-5, err_msg=param.name)
        np.testing.assert_allclose(seen[param.name], expected, atol=1e-5, err_msg=param.name)


def test_saturated_outputs_are_finite_on_opencl(opencl_run):
    _, seen = opencl_run
    assert len(seen["saturated"]) == 8
    for logit, target, loss, train_loss, new_bias in seen["saturated"]:
        expected = np.logaddexp(0, logit) - target * logit  # softplus(z) - t z, in NumPy
        for theano_loss in (loss, train_loss):  # what Theano computed on the device
            assert np.isfinite(theano_loss), (logit, target)
            assert np.isclose(theano_loss, expected, rtol=1e-6, atol=1e-7), (logit, target, theano_loss)
        gradient = 1 / (1 + np.exp(-logit)) - target
        assert np.isclose(new_bias, logit - 0.01 * gradient, atol=1e-5), (logit, target)


def test_script_on_opencl_prints_the_device(gpu_python, opencl_run, tmp_path):
    data = write_npz(tmp_path / "data.npz", train=separable(200, 1), test=separable(100, 2))
    result = subprocess.run([gpu_python, os.path.join(ROOT, "genre_mlp.py"), "--data", data,
                             "--updates", "100", "--eval-step", "50"],
                            capture_output=True, text=True, env=dict(os.environ, **OPENCL), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("Theano 1.0.5 on opencl0:0: ")
    cpu = run_script("--data", data, "--updates", "100", "--eval-step", "50")
    opencl_rows, cpu_rows = evaluations(result.stdout), evaluations(cpu.stdout)
    assert opencl_rows.shape == cpu_rows.shape == (2, 4)
    assert list(opencl_rows[:, 0]) == list(cpu_rows[:, 0]) == [50, 100]
    # The drivers' sums differ in the last bits: a loss printed to 4 decimals may differ by one
    # in its last digit, and an excerpt at 0.5 may fall either way (1 of 100 test rows).
    np.testing.assert_allclose(opencl_rows[:, 1], cpu_rows[:, 1], atol=1.0 + 1e-9)
    np.testing.assert_allclose(opencl_rows[:, 2:], cpu_rows[:, 2:], atol=1.5e-4)


def evaluations(stdout):
    """(update, accuracy %, test loss, train loss) for each `Accuracy after update` line."""
    rows = []
    for line in stdout.splitlines():
        found = re.match(r"Accuracy after update (\d+)/\d+: ([\d.]+)%  test loss ([\d.]+)  "
                         r"train loss ([\d.]+)", line)
        if found:
            rows.append([float(value) for value in found.groups()])
    return np.array(rows)


# Host data that pygpu must convert before its copy to the device: on NumPy 2 its
# numpy.array(..., copy=False) would refuse each of these (gpu_route/make_gpu_venv.sh).
HOST_TO_DEVICE = r"""
import json
import numpy as np
import pygpu

context = pygpu.init("opencl0:0")
grid = np.arange(24.0).reshape(4, 6)  # float64
sent = {"a list": grid.tolist(), "float64 as float32": grid, "a strided view": grid.astype(np.float32)[:, ::2],
        "a transposed view": grid.astype(np.float32).T}
seen = {}
for name, value in sent.items():
    try:
        seen[name] = np.asarray(pygpu.gpuarray.array(value, dtype="float32", context=context)).tolist()
    except Exception as error:
        seen[name] = "%s: %s" % (type(error).__name__, str(error).splitlines()[0])
print(json.dumps(seen))
"""


def test_host_data_is_converted_on_its_way_to_the_device(gpu_python):
    result = subprocess.run([gpu_python, "-c", HOST_TO_DEVICE], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout)
    grid = np.arange(24.0).reshape(4, 6).astype(np.float32)
    expected = {"a list": grid, "float64 as float32": grid, "a strided view": grid[:, ::2],
                "a transposed view": grid.T}
    assert set(seen) == set(expected)
    for name, values in seen.items():
        assert not isinstance(values, str), "%s: %s" % (name, values)
        np.testing.assert_array_equal(np.array(values, np.float32), expected[name], err_msg=name)


# The same values through Theano's own conversion, GpuArrayType.filter, as a shared
# variable's set_value or a function's input takes them (theano_today/theano_numpy2.py).
FILTER_TO_DEVICE = """
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from theano_today.theano_setup import import_theano
theano, _ = import_theano()
from theano.gpuarray.type import GpuArrayType
kind = GpuArrayType("float32", (False, False))
grid = np.arange(24.0).reshape(4, 6)  # float64
sent = {"a list": grid.tolist(), "float64 as float32": grid}
seen = {}
for name, value in sent.items():
    try:
        seen[name] = np.asarray(kind.filter(value, allow_downcast=True)).tolist()
    except Exception as error:
        seen[name] = "%s: %s" % (type(error).__name__, str(error).splitlines()[0])
print(json.dumps(seen))
"""


def test_theanos_own_conversion_to_the_device_copies_where_needed(gpu_python):
    result = subprocess.run([gpu_python, "-c", FILTER_TO_DEVICE, ROOT], capture_output=True, text=True,
                            timeout=600, env=dict(os.environ, **OPENCL))
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.splitlines()[-1])
    grid = np.arange(24.0).reshape(4, 6).astype(np.float32)
    for name in ("a list", "float64 as float32"):
        assert not isinstance(seen[name], str), "%s: %s" % (name, seen[name])
        np.testing.assert_array_equal(np.array(seen[name], np.float32), grid, err_msg=name)


def test_cuda_without_a_driver_is_one_line(gpu_python, tmp_path):
    # pygpu is there, the NVIDIA driver is not: the reason is libgpuarray's, in one line.
    data = write_npz(tmp_path / "data.npz", train=separable(20), test=separable(20))
    result = subprocess.run([gpu_python, os.path.join(ROOT, "genre_mlp.py"), "--data", data],
                            capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, THEANO_FLAGS="device=cuda,force_device=True"))
    assert result.returncode == 1 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: THEANO_FLAGS asks for device=cuda with force_device=True")
    assert 'Could not load "libcuda.so"' in result.stderr and "b'" not in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("version", ["3.10", "3.16"])
def test_gpu_venv_refuses_another_python_in_one_line(tmp_path, version):
    # Runs without the GPU venv: the version is checked before anything is fetched or written.
    fake = tmp_path / ("python" + version)
    fake.write_text("#!/bin/sh\necho %s\n" % version)
    fake.chmod(0o755)
    venv = tmp_path / "venv"
    result = subprocess.run(["bash", os.path.join(ROOT, "gpu_route", "make_gpu_venv.sh"), str(fake), str(venv)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stdout == "" and not venv.exists()
    assert result.stderr.startswith("error: make_gpu_venv: %s is Python %s; the GPU route needs 3.11 to 3.15 ("
                                    % (fake, version))
    assert result.stderr.count("\n") == 1


# cuDNN's reduction over every axis, as Theano's optimizer builds it where it finds a
# cuDNN (none is needed to build the op; theano_today/theano_numpy2.py).
DNN_REDUCTION = """
import sys
sys.path.insert(0, sys.argv[1])
from theano_today.theano_setup import import_theano
theano, _ = import_theano()
from theano.gpuarray.dnn import GpuDnnReduction
print(int(GpuDnnReduction("add", None, "float32", "float32", False).c_axis),
      int(GpuDnnReduction("add", (0, 2), "float32", "float32", False).c_axis))
"""


def test_cudnns_reduction_over_every_axis_is_built_on_numpy_2(gpu_python):
    result = subprocess.run([gpu_python, "-c", DNN_REDUCTION, ROOT], capture_output=True, text=True,
                            timeout=600, env=dict(os.environ, **OPENCL))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-2:] == [str(0xFFFFFFFF), "5"]  # every axis; axes 0 and 2
