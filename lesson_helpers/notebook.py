"""In a notebook kernel that lacks the lesson's packages, install them into the kernel's own Python.

genre_mlp.ipynb calls install_missing_packages() in its first code cell, before anything
imports NumPy or Theano. A hosted notebook (Colab's runtime is Python 3.13) has no venv
of ours, so the packages go where the kernel runs, in the steps `make setup` takes for a
venv: setuptools first, then requirements.txt with theano_today/build_shims on PYTHONPATH and no
build isolation (Theano is a source package, theano_today/build_shims says why), and matplotlib
for the pictures. Theano then links the OpenBLAS wheel from requirements.txt: the BLIS
library `make setup` adds (README "Which BLAS") is a venv's, not a system Python's.

Standard library only: it runs where nothing else is installed yet.
"""
import importlib
import importlib.util
import os
import site
import subprocess
import sys

NEEDED = ("numpy", "scipy", "theano", "matplotlib")


class InstallError(SystemExit):
    """One line, shown by the notebook as the cell's error (no traceback)."""


def pinned(requirements, name):
    """The `name==version` line of a requirements file."""
    with open(requirements) as lines:
        for line in lines:
            if line.split("==")[0].strip() == name:
                return line.split(";")[0].strip()
    raise InstallError("error: %s pins no %s" % (requirements, name))


def missing(names=NEEDED):
    return [name for name in names if importlib.util.find_spec(name) is None]


def pip(python, arguments, environ=None):
    result = subprocess.run([python, "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
                            + arguments, capture_output=True, text=True, env=environ)
    if result.returncode != 0:
        lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        raise InstallError("error: pip could not install the lesson's packages into %s: %s"
                           % (python, lines[-1] if lines else "exit status %d" % result.returncode))


def install_missing_packages(folder=None, python=sys.executable, log=print):
    """Install what the lesson needs into `python` when the running kernel cannot import it."""
    absent = missing()
    if not absent:
        return False
    folder = folder or os.getcwd()
    requirements = os.path.join(folder, "requirements.txt")
    if not os.path.exists(requirements):
        raise InstallError("error: %s lacks %s, and %s has no requirements.txt: open the notebook "
                           "from the project's folder (on Colab, git clone it and %%cd into it first)"
                           % (python, ", ".join(absent), folder))
    log("This kernel's Python (%s) lacks %s: installing the lesson's packages into it, as "
        "`make setup` does for a venv (a minute or two)..." % (python, ", ".join(absent)))
    numpy_loaded = "numpy" in sys.modules
    pip(python, [pinned(requirements, "setuptools")])
    environ = dict(os.environ, PYTHONPATH=os.path.join(folder, "theano_today", "build_shims"))
    pip(python, ["--no-build-isolation", "-r", requirements,
                 pinned(os.path.join(folder, "lesson_helpers", "requirements.txt"), "matplotlib")], environ)
    importlib.invalidate_caches()
    # A running interpreter reads the .pth files only at start-up; setuptools' own, which
    # provides `distutils` on 3.12 and later, must be read now for Theano to import.
    for packages in site.getsitepackages():
        site.addsitedir(packages)
    if numpy_loaded:
        # The kernel holds the NumPy it had before; the pinned one loads only in a new process.
        raise InstallError("error: installed, but this kernel loaded NumPy before: restart the kernel "
                           "(Colab: Runtime > Restart session) and run the notebook again")
    log("Installed; the lesson goes on.")
    return True
