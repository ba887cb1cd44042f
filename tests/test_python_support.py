"""Python 3.11 and 3.12: which interpreter the Makefile picks, the 3.12 shims, same results on both."""
import glob
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT
from tools import theano_setup

FIND_PYTHON = os.path.join(ROOT, "tools", "find_python.sh")
THIS_VERSION = "%d.%d" % sys.version_info[:2]


def find_python(*args, path, tmp_path):
    """tools/find_python.sh on a machine whose PATH is `path` alone, with no pyenv and no uv."""
    env = {"PATH": path, "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "no-pyenv")}
    return subprocess.run([shutil.which("bash"), FIND_PYTHON] + list(args), capture_output=True, text=True, env=env)


def folder_with_python3(tmp_path, interpreter):
    """A PATH folder whose python3 is `interpreter`, with the two commands the script uses."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "python3").symlink_to(interpreter)
    for command in ("ls", "sort"):
        (folder / command).symlink_to(shutil.which(command))
    return str(folder)


def a_python_313():
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found = sorted(glob.glob(os.path.join(pyenv, "versions/3.1[3-9]*/bin/python3.1[3-9]"))
                   + glob.glob("/usr/bin/python3.1[3-9]"))
    if not found:
        pytest.skip("no Python 3.13 or later on this machine")
    return found[0]


def test_python3_of_a_supported_version_is_chosen(tmp_path):
    result = find_python(path=folder_with_python3(tmp_path, sys.executable), tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout
    word, executable, version = result.stdout.split()
    assert word == "ok" and version == THIS_VERSION
    assert os.path.samefile(executable, sys.executable)


@pytest.mark.parametrize("request_by", ["version", "path"])
def test_python_313_is_refused_in_one_line_saying_why(tmp_path, request_by):
    python313 = a_python_313()
    if request_by == "version":
        result = find_python("3.13", path="/usr/bin:/bin", tmp_path=tmp_path)
    else:
        result = find_python(python313, path="/usr/bin:/bin", tmp_path=tmp_path)
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 1
    assert "NumPy 1.x stops at Python 3.12" in result.stdout


def test_no_supported_python_names_what_to_install(tmp_path):
    # python3 is 3.13 (as on Debian 13), and nothing else is on this PATH.
    result = find_python(path=folder_with_python3(tmp_path, a_python_313()), tmp_path=tmp_path)
    assert result.returncode == 1 and len(result.stdout.splitlines()) == 1
    assert "no usable Python 3.11 or 3.12 found" in result.stdout and "too new" in result.stdout
    assert "uv python install 3.12" in result.stdout and "python3.12 package" in result.stdout


def test_make_stops_in_one_line_before_pip(tmp_path):
    result = subprocess.run(["make", "-s", "-C", ROOT, "run", "PYTHON=3.10"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    lines = (result.stdout + result.stderr).splitlines()
    assert len(lines) == 1, lines
    assert "PYTHON=3.10 is not supported: use 3.11 or 3.12" in lines[0]


def test_requirements_pin_the_numpy_that_setup_errors_name():
    pins = {}
    for line in open(os.path.join(ROOT, "requirements.txt")):
        match = re.match(r'numpy==(\S+); python_version == "(\d+)\.(\d+)"', line)
        if match:
            pins[int(match.group(2)), int(match.group(3))] = match.group(1)
    assert pins == theano_setup.NUMPY_PINS
    assert "NumPy %s on Python %s" % (pins[sys.version_info[:2]], THIS_VERSION) in theano_setup.install_hint()


def test_shims_only_where_python_lacks_the_module(genre_mlp):
    # genre_mlp imported Theano through import_theano, which applied what this Python needs.
    import numpy as np
    import numpy.distutils.misc_util
    stand_ins = [name for name in ("imp", "numpy.distutils")
                 if getattr(sys.modules[name], "__file__", None) is None]  # a real module has a file
    if sys.version_info >= (3, 12):
        assert stand_ins == ["imp", "numpy.distutils"]
        assert numpy.distutils.misc_util.get_numpy_include_dirs() == [np.get_include()]
        assert numpy.distutils.__config__ is None  # "NumPy's BLAS is unknown" to Theano
    else:
        assert stand_ins == []
    assert theano_setup.removed_modules() == []  # nothing more is needed once applied


def test_build_shim_reads_a_setup_cfg_as_theanos_versioneer_does(tmp_path):
    (tmp_path / "setup.cfg").write_text("[versioneer]\nVCS = git\nstyle = pep440\n")
    code = ("import configparser\n"
            "parser = configparser.SafeConfigParser()\n"
            "with open('setup.cfg') as f:\n"
            "    parser.readfp(f)\n"
            "print(parser.get('versioneer', 'VCS'), parser.get('versioneer', 'style'))\n")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "tools", "build_shims"))
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["git", "pep440"]


def test_same_accuracy_lines_on_python_311_and_312(tmp_path):
    pythons = {version: os.path.join(ROOT, ".venv-%s" % version, "bin", "python")
               for version in ("3.11", "3.12")}
    missing = [version for version, python in pythons.items() if not os.path.exists(python)]
    if missing:
        message = "no .venv-%s (make setup PYTHON=%s)" % (missing[0], missing[0])
        if os.environ.get("CI"):
            pytest.fail("CI must compare Python 3.11 with 3.12, but there is " + message)
        pytest.skip(message)
    # A copy with no data file beside it: both train on the stand-in made from the same seed.
    shutil.copy(os.path.join(ROOT, "genre_mlp.py"), tmp_path)
    shutil.copytree(os.path.join(ROOT, "tools"), tmp_path / "tools",
                    ignore=shutil.ignore_patterns("__pycache__"))
    lines = {}
    for version, python in pythons.items():
        result = subprocess.run([python, str(tmp_path / "genre_mlp.py"), "--updates", "300", "--eval-step", "100"],
                                capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        # Everything but the seconds, which differ from run to run.
        lines[version] = [re.sub(r"\s+\([\d.]+ s\)$", "", line) for line in result.stdout.splitlines()
                          if line.startswith("Accuracy after update")]
    assert len(lines["3.11"]) == 3
    assert lines["3.11"] == lines["3.12"]
