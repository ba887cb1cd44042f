# Two commands for a newcomer: `make run` sets up .venv and trains the lesson's
# network; `make test` runs the test suite (pytest tests). ARGS passes options:
#   make run ARGS="--updates 1000 --loss mse"
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test bench clean

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

clean:
	rm -rf $(VENV)
