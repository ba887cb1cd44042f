"""The Makefile's targets: what each one installs first, and what an edited requirements file redoes.

Every test runs `make -n` (print the recipes, run nothing) in a copy of the tree whose
timestamps it sets itself, with a venv that is only its stamps: no install happens.
"""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")

OLD, STAMPED, EDITED = 2 ** 31 - 10 ** 6, 2 ** 31, 2 ** 31 + 10 ** 6  # sources, then the stamps, then an edit
STAMPS = (".lesson", ".blas", ".extras")
REQUIREMENTS = ("requirements.txt", "lesson_helpers/requirements.txt", "dataset_builder/requirements.txt",
                "tests/requirements.txt")


@pytest.fixture
def tree(tmp_path):
    """The project without its venvs, every file dated OLD; returns (folder, venv)."""
    folder = tmp_path / "tree"
    shutil.copytree(ROOT, folder, symlinks=True, ignore=shutil.ignore_patterns(
        ".venv*", ".git", "__pycache__", ".pytest_cache", ".nvrtc", ".numpy-matrix"))
    for parent, _, names in os.walk(folder):
        for name in names:
            os.utime(os.path.join(parent, name), (OLD, OLD), follow_symlinks=False)
    venv = folder / ".venv-test"
    venv.mkdir()
    return folder, venv


def stamp(venv, *names, blas="blis"):
    for name in names:
        (venv / name).write_text(blas + "\n" if name == ".blas" else "")
        os.utime(venv / name, (STAMPED, STAMPED))


def edit(folder, name):
    os.utime(folder / name, (EDITED, EDITED))


def planned(tree, goal):
    """The recipes `make GOAL` would run, in order, each cut to what tells it apart."""
    folder, venv = tree
    result = subprocess.run(["make", "-n", "-C", str(folder), "PYTHON=" + sys.executable, "VENV=" + str(venv),
                             goal], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    steps = []
    for line in result.stdout.splitlines():
        for mark, step in (("-m venv", "venv"), ("--no-build-isolation -r requirements.txt", "lesson"),
                           ("get_blis.py", "blas"), ("-r lesson_helpers/requirements.txt", "extras"),
                           ("genre_mlp.py", "genre_mlp.py"), ("-m pytest", "pytest"),
                           ("lesson_notebook.py run", "notebook"), ("lesson_html.py", "html"),
                           ("make_dataset.py download", "data"), ("bench.py", "bench")):
            if mark in line:
                steps.append(step)
                break
    return steps


EVERYTHING = ["venv", "lesson", "blas", "extras"]


def test_a_set_up_venv_reinstalls_nothing(tree):
    stamp(tree[1], *STAMPS)
    assert planned(tree, "test") == ["pytest"]
    assert planned(tree, "run") == ["genre_mlp.py"]
    assert planned(tree, "notebook") == ["notebook"]


def test_an_edited_requirements_txt_reinstalls_everything(tree):
    stamp(tree[1], *STAMPS)
    edit(tree[0], "requirements.txt")
    assert planned(tree, "test") == EVERYTHING + ["pytest"]
    assert planned(tree, "run") == ["venv", "lesson", "blas", "genre_mlp.py"]


@pytest.mark.parametrize("extras_file", REQUIREMENTS[1:])
def test_an_edited_extras_file_reinstalls_the_extras_on_the_next_make(tree, extras_file):
    stamp(tree[1], *STAMPS)
    edit(tree[0], extras_file)
    assert planned(tree, "test") == ["extras", "pytest"]
    assert planned(tree, "notebook") == ["extras", "notebook"]
    assert planned(tree, "run") == ["genre_mlp.py"]  # the lesson alone needs none of them


def test_every_extras_file_is_one_the_makefile_installs():
    # A new requirements file for the lesson's helpers must reach `make setup`.
    found = []
    for parent, folders, names in os.walk(ROOT):
        folders[:] = [name for name in folders if not name.startswith((".", "__"))]  # venvs, git, caches
        if "requirements.txt" in names:
            found.append(os.path.relpath(os.path.join(parent, "requirements.txt"), ROOT))
    # Theano's own test suite has a venv stamp of its own (make theano-tests).
    assert sorted(found) == sorted(REQUIREMENTS + ("tests/theano_suite/requirements.txt",))


def test_make_run_links_blis_first(tree):
    # A new venv, and one made before the BLAS step existed (.lesson, no .blas).
    assert planned(tree, "run") == ["venv", "lesson", "blas", "genre_mlp.py"]
    stamp(tree[1], ".lesson")
    assert planned(tree, "run") == ["blas", "genre_mlp.py"]
    edit(tree[0], "theano_today/get_blis.py")  # a changed BLAS step reaches venvs already set up
    stamp(tree[1], ".blas")
    assert planned(tree, "run") == ["blas", "genre_mlp.py"]


@pytest.mark.parametrize("goal", ["notebook", "html", "test", "data", "bench"])
def test_a_goal_after_make_run_installs_what_it_needs_first(tree, goal):
    stamp(tree[1], ".lesson", ".blas")  # what `make run` leaves
    assert planned(tree, goal) == ["extras", "pytest" if goal == "test" else goal]


def test_the_extras_are_installed_with_the_lessons_pins(tree):
    # One pip call with requirements.txt beside the extras, so that no tool moves NumPy.
    folder, venv = tree
    stamp(venv, ".lesson", ".blas")
    result = subprocess.run(["make", "-n", "-C", str(folder), "PYTHON=" + sys.executable, "VENV=" + str(venv),
                             "setup"], capture_output=True, text=True, timeout=60)
    pip = [line for line in result.stdout.splitlines() if "-r lesson_helpers/requirements.txt" in line]
    assert len(pip) == 1 and all(("-r " + name) in pip[0] for name in REQUIREMENTS)
