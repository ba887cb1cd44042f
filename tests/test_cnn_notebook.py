"""The next lesson as a notebook: genre_cnn.ipynb made from genre_cnn.py, run in a real Jupyter
kernel (make notebook LESSON=cnn), and its page (make html LESSON=cnn) read in a real browser."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from test_html import browser_report, printed_lines
from test_notebook import accuracy_lines, outputs, printed_text

from lesson_helpers.notebook_route import lesson_html, lesson_notebook

SCRIPT, NOTEBOOK, EXECUTED = lesson_notebook.lesson_paths("cnn")
SHORT_RUN = ["--stand-in", "--updates", "100", "--eval-step", "50"]


def last_printed_line(notebook):
    return "".join(output.text for cell in notebook.cells for output in cell.get("outputs", [])
                   if output.get("name") == "stdout").rstrip("\n").splitlines()[-1]


def test_committed_notebook_is_made_from_the_script():
    with open(NOTEBOOK) as text:
        committed = text.read()
    assert committed == lesson_notebook.notebook_text(SCRIPT), "genre_cnn.ipynb is out of date: run `make ipynb`"


def test_the_lessons_paths_name_their_own_files():
    assert [os.path.basename(path) for path in lesson_notebook.lesson_paths("cnn")] == [
        "genre_cnn.py", "genre_cnn.ipynb", "genre_cnn.executed.ipynb"]
    assert lesson_notebook.lesson_paths("mlp") == (lesson_notebook.SCRIPT, lesson_notebook.NOTEBOOK,
                                                  lesson_notebook.EXECUTED)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    import nbformat
    folder = tmp_path_factory.mktemp("cnn-notebook")
    output = folder / "executed.ipynb"
    result = subprocess.run([sys.executable, os.path.join(ROOT, "lesson_helpers", "notebook_route", "lesson_notebook.py"),
                             "run", "--lesson", "cnn", "--output", str(output), "--"] + SHORT_RUN,
                            capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return nbformat.read(str(output), as_version=4), folder


@pytest.fixture(scope="module")
def script_run():
    return subprocess.run([sys.executable, SCRIPT] + SHORT_RUN, capture_output=True, text=True, cwd=ROOT,
                          timeout=900)


def test_the_notebook_prints_what_the_script_prints(executed, script_run):
    notebook, _ = executed
    text = printed_text(notebook)
    assert script_run.returncode == 0, script_run.stderr[-3000:]
    # The CNN's two evaluations, then the MLP's one line of 5000 updates, alike in both.
    assert accuracy_lines(text) == accuracy_lines(script_run.stdout)
    assert [line.split(":")[0] for line in accuracy_lines(text)] == [
        "Accuracy after update 50/100", "Accuracy after update 100/100", "Accuracy after update 5000/5000"]
    notebook_last = last_printed_line(notebook)
    assert notebook_last == script_run.stdout.splitlines()[-1]
    assert notebook_last.startswith("Verdict on the generated stand-in: the network's ")


def test_the_shapes_cell_shows_1200_samples_becoming_25_steps(executed):
    notebook, _ = executed
    text = printed_text(notebook)
    for name, shape in (("the excerpts", "(16, 1, 1, 1200)"), ("after convolution 1", "(16, 32, 1, 300)"),
                        ("after convolution 2", "(16, 32, 1, 100)"), ("after convolution 3", "(16, 48, 1, 50)"),
                        ("after convolution 4", "(16, 48, 1, 25)"), ("the logits", "(16,)")):
        assert "%-22s %s" % (name, shape) in text.splitlines()
    assert "167,425 parameters in all" in text.splitlines()


def test_every_step_cell_shows_something(executed):
    notebook, _ = executed
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    silent = [cell.source.splitlines()[0] for cell in code
              if not cell.get("outputs") and "if __name__" in cell.source]
    assert not silent, "cells that do a step but show nothing: %s" % silent


def test_the_notebook_draws_the_curve_and_the_first_layer(executed):
    notebook, _ = executed
    pngs = [data for kind, data in outputs(notebook) if kind == "png"]
    assert len(pngs) == 2
    from test_notebook import png_shape
    assert all(png_shape(data)[1] >= 1000 for data in pngs)  # wide figures, drawn whole


@pytest.fixture(scope="module")
def page(executed):
    notebook, folder = executed
    path = folder / "genre_cnn.html"
    path.write_text(lesson_html.page_text(notebook, lesson_html.TITLES["cnn"]))
    return browser_report(str(path), str(folder)), notebook


def test_the_page_shows_the_next_lesson_in_a_browser(page):
    report, notebook = page
    assert report["title"] == "Can we do better? A convolutional network in Theano"
    assert len(report["images"]) == 2 and all(image["complete"] and image["inline"] and image["width"] > 0
                                              for image in report["images"])
    for heading in ("Why a convolution", "The loss, and Adam", "The MLP on the same data",
                    "What the first layer learned", "The verdict", "Exercises"):
        assert any(found.startswith(heading) for found in report["headings"]), heading
    lines = printed_lines(report)
    assert lines[-1] == last_printed_line(notebook)
    assert report["errors"] == [] and report["remote"] == 0


def test_the_prose_numbers_are_the_printed_ones(executed):
    """The parameters' paragraph quotes the table the cell above it prints, and the MLP's count."""
    notebook, _ = executed
    prose = " ".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    prose = " ".join(prose.replace("#", " ").split())
    text = printed_text(notebook)
    table = {line.split()[0]: line.split()[-2] for line in text.splitlines()
             if line.endswith(" weights") and line[:1] in "KBW"}
    assert "%s parameters, the count lesson 06 printed" % "167,425" in prose
    assert "167,425 parameters in all" in text
    assert "holds %s of them" % table["W5"] in prose and table["W5"] == "76,800"
    assert "only %s weights and %s biases" % (table["K1"], table["B1"]) in prose
    import genre_mlp
    sizes = (genre_mlp.SAMPLE_WIDTH, genre_mlp.HIDDEN_1, genre_mlp.HIDDEN_2, 1)
    mlp_count = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    assert "half the MLP's {:,}".format(mlp_count) in prose
    # The bias correction's paragraph: m's divisor is 1.0000 from step 100 on, v's still far from it.
    assert "step  100: m is divided by 1.0000, v by 0.0952" in text
    assert "(a division by 1.0000) after about a hundred steps" in prose


def test_what_adam_kept_is_as_the_prose_says(executed):
    """The prose: the typical gradients span orders of magnitude from layer to layer, while Adam's
    steps, in learning rates, stay between 0 and 1."""
    import re
    notebook, _ = executed
    rows = re.findall(r"^  (\w+)\s+typical gradient (\S+); Adam's step, in learning rates: (\S+)$",
                      printed_text(notebook), re.M)
    assert [name for name, _, _ in rows] == ["K1", "B1", "K2", "B2", "K3", "B3", "K4", "B4", "W5", "B5", "W6", "B6"]
    typical = [float(value) for _, value, _ in rows]
    steps = [float(value) for _, _, value in rows]
    assert max(typical) / min(typical) > 100
    assert all(0 < step < 1 for step in steps)


def test_a_diverged_run_names_this_lessons_default_rate():
    result = subprocess.run([sys.executable, SCRIPT, "--stand-in", "--learning-rate", "1e9", "--updates", "20",
                             "--eval-step", "20"], capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith(
        "give a smaller --learning-rate (the default is 0.001)")
