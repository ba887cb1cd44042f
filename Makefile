# Two commands for a newcomer: `make run` sets up .venv and trains the lesson's
# network; `make test` runs the test suite (pytest tests). ARGS passes options:
#   make run ARGS="--updates 1000 --loss mse"
# `make data` downloads the lesson's data file.
# `make gpu-venv` sets up the GPU route (README "GPU"), which `make test` then tests too.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

GPU_VENV ?= .venv-gpu

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

# The lesson's recordings (48 MB from Google Drive), checked, saved as sample_3s_400Hz.npz
# beside genre_mlp.py: README "The data". ARGS="--force" replaces a file already there.
.PHONY: data
data: $(VENV)/.tools
	$(PY) tools/make_dataset.py download $(ARGS)

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

clean:
	rm -rf $(VENV) $(GPU_VENV)
