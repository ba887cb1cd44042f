"""Python 3.11 to 3.15: which interpreter the Makefile picks, the stand-in modules, the same results on each."""
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import types

import pytest

from conftest import ROOT, copy_lesson
from theano_today import theano_setup

FIND_PYTHON = os.path.join(ROOT, "theano_today", "find_python.sh")
THIS_VERSION = "%d.%d" % sys.version_info[:2]


def find_python(*args, path, tmp_path):
    """theano_today/find_python.sh on a machine whose PATH is `path` alone, with no pyenv and no uv."""
    env = {"PATH": path, "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "no-pyenv")}
    return subprocess.run([shutil.which("bash"), FIND_PYTHON] + list(args), capture_output=True, text=True, env=env)


def folder_with_python3(tmp_path, interpreter):
    """A PATH folder whose python3 is `interpreter`, with the two commands the script uses."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "python3").symlink_to(interpreter)
    for command in ("ls", "sort", "sed"):
        (folder / command).symlink_to(shutil.which(command))
    return str(folder)


def renumbered(folder, version):
    """An interpreter that says it is Python `version`: this one, its version line rewritten."""
    folder.mkdir(parents=True, exist_ok=True)
    fake = folder / ("python" + version)
    fake.write_text("#!/bin/sh\n\"%s\" \"$@\" | sed '1s/^3\\.[0-9]*/%s/'\n" % (sys.executable, version))
    fake.chmod(0o755)
    return str(fake)


def fake_pyenv(tmp_path, versions):
    """A pyenv root holding interpreters of these versions, as pyenv lays them out."""
    root = tmp_path / "pyenv"
    for version in versions:
        renumbered(root / "versions" / (version + ".0") / "bin", version)
    return root


def test_newest_supported_python_is_chosen_when_python3_is_too_old(tmp_path):
    root = fake_pyenv(tmp_path, ["3.11", "3.13", "3.12"])
    path = folder_with_python3(tmp_path, renumbered(tmp_path / "old", "3.10"))
    env = {"PATH": path, "HOME": str(tmp_path), "PYENV_ROOT": str(root)}
    result = subprocess.run([shutil.which("bash"), FIND_PYTHON], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout
    word, executable, version = result.stdout.split()
    assert (word, version) == ("ok", "3.13")


@pytest.mark.parametrize("request_by", ["version", "path"])
def test_python_older_than_311_is_refused_in_one_line(tmp_path, request_by):
    python310 = renumbered(tmp_path / "old", "3.10")
    # By version, the search looks on PATH: the old Python is there, and must still be refused.
    result = find_python("3.10" if request_by == "version" else python310,
                         path=str(tmp_path / "old") + ":/usr/bin:/bin", tmp_path=tmp_path)
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 1 and result.stderr == ""
    assert "3.11 to 3.15" in result.stdout


def test_no_supported_python_names_what_to_install(tmp_path):
    # python3 is 3.10, and nothing else is on this PATH.
    result = find_python(path=folder_with_python3(tmp_path, renumbered(tmp_path / "old", "3.10")),
                         tmp_path=tmp_path)
    assert result.returncode == 1 and len(result.stdout.splitlines()) == 1
    assert "no usable Python 3.11 to 3.15 found" in result.stdout and "too old" in result.stdout
    assert "uv python install 3.13" in result.stdout and "python3.13 package" in result.stdout


def test_python_newer_than_315_is_tried_after_one_notice(tmp_path):
    python316 = renumbered(tmp_path / "new", "3.16")
    result = find_python(python316, path="/usr/bin:/bin", tmp_path=tmp_path)
    assert result.returncode == 0
    assert result.stdout.split()[0::2] == ["ok", "3.16"]
    assert result.stderr.splitlines() == ["notice: Python 3.16 is newer than any tested here (3.11 to 3.15); "
                                          "trying it"]


def test_a_supported_python_wins_over_a_newer_python3(tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "python3").symlink_to(renumbered(tmp_path / "new", "3.16"))
    for command in ("ls", "sort", "sed"):
        (folder / command).symlink_to(shutil.which(command))
    env = {"PATH": str(folder), "HOME": str(tmp_path), "PYENV_ROOT": str(fake_pyenv(tmp_path, ["3.12"]))}
    result = subprocess.run([shutil.which("bash"), FIND_PYTHON], capture_output=True, text=True, env=env)
    assert result.returncode == 0 and result.stdout.split()[2] == "3.12" and result.stderr == ""


def test_make_stops_in_one_line_before_pip(tmp_path):
    result = subprocess.run(["make", "-s", "-C", ROOT, "run", "PYTHON=3.10"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    lines = (result.stdout + result.stderr).splitlines()
    assert len(lines) == 1, lines
    assert "PYTHON=3.10 is not supported: use 3.11 to 3.15" in lines[0]


def numpy_pin_in_requirements(version):
    """The NumPy that pip installs from requirements.txt on Python `version` ("3.14"), by its markers."""
    from packaging.requirements import Requirement
    pins = []
    for line in open(os.path.join(ROOT, "requirements.txt")):
        if line.startswith("numpy=="):
            requirement = Requirement(line.strip())
            if requirement.marker is None or requirement.marker.evaluate(
                    {"python_version": version, "python_full_version": version + ".0"}):
                pins.append(str(requirement.specifier).lstrip("="))
    assert len(pins) == 1, "requirements.txt pins NumPy %d times for Python %s" % (len(pins), version)
    return pins[0]


def test_requirements_pin_numpy_2_for_every_python():
    # One stack: NumPy 2 everywhere; 3.14 and 3.15 are not on every machine, their markers are.
    assert all(numpy_pin_in_requirements(version).startswith("2.") for version in SUPPORTED)


# The hint's commands, written out: make from anywhere, or pip as the Makefile's $(VENV)/.lesson rule runs it.
HINT = ("run `make -C {root} run` (a venv of its own), or install them into this Python: {python} -m pip install "
        "setuptools==75.8.0 && PYTHONPATH={root}/theano_today/build_shims {python} -m pip install "
        "--no-build-isolation -r {root}/requirements.txt")


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13", "3.14", "3.15"])
def test_the_install_hint_names_the_numpy_pin_of_each_python(version):
    hint = theano_setup.install_hint(tuple(map(int, version.split("."))))
    assert hint == (HINT.format(root=ROOT, python=sys.executable) + " (NumPy %s on Python %s)"
                    % (numpy_pin_in_requirements(version), version))


def test_the_install_hint_of_the_python_in_use():
    pin = numpy_pin_in_requirements(THIS_VERSION)
    assert theano_setup.install_hint().endswith("(NumPy %s on Python %s)" % (pin, THIS_VERSION))
    assert importlib.metadata.version("numpy") == pin  # what make setup installed here
    assert theano_setup.install_hint((3, 10)) == ("Python 3.10 is not supported: use 3.11 to 3.15 "
                                                  "(`make run` finds one)")
    assert theano_setup.install_hint((3, 16)) == HINT.format(root=ROOT, python=sys.executable)
    with open(os.path.join(ROOT, "requirements.txt")) as lines:
        assert "setuptools==75.8.0\n" in lines  # the pin HINT names


@pytest.mark.skipif(not os.environ.get("GENRE_MLP_INSTALL_TEST"),
                    reason="installs the lesson's packages from PyPI into a fresh venv, no pip cache (about 40 s); "
                    "GENRE_MLP_INSTALL_TEST=1 runs it (CI does, on 3.15)")
def test_the_install_hint_installs_the_lesson_into_a_fresh_venv_from_another_folder(tmp_path, with_internet):
    import venv
    venv.create(str(tmp_path / "venv"), with_pip=True)
    python = str(tmp_path / "venv" / "bin" / "python")
    # Run as printed, by a shell, in a folder that is not the project's; no wheel cached by an earlier build.
    result = subprocess.run(theano_setup.install_command(python), shell=True, cwd=str(tmp_path), capture_output=True,
                            text=True, env=dict(os.environ, PIP_NO_CACHE_DIR="1"), timeout=1200)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    imported = subprocess.run([python, "-c", "from theano_today.theano_setup import import_theano; "
                               "print(import_theano()[0].__version__)"], cwd=ROOT, capture_output=True, text=True)
    assert imported.returncode == 0 and imported.stdout.split() == ["1.0.5"], imported.stderr


# NumPy 2 ships numpy.distutils for Python 3.11 only, NumPy 2.4 no numpy.linalg.linalg at all;
# imp left Python in 3.12.
NUMPY_VERSION = tuple(int(part) for part in importlib.metadata.version("numpy").split(".")[:2])
EXPECTED_STAND_INS = ((["numpy.distutils"] if sys.version_info >= (3, 12) else [])
                      + (["numpy.linalg.linalg"] if NUMPY_VERSION >= (2, 4) else [])
                      + (["imp"] if sys.version_info >= (3, 12) else []))


def test_shims_only_where_python_lacks_the_module(genre_mlp):
    # genre_mlp imported Theano through import_theano, which applied what this Python needs.
    import numpy as np
    import numpy.distutils.misc_util
    stand_ins = [name for name in EXPECTED_STAND_INS
                 if getattr(sys.modules[name], "__file__", None) is None]  # a real module has a file
    assert stand_ins == EXPECTED_STAND_INS
    assert numpy.distutils.misc_util.get_numpy_include_dirs() == [np.get_include()]
    if "numpy.distutils" in stand_ins:
        assert numpy.distutils.__config__ is None  # "NumPy's BLAS is unknown" to Theano
    assert theano_setup.removed_modules() == []  # nothing more is needed once applied


def test_removed_modules_are_put_back_where_missing():
    # In a fresh process, before Theano: what this Python and NumPy lack, and nothing else.
    code = ("from theano_today import theano_setup\nprint(' '.join(theano_setup.removed_modules()))\n"
            "import numpy.distutils.misc_util, numpy\nprint(numpy.distutils.misc_util.get_numpy_include_dirs()"
            " == [numpy.get_include()])")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    added, works = result.stdout.splitlines()
    assert added.split() == EXPECTED_STAND_INS
    assert works == "True"
    kept = {"imp": "a real imp", "numpy.distutils": "a real one"}
    assert theano_setup.removed_modules(types.SimpleNamespace(), kept) == []


def test_build_shim_reads_a_setup_cfg_as_theanos_versioneer_does(tmp_path):
    (tmp_path / "setup.cfg").write_text("[versioneer]\nVCS = git\nstyle = pep440\n")
    code = ("import configparser\n"
            "parser = configparser.SafeConfigParser()\n"
            "with open('setup.cfg') as f:\n"
            "    parser.readfp(f)\n"
            "print(parser.get('versioneer', 'VCS'), parser.get('versioneer', 'style'))\n")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "theano_today", "build_shims"))
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["git", "pep440"]


# What the script printed on the stand-in with --updates 300 --eval-step 100 (seconds left
# out) on Python 3.11.7 with NumPy 1.23.5, before the move to NumPy 2: every Python must
# print the same, to every digit.
EXPECTED_LINES = [
    "Accuracy after update 100/300: 49.90%  test loss 0.6426  train loss 0.6622",
    "Accuracy after update 200/300: 60.40%  test loss 0.6162  train loss 0.6346",
    "Accuracy after update 300/300: 70.10%  test loss 0.5928  train loss 0.6003",
    "Test accuracy: the network 70.10%, loudness alone 82.30% (rock when RMS > 0.0525, the best threshold "
    "on the training set)",
]
SUPPORTED = ("3.11", "3.12", "3.13", "3.14", "3.15")
# CI builds these beside each other; 3.14 and 3.15 run this test in a Debian testing root.
CI_SIDE_BY_SIDE = ("3.11", "3.12", "3.13")


def lesson_lines(python, folder):
    result = subprocess.run([python, str(folder / "genre_mlp.py"), "--updates", "300", "--eval-step", "100",
                             "--stand-in"],
                            capture_output=True, text=True, timeout=600, cwd=folder)
    assert result.returncode == 0, result.stderr
    # Everything but the seconds, which differ from run to run.
    return [re.sub(r"\s+\([\d.]+ s\)$", "", line) for line in result.stdout.splitlines()
            if line.startswith(("Accuracy after update", "Test accuracy:"))]


def test_same_accuracy_and_loudness_lines_on_every_python(tmp_path):
    pythons = {THIS_VERSION: sys.executable}
    for version in SUPPORTED:
        python = os.path.join(ROOT, ".venv-%s" % version, "bin", "python")
        # A finished venv whose interpreter is on this machine (a root's venvs share the checkout).
        if os.path.exists(os.path.realpath(python)) and os.path.exists(os.path.join(ROOT, ".venv-%s" % version,
                                                                                      ".lesson")):
            pythons.setdefault(version, python)
    missing = [version for version in CI_SIDE_BY_SIDE if version not in pythons]
    if missing and os.environ.get("CI") and THIS_VERSION in CI_SIDE_BY_SIDE:
        pytest.fail("CI must compare Pythons %s side by side, but there is no .venv-%s (make setup PYTHON=%s)"
                    % (", ".join(CI_SIDE_BY_SIDE), missing[0], missing[0]))
    # A copy with no data file beside it: all train on the stand-in (--stand-in) made from the same seed.
    copy_lesson(tmp_path)
    lines = {version: lesson_lines(python, tmp_path) for version, python in sorted(pythons.items())}
    for version in lines:
        assert lines[version] == EXPECTED_LINES, "Python %s" % version


def test_pytest_without_the_lessons_packages_says_so_in_one_line(tmp_path):
    # An interpreter on which Theano and soundfile cannot be found, as a system pytest would be.
    (tmp_path / "sitecustomize.py").write_text(
        "import importlib.util\nfind = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *rest: None if name in ('theano', 'soundfile') else find(name, *rest)\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", os.path.join(ROOT, "tests")],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 4
    assert lines == ["ERROR: %s cannot run the tests: theano and soundfile are not installed for it; run "
                     "`make test`, which sets up a venv with everything they need" % sys.executable]


# ---------------------------------------------------------------------------
# Which interpreter wins among several: stub interpreters that answer the script's
# questions (its version, venv, Python.h) as a Python of that kind would
# ---------------------------------------------------------------------------
def stub_python(path, version, headers=True, venv=True):
    """An executable at `path` that answers find_python.sh as Python `version` would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    venv, headers = "yes" if venv else "no", "yes" if headers else "no"
    path.write_text("#!/bin/sh\n"
                    "case $2 in *venv*) [ %s = yes ] || exit 1 ;; esac\n"      # import venv, ensurepip
                    "case $2 in *Python.h*) [ %s = yes ] || exit 1 ;; esac\n"  # the C headers' check
                    "case $2 in\n"
                    "  *sys.executable*) echo \"%s $0\" ;;\n"
                    "  *version_info*) echo %s ;;\n"
                    "esac\n" % (venv, headers, version, version))
    path.chmod(0o755)
    return str(path)


def machine(tmp_path, on_path=(), pyenv=(), pyenv_root="pyenv"):
    """A PATH folder holding stubs named as given (`python3`, `python3.13`, ...) and a pyenv
    root holding stubs of full versions; returns find_python.sh's environment."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for command in ("ls", "sort", "sed"):
        (folder / command).symlink_to(shutil.which(command))
    for name, version, *kind in on_path:
        stub_python(folder / name, version, *kind)
    root = tmp_path / pyenv_root
    for full_version, *kind in pyenv:
        minor = full_version.rsplit(".", 1)[0] if full_version.count(".") == 2 else full_version
        stub_python(root / "versions" / full_version / "bin" / ("python" + minor.rstrip("t")), minor, *kind)
    return {"PATH": str(folder), "HOME": str(tmp_path), "PYENV_ROOT": str(root)}


def chosen(env, *args):
    result = subprocess.run([shutil.which("bash"), FIND_PYTHON] + list(args), capture_output=True, text=True,
                            env=env)
    assert len(result.stdout.splitlines()) == 1, result.stdout
    return result.returncode, result.stdout.split(), result.stderr


def test_a_supported_python3_wins_over_newer_ones(tmp_path):
    env = machine(tmp_path, on_path=[("python3", "3.12"), ("python3.13", "3.13")], pyenv=[("3.15.1",)])
    code, words, stderr = chosen(env)
    assert (code, words, stderr) == (0, ["ok", env["PATH"] + "/python3", "3.12"], "")


@pytest.mark.parametrize("pyenv_root", ["pyenv", ".pyenv"])  # ~/.pyenv, pyenv's default, has a dot
def test_the_newest_patch_release_wins(tmp_path, pyenv_root):
    env = machine(tmp_path, on_path=[("python3", "3.10")], pyenv_root=pyenv_root,
                  pyenv=[("3.13.9",), ("3.13.10",), ("3.13.2",), ("3.12.11",)])
    code, words, _ = chosen(env)
    assert code == 0 and words[1:] == [env["PYENV_ROOT"] + "/versions/3.13.10/bin/python3.13", "3.13"]
    code, words, _ = chosen(env, "3.13")
    assert code == 0 and words[1] == env["PYENV_ROOT"] + "/versions/3.13.10/bin/python3.13"


def test_a_python_without_its_c_headers_is_skipped(tmp_path):
    env = machine(tmp_path, on_path=[("python3", "3.13", False), ("python3.13", "3.13", False),
                                     ("python3.12", "3.12")],
                  pyenv=[("3.13.8", False), ("3.13.3",)])
    code, words, _ = chosen(env)  # python3 lacks Python.h; the next best is 3.13 from pyenv
    assert code == 0 and words[1:] == [env["PYENV_ROOT"] + "/versions/3.13.3/bin/python3.13", "3.13"]
    code, words, _ = chosen(env, "3.13")
    assert code == 0 and words[1] == env["PYENV_ROOT"] + "/versions/3.13.3/bin/python3.13"


def test_only_pythons_without_headers_name_the_dev_package(tmp_path):
    env = machine(tmp_path, on_path=[("python3", "3.13", False)])
    code, words, _ = chosen(env)
    assert code == 1 and "has no C headers" in " ".join(words) and "apt-get install python3.13-dev" in " ".join(words)
    code, words, _ = chosen(env, env["PATH"] + "/python3")
    assert code == 1 and "PYTHON=%s/python3 cannot be used" % env["PATH"] in " ".join(words)


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13", "3.14", "3.15", "3.16", "3.20"])
def test_python_names_any_supported_or_newer_version(tmp_path, version):
    # python3 is a supported 3.13 all along: PYTHON= must still get the version it names.
    env = machine(tmp_path, on_path=[("python3", "3.13"), ("python" + version, version)])
    code, words, stderr = chosen(env, version)
    assert code == 0 and words == ["ok", "%s/python%s" % (env["PATH"], version), version]
    newer = version in ("3.16", "3.20")
    assert ("newer than any tested here" in stderr) == newer and (stderr == "") == (not newer)
    code, words, _ = chosen(env, "%s/python%s" % (env["PATH"], version))  # by path, the same answer
    assert code == 0 and words[2] == version


def test_python_naming_a_version_that_is_missing_says_so(tmp_path):
    env = machine(tmp_path, on_path=[("python3", "3.13")])
    code, words, _ = chosen(env, "3.14")
    assert code == 1 and " ".join(words).startswith("PYTHON=3.14: no Python 3.14 found on PATH, in pyenv or from uv")


def test_a_newer_python3_is_the_last_resort(tmp_path):
    env = machine(tmp_path, on_path=[("python3", "3.16"), ("python3.12", "3.12", False)])
    code, words, stderr = chosen(env)
    assert code == 0 and words[2] == "3.16" and "3.16 is newer than any tested" in stderr
