"""In a notebook kernel that lacks the lesson's packages, install them into the kernel's own Python.

genre_mlp.ipynb calls install_missing_packages() in its first code cell, before the
lesson imports NumPy or Theano. A hosted notebook (Colab's runtime is Python 3.13) has
no venv of ours, but it has its own NumPy 2, SciPy and matplotlib, and may have
imported NumPy already. Those are kept when the glue supports that NumPy (2.1 to 2.5,
each tested by `make numpy-matrix`): only what is missing is installed (Theano, the
BLAS wheel, six, soundfile, pydot; gdown and tqdm, which fetch the lesson's data file), the
kept versions named to pip so that nothing moves them, and the notebook runs on, with
no restart. Where NumPy is absent or one the glue was
not tested on, the lesson's pins are installed as `make setup` does, and a kernel that
had loaded the old NumPy must be restarted. Theano is a source package: it is built
with theano_today/build_shims on PYTHONPATH and no build isolation (that folder says
why), and with --no-deps, so that its loose requirements cannot touch NumPy. Theano
then links the OpenBLAS wheel: the BLIS library `make setup` adds (README "Which BLAS")
is a venv's, not a system Python's.

Standard library only: it runs where nothing else is installed yet.
"""
import importlib
import importlib.metadata
import importlib.util
import os
import re
import site
import subprocess
import sys

# What the lesson imports, by module name, and the distribution pip installs for it.
NEEDED = ("numpy", "scipy", "theano", "matplotlib", "six", "scipy_openblas32", "soundfile", "pydot", "gdown",
          "tqdm")
DISTRIBUTIONS = {"scipy_openblas32": "scipy-openblas32"}
# The kernel's own NumPy is kept from 2.1 (the oldest with wheels for Python 3.13) to 2.5:
# the releases the glue is tested on (theano_today/numpy_matrix.sh, docs/platforms.md).
KEPT_NUMPY = ((2, 1), (2, 5))
# Kept as the kernel has them whenever they are there: they follow the NumPy they were built with.
KEPT_AS_THEY_ARE = ("scipy", "matplotlib", "six", "soundfile", "pydot", "gdown", "tqdm")
LESSON_EXTRAS = ("matplotlib", "soundfile", "pydot")  # pinned in lesson_helpers/requirements.txt


class InstallError(SystemExit):
    """One line, shown by the notebook as the cell's error (no traceback)."""


def pinned(requirements, name, python=sys.version_info[:2]):
    """The `name==version` line of a requirements file that applies to Python `python`.

    Understands the one kind of marker the project's files use: python_version < or >= "3.X".
    """
    with open(requirements) as lines:
        for line in lines:
            requirement, _, marker = line.partition(";")
            if requirement.split("==")[0].strip() != name:
                continue
            condition = re.match(r'\s*python_version\s*(<|>=)\s*"(\d+)\.(\d+)"\s*$', marker)
            if marker.strip() and not condition:
                raise InstallError("error: %s: a marker this installer cannot read: %s" % (requirements, line.strip()))
            if condition:
                bound = (int(condition.group(2)), int(condition.group(3)))
                if (tuple(python) < bound) != (condition.group(1) == "<"):
                    continue
            return requirement.strip()
    raise InstallError("error: %s pins no %s" % (requirements, name))


def installed_version(name):
    """The version of the distribution installed for module `name`, read without importing it; None if none."""
    if importlib.util.find_spec(name) is None:
        return None
    try:
        return importlib.metadata.version(DISTRIBUTIONS.get(name, name))
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def numpy_is_kept(version):
    """Whether the glue supports this NumPy, so that the kernel's own stays."""
    found = re.match(r"(\d+)\.(\d+)", version or "")
    return bool(found) and KEPT_NUMPY[0] <= (int(found.group(1)), int(found.group(2))) <= KEPT_NUMPY[1]


def plan(folder, versions, python=sys.version_info[:2]):
    """What to install, given the kernel's `versions` (module name -> version or None).

    Returns (requirements with their dependencies, Theano's own line, kept: "NumPy 2.2.6, ...",
    whether NumPy is replaced). The kept versions are in the first list too, pinned as they
    are, so that pip resolves around them rather than moving them.
    """
    lesson = os.path.join(folder, "requirements.txt")
    extras = os.path.join(folder, "lesson_helpers", "requirements.txt")
    keep_numpy = numpy_is_kept(versions.get("numpy"))
    requirements, kept = [], []
    for name in ("numpy",) + KEPT_AS_THEY_ARE + ("scipy_openblas32",):
        version = versions.get(name)
        # SciPy is built against a NumPy: it stays only with the kernel's NumPy.
        keep = keep_numpy if name in ("numpy", "scipy") else name in KEPT_AS_THEY_ARE
        if version and version != "unknown" and keep:
            requirements.append("%s==%s" % (DISTRIBUTIONS.get(name, name), version))
            kept.append("%s %s" % ({"numpy": "NumPy", "scipy": "SciPy"}.get(name, name), version))
        elif not version or name in ("numpy", "scipy"):
            pins = extras if name in LESSON_EXTRAS else lesson
            requirements.append(pinned(pins, DISTRIBUTIONS.get(name, name), python))
    if versions.get("scipy") is None and keep_numpy:
        # The pinned SciPy may want a newer NumPy than the kept one: let pip pick the SciPy.
        requirements = [line for line in requirements if not line.startswith("scipy==")] + ["scipy"]
    return requirements, pinned(lesson, "theano", python), ", ".join(kept), not keep_numpy


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
    if not os.path.exists(os.path.join(folder, "requirements.txt")):
        raise InstallError("error: %s lacks %s, and %s has no requirements.txt: open the notebook "
                           "from the project's folder (on Colab, git clone it and %%cd into it first)"
                           % (python, ", ".join(absent), folder))
    versions = {name: installed_version(name) for name in NEEDED}
    requirements, theano, kept, replaces_numpy = plan(folder, versions)
    log("This kernel's Python (%s) lacks %s: installing %s into it%s (a minute or two)..."
        % (python, ", ".join(absent), "the lesson's packages" if replaces_numpy else "only those",
           ", keeping its " + kept if kept else ""))
    if importlib.util.find_spec("setuptools") is None:  # Theano's build, and distutils on 3.12+
        pip(python, [pinned(os.path.join(folder, "requirements.txt"), "setuptools")])
    pip(python, requirements)
    environ = dict(os.environ, PYTHONPATH=os.path.join(folder, "theano_today", "build_shims"))
    # --no-deps: Theano's own loose requirements (numpy, scipy, six) are met above.
    pip(python, ["--no-build-isolation", "--no-deps", theano], environ)
    importlib.invalidate_caches()
    # A running interpreter reads the .pth files only at start-up; setuptools' own, which
    # provides `distutils` on 3.12 and later, must be read now for Theano to import.
    for packages in site.getsitepackages():
        site.addsitedir(packages)
    if replaces_numpy and "numpy" in sys.modules:
        # The kernel holds the NumPy it had before; the pinned one loads only in a new process.
        raise InstallError("error: installed, but this kernel loaded NumPy %s before, which the lesson's glue "
                           "is not tested on: restart the kernel (Colab: Runtime > Restart session) and run "
                           "the notebook again" % versions["numpy"])
    log("Installed; the lesson goes on.")
    return True
