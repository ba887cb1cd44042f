# Two commands for a newcomer: `make run` sets up .venv and trains the lesson's
# network; `make test` runs the test suite (pytest tests). ARGS passes options:
#   make run ARGS="--updates 1000 --loss mse"
# `make gpu-venv` sets up the GPU route (README "GPU"), which `make test` then tests too.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
GPU_VENV ?= .venv-gpu-$(PY_VERSION)

.PHONY: run test bench gpu-venv clean

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

# The GPU route (README "GPU"), one venv per Python: pygpu built for PYTHON from
# Debian 12's packages, which apt fetches by name and the venv keeps inside it.
$(GPU_VENV)/.ready: requirements.txt tools/gpu-requirements.txt tools/make_gpu_venv.sh
	tools/make_gpu_venv.sh $(PYTHON) $(GPU_VENV)

gpu-venv: $(GPU_VENV)/.ready

clean:
	rm -rf $(VENV) $(GPU_VENV)
