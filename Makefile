# Two commands for a newcomer: `make run` sets up .venv and trains the lesson's
# network; `make test` runs the test suite (pytest tests). ARGS passes options:
#   make run ARGS="--updates 1000 --loss mse"
# `make gpu-venv` sets up the GPU route (README "GPU"), which `make test` then tests too.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

GPU_VENV ?= .venv-gpu

.PHONY: run test bench gpu-venv peers clean

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

gpu-venv: $(GPU_VENV)/.ready

# The benchmark's peers, PyTorch and JAX, each in a venv of its own: they need NumPy 2
# and a newer setuptools, which would break the lesson's venv. tools/bench.py runs each
# with its venv's python, and reports a peer whose venv is missing as not compared.
.venv-torch/.ready: tools/requirements-torch.txt
	$(PYTHON) -m venv .venv-torch
	.venv-torch/bin/python -m pip install --quiet --disable-pip-version-check -r tools/requirements-torch.txt
	touch $@

.venv-jax/.ready: tools/requirements-jax.txt
	$(PYTHON) -m venv .venv-jax
	.venv-jax/bin/python -m pip install --quiet --disable-pip-version-check -r tools/requirements-jax.txt
	touch $@

peers: .venv-torch/.ready .venv-jax/.ready

clean:
	rm -rf $(VENV) $(GPU_VENV) .venv-torch .venv-jax
