"""The lesson as a notebook: genre_mlp.ipynb made from genre_mlp.py, run in a real Jupyter kernel."""
import base64
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import venv

import numpy as np
import pytest

from conftest import ROOT, parse_args, run_script

from lesson_helpers.notebook_route import lesson_notebook, notebook
from lesson_helpers.drawing import pictures

NOTEBOOK = os.path.join(ROOT, "genre_mlp.ipynb")
SCRIPT = os.path.join(ROOT, "genre_mlp.py")
SHORT_RUN = ["--updates", "200", "--eval-step", "100"]


def accuracy_lines(text):
    """The progress lines without their times, which differ from run to run."""
    return [re.sub(r"\s+\(\d+\.\d s\)$", "", line) for line in text.splitlines() if line.startswith("Accuracy after")]


def outputs(executed):
    """Each output of the executed notebook, in order: ("text", str) or ("png", bytes)."""
    found = []
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                found.append(("text", output.text))
            elif "image/png" in output.get("data", {}):
                found.append(("png", base64.b64decode(output.data["image/png"])))
            elif output.output_type == "error":
                found.append(("error", "%s: %s" % (output.ename, output.evalue)))
    return found


def printed_text(executed):
    """What the cells printed, stdout's pieces joined, then stderr's: a line that the kernel sent in
    two pieces, with the other stream's piece between them, is whole again."""
    streams = {"stdout": [], "stderr": []}
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                streams[output.name].append(output.text)
    return "".join(streams["stdout"]) + "\n" + "".join(streams["stderr"])


def png_shape(data):
    import matplotlib.image
    return matplotlib.image.imread(io.BytesIO(data), format="png").shape


# ---------------------------------------------------------------------------
# One source: the script's cells and the committed notebook
# ---------------------------------------------------------------------------
def test_committed_notebook_is_made_from_the_script():
    with open(NOTEBOOK) as text:
        committed = text.read()
    assert committed == lesson_notebook.notebook_text(), "genre_mlp.ipynb is out of date: run `make ipynb`"


def test_committed_notebook_has_no_outputs():
    with open(NOTEBOOK) as text:
        cells = json.load(text)["cells"]
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    assert code and all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)


def test_notebook_turns_back_into_the_very_script():
    # jupytext comments out magics and reflows nothing: the round trip must give every byte back,
    # so no line of the script (a comment that looks like a magic, say) changes in the notebook.
    import jupytext
    with open(SCRIPT) as text:
        script = text.read()
    assert jupytext.writes(jupytext.read(NOTEBOOK), fmt="py:percent") == script


def test_cells_follow_the_lessons_steps():
    import jupytext
    cells = jupytext.read(SCRIPT, fmt="py:percent").cells
    headings = [cell.source.splitlines()[0] for cell in cells
                if cell.cell_type == "markdown" and cell.source.startswith("#")]
    assert headings == ["# Music genre prediction using Theano", "## The lesson's constants", "## The options",
                        "## The data", "## The model", "## One step of SGD", "## Training", "## Results",
                        "## The verdict", "## Using the model", "## Exercises"]
    code = [cell.source for cell in cells if cell.cell_type == "code"]
    assert code[0].startswith('"""Music genre prediction') and "prepare_theano_for_today()" in code[0]
    # Each step in its own cell, in the lesson's order: one flow, which the script runs too.
    steps = ["IN_FILE = ", "NOTEBOOK_ARGS = []", "args = options.read_options(NOTEBOOK_ARGS", "describe_data(data)",
             "samples_figure(", "player(", "def make_parameters(", "def forward(", "theano.grad(",
             "theano.function(", "evaluate_test_set(model, data)", "pydotprint", "one_step(model",
             "history = train(model", "report(model", "curve_figure(", "confusion(model", "mistakes_figure(",
             "play_mistakes(", "loudness.verdict(", "write_excerpt("]
    where = [next(index for index, source in enumerate(code) if step in source) for step in steps]
    assert where == sorted(where) and len(set(where)) == len(where), where
    parameters = [cell for cell in cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(parameters) == 1 and parameters[0].source.endswith("NOTEBOOK_ARGS = []")
    # No cell defines argparse's options (lesson_helpers/command_line/options.py), and no function
    # lists the steps a second time: the cells are the script.
    assert not any("add_argument" in source for source in code)
    assert not any(re.search(r"^def (main|run)\(", source, re.M) for source in code)
    assert not any(flag in source for source in code for flag in ("IN_NOTEBOOK", "TEACHING", "STOPPED_AT"))


def test_only_listening_and_the_graphs_picture_are_the_notebooks_alone():
    import jupytext
    cells = jupytext.read(SCRIPT, fmt="py:percent").cells
    only = [cell.source for cell in cells if cell.metadata.get("active") == "ipynb"]
    assert [("player(" in source, "pydotprint" in source, "play_mistakes(" in source, "write_excerpt(" in source)
            for source in only] == [(True, False, False, False), (False, True, False, False),
                                    (False, False, True, False), (False, False, False, True)]


def test_parameters_cell_gets_the_options_after_it():
    import nbformat
    original = nbformat.read(NOTEBOOK, as_version=4)
    changed = lesson_notebook.with_arguments(original, ["--updates", "10"])
    tagged = next(index for index, cell in enumerate(changed.cells) if "parameters" in cell.metadata.get("tags", []))
    assert changed.cells[tagged + 1].source.startswith("NOTEBOOK_ARGS = ['--updates', '10']")
    assert len(changed.cells) == len(original.cells) + 1  # the notebook read stays as it was
    assert lesson_notebook.with_arguments(original, []).cells == original.cells


def test_importing_the_lesson_runs_none_of_its_steps(genre_mlp):
    # Imported, the cells define the lesson's pieces and do none of its steps: no options read,
    # no data, no network; and nothing printed (tests/test_layout.py runs the import alone).
    assert genre_mlp.HERE == ROOT and genre_mlp.NOTEBOOK_ARGS == []
    assert not {"args", "data", "model", "history"} & set(vars(genre_mlp))
    assert callable(genre_mlp.Model) and callable(genre_mlp.train)


# ---------------------------------------------------------------------------
# The notebook run in a kernel of this Python, as `make notebook` does
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    from conftest import separable, write_npz
    folder = tmp_path_factory.mktemp("notebook")
    data = write_npz(folder / "small.npz", train=separable(400, 1), test=separable(100, 2))
    output = folder / "executed.ipynb"
    arguments = SHORT_RUN + ["--data", data]
    result = subprocess.run([sys.executable, os.path.join(ROOT, "lesson_helpers", "notebook_route", "lesson_notebook.py"), "run",
                             "--output", str(output), "--"] + arguments,
                            capture_output=True, text=True, cwd=folder, timeout=600)
    return result, output, arguments


def test_make_notebook_runs_the_lesson_in_a_kernel(executed):
    result, output, _ = executed
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Ran the notebook; its outputs are in %s." % os.path.relpath(output, output.parent)
    assert "WARNING" not in result.stderr  # no kernel chatter on the terminal


def test_notebook_prints_what_the_script_prints(executed):
    import nbformat
    result, output, arguments = executed
    executed_copy = nbformat.read(str(output), as_version=4)
    found, text = outputs(executed_copy), printed_text(executed_copy)
    script = run_script(*arguments)
    assert script.returncode == 0, script.stderr
    assert accuracy_lines(text) == accuracy_lines(script.stdout)
    assert len(accuracy_lines(text)) == 2
    assert "Installing" not in text and "lacks" not in text  # this kernel had the packages


def test_each_cells_printed_lines_are_one_output_between_its_pictures(executed):
    """The kernel sends stdout in pieces at each flush (the training cell's came as 11, one of them a
    lone newline); the executed copy holds one stream output where the kernel made several."""
    import nbformat
    for cell in nbformat.read(str(executed[1]), as_version=4).cells:
        kinds = [(output.output_type, output.get("name")) for output in cell.get("outputs", [])]
        assert all(not (a == b and a[0] == "stream") for a, b in zip(kinds, kinds[1:])), (cell.id, kinds)
        if any("Accuracy after" in output.get("text", "") for output in cell.get("outputs", [])):
            assert kinds == [("stream", "stdout")], (cell.id, kinds)


def test_a_kernels_flushed_pieces_become_one_output_in_the_executed_copy(tmp_path):
    """A real kernel, made to flush a line apart from its newline, as print's two writes can be sent."""
    import nbformat
    from lesson_helpers.notebook_route.lesson_notebook import run
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell("NOTEBOOK_ARGS = []", metadata={"tags": ["parameters"]}))
    notebook.cells.append(nbformat.v4.new_code_cell(
        "import sys, time\nprint('one', end='', flush=True)\ntime.sleep(0.5)\nprint('\\ntwo', flush=True)"))
    path, output = tmp_path / "split.ipynb", tmp_path / "split.executed.ipynb"
    nbformat.write(notebook, str(path))
    run([], path=str(path), output=str(output))
    outputs = nbformat.read(str(output), as_version=4).cells[1].outputs
    assert [(out.output_type, out.name, out.text) for out in outputs] == [("stream", "stdout", "one\ntwo\n")]


def test_coalescing_keeps_text_and_pictures_in_their_order():
    import nbformat
    from lesson_helpers.notebook_route.lesson_notebook import coalesced
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("draw()")
    text = lambda value, name="stdout": nbformat.v4.new_output("stream", name=name, text=value)
    cell.outputs = [text("a"), text("\nb\n"), nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>"}),
                    text("c\n"), text("d\n"), text("e\n", "stderr")]
    notebook.cells.append(cell)
    outputs = coalesced(notebook).cells[0].outputs
    assert [(output.output_type, output.get("name"), output.get("text")) for output in outputs] == [
        ("stream", "stdout", "a\nb\n"), ("display_data", None, None), ("stream", "stdout", "c\nd\n"),
        ("stream", "stderr", "e\n")]


def test_notebook_shows_the_excerpts_before_training_and_the_curve_after(executed):
    import nbformat
    found = outputs(nbformat.read(str(executed[1]), as_version=4))
    kinds = [kind for kind, value in found]
    assert "error" not in kinds
    pngs = [index for index, kind in enumerate(kinds) if kind == "png"]
    first_accuracy = next(index for index, (kind, value) in enumerate(found)
                          if kind == "text" and "Accuracy after" in value)
    # The excerpts and the compiled graph before training; the curve and the mistakes after.
    assert len(pngs) == 4 and pngs[0] < pngs[1] < first_accuracy < pngs[2] < pngs[3]
    assert png_shape(found[pngs[0]][1])[:2] == (680, 1000)  # 10 x 6.8 inches at 100 dpi
    assert png_shape(found[pngs[2]][1])[:2] == (430, 1400)  # 14 x 4.3: the curve, its trained part zoomed, the losses
    # The graph's picture is the file the prose names, beside the notebook: evaluate's forward pass.
    with open(os.path.join(ROOT, "lesson_files", "evaluate.png"), "rb") as drawn:
        assert drawn.read() == found[pngs[1]][1]


def test_notebook_outputs_name_no_temporary_or_venv_path(executed):
    import nbformat
    import tempfile
    executed_cells = nbformat.read(str(executed[1]), as_version=4).cells
    # What the lesson prints (stderr may carry the machine's own notices, such as a compile cache
    # that another process changed), and what a cell's last expression shows (a path returned, say).
    text = "".join(output.text for cell in executed_cells for output in cell.get("outputs", [])
                   if output.get("name") == "stdout")
    text += "".join(output.data["text/plain"] + "\n" for cell in executed_cells for output in cell.get("outputs", [])
                    if "text/plain" in output.get("data", {}) and "image/png" not in output.data
                    and "text/html" not in output.data)
    assert "Wrote test excerpt 99 (rock) to lesson_files/test_excerpt_99.wav;" in text
    assert re.search(r"^lesson_files/test_excerpt_99.wav: (rock|classical) \(probability", text, re.M)
    # Only the options line names the test's own data file, in its temporary folder.
    for internal in (tempfile.gettempdir(), "site-packages", ".venv", sys.prefix, ROOT + os.sep):
        assert [line for line in text.splitlines() if internal in line and not line.startswith("Options:")] == []


def test_the_verdict_cell_ends_as_the_script_ends(executed):
    import nbformat
    result, output, arguments = executed
    cells = nbformat.read(str(output), as_version=4).cells
    (results,) = [cell for cell in cells if cell.cell_type == "code" and "loudness.verdict(" in cell.source]
    printed = "".join(output.text for output in results.outputs if output.output_type == "stream")
    script = run_script(*arguments).stdout.splitlines()
    assert script[-1].startswith("Verdict: the network's ")
    assert printed.splitlines()[-1] == script[-1]


def test_the_notebook_plays_the_mistakes_it_draws(executed):
    import nbformat
    cells = nbformat.read(str(executed[1]), as_version=4).cells
    (listening,) = [cell for cell in cells if cell.cell_type == "code" and "play_mistakes(" in cell.source]
    players = [output for output in listening.outputs if "text/html" in output.get("data", {})
               and "<audio" in output.data["text/html"]]
    lines = [line for output in listening.outputs if output.output_type == "stream" for line in output.text.splitlines()]
    # This run's data is separable, so there may be no mistake to play (test_listening_to_the_mistakes has some).
    assert [line.split(":")[0] for line in lines if not line.startswith(" ")] == ["classical called rock",
                                                                               "rock called classical"]
    assert len(players) == len([line for line in lines if line.startswith("  test excerpt ")])




def test_a_bad_option_in_the_notebook_is_one_line(tmp_path):
    output = tmp_path / "executed.ipynb"
    result = subprocess.run([sys.executable, os.path.join(ROOT, "lesson_helpers", "notebook_route", "lesson_notebook.py"), "run",
                             "--output", str(output), "--", "--updates", "-3"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: the notebook stopped: --updates must be greater than 0 (0 only evaluates a model given "
        "with --load); see genre_mlp.py --help (cell cell-07); its outputs are in %s" % output]
    assert output.exists()  # what ran is kept, to look at


def test_a_missing_notebook_is_one_line(tmp_path):
    with pytest.raises(lesson_notebook.NotebookError, match="run `make ipynb`"):
        lesson_notebook.run([], path=str(tmp_path / "none.ipynb"), output=str(tmp_path / "out.ipynb"))


# ---------------------------------------------------------------------------
# The pictures
# ---------------------------------------------------------------------------
def test_samples_figure_draws_random_excerpts_of_each_class():
    rng = np.random.RandomState(5)
    excerpts = rng.standard_normal((40, 1200)).astype(np.float32)
    targets = np.repeat([0.0, 1.0], 20).astype(np.float32)
    figure = pictures.samples_figure(excerpts, targets, seed=3)
    grid = np.array(figure.axes).reshape(4, 2)
    assert [grid[0, 0].get_title(), grid[0, 1].get_title()] == ["classical", "rock"]
    drawn = {0: [], 1: []}
    for axes in figure.axes:
        (line,) = axes.get_lines()
        seconds, values = line.get_data()
        np.testing.assert_allclose(seconds, np.arange(1200) / 400.0)  # 3 s at 400 Hz
        row = int(axes.texts[0].get_text().split()[-1])
        np.testing.assert_array_equal(values, excerpts[row])  # the excerpt named, as it is
        drawn[int(targets[row])].append(axes)
    # Four of each class, each in its own column, none twice.
    assert sorted(len(column) for column in drawn.values()) == [4, 4]
    assert all(axes in grid[:, label] for label, column in drawn.items() for axes in column)
    rows = [int(axes.texts[0].get_text().split()[-1]) for axes in figure.axes]
    assert len(set(rows)) == 8
    again = [int(axes.texts[0].get_text().split()[-1]) for axes in pictures.samples_figure(excerpts, targets, 3).axes]
    assert again == rows  # one seed, one picture
    other = [int(axes.texts[0].get_text().split()[-1]) for axes in pictures.samples_figure(excerpts, targets, 4).axes]
    assert other != rows


def test_plot_samples_writes_a_png_and_leaves_training_alone(small_file, tmp_path):
    path = tmp_path / "samples.png"
    with_picture = run_script("--data", small_file, *SHORT_RUN, "--plot-samples", str(path))
    without = run_script("--data", small_file, *SHORT_RUN)
    assert with_picture.returncode == 0, with_picture.stderr
    assert "Drew random excerpts of each class in %s." % path in with_picture.stdout
    assert png_shape(path.read_bytes())[:2] == (680, 1000)
    assert accuracy_lines(with_picture.stdout) == accuracy_lines(without.stdout)  # same batches, same numbers
    assert sorted(os.listdir(tmp_path)) == ["samples.png", "small.npz"]  # no temporary file left


@pytest.mark.parametrize("name, starts", [("curve.svg", b"<?xml"), ("curve.pdf", b"%PDF-"), ("curve.PNG", b"\x89PNG"),
                                          ("curve.jpg", b"\xff\xd8\xff")])
def test_a_picture_is_written_in_the_format_its_name_asks_for(tmp_path, name, starts):
    from lesson_helpers.drawing import pictures
    excerpts = np.zeros((8, 1200), np.float32)
    pictures.draw(pictures.samples_figure(excerpts, np.repeat([0.0, 1.0], 4), seed=0), str(tmp_path / name))
    assert (tmp_path / name).read_bytes().startswith(starts)


def test_every_format_matplotlib_offers_is_accepted(genre_mlp, small_file, tmp_path):
    from matplotlib.backend_bases import FigureCanvasBase
    for extension in set(FigureCanvasBase.get_supported_filetypes()) - {"pgf"}:
        path = str(tmp_path / ("curve." + extension))
        assert parse_args(["--data", small_file, "--plot", path]).plot == path


def test_the_extras_install_hint_runs_from_another_folder(tmp_path):
    from lesson_helpers.command_line.cli import install_hint
    # --dry-run: pip resolves the file it was given (here all installed already) and changes nothing.
    result = subprocess.run(install_hint() + " --dry-run --quiet", shell=True, cwd=str(tmp_path),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("option", ["--plot-samples", "--plot"])
def test_pictures_without_matplotlib_are_one_line(genre_mlp, monkeypatch, capsys, small_file, tmp_path, option):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *rest: None if name == "matplotlib" else real(name, *rest))
    with pytest.raises(SystemExit) as raised:
        parse_args(["--data", small_file, option, str(tmp_path / "picture.png")])
    assert raised.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: %s needs matplotlib, which is not installed; %s -m pip install -r %s; see genre_mlp.py --help"
        % (option, sys.executable, os.path.join(ROOT, "lesson_helpers", "requirements.txt"))]


# ---------------------------------------------------------------------------
# A kernel without the lesson's packages (a hosted notebook)
# ---------------------------------------------------------------------------
def test_install_needs_the_projects_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(notebook, "missing", lambda names=notebook.NEEDED: ["theano"])
    with pytest.raises(notebook.InstallError) as raised:
        notebook.install_missing_packages(folder=str(tmp_path), python="/some/python")
    assert str(raised.value) == ("error: /some/python lacks theano, and %s has no requirements.txt: open the "
                                 "notebook from the project's folder (on Colab, git clone it and %%cd into it "
                                 "first)" % tmp_path)


def test_install_does_nothing_where_the_packages_are(monkeypatch):
    calls = []
    monkeypatch.setattr(notebook, "pip", lambda *args, **kwargs: calls.append(args))
    assert notebook.install_missing_packages() is False and calls == []


def test_pins_come_from_the_requirements_files(tmp_path):
    (tmp_path / "r.txt").write_text("# a comment\nsetuptools==75.8.0\nnumpy==2.3.5; python_version < \"3.12\"\n")
    assert notebook.pinned(str(tmp_path / "r.txt"), "setuptools") == "setuptools==75.8.0"
    assert notebook.pinned(str(tmp_path / "r.txt"), "numpy", (3, 11)) == "numpy==2.3.5"
    with pytest.raises(notebook.InstallError, match="pins no numpy"):  # its one line is for 3.11 only
        notebook.pinned(str(tmp_path / "r.txt"), "numpy", (3, 13))
    with pytest.raises(notebook.InstallError, match="pins no matplotlib"):
        notebook.pinned(str(tmp_path / "r.txt"), "matplotlib")


def test_a_supported_numpy_is_kept_with_its_scipy_and_matplotlib():
    versions = {"numpy": "2.2.6", "scipy": "1.15.3", "matplotlib": "3.10.3", "six": "1.17.0",
                "theano": None, "scipy_openblas32": None, "soundfile": None, "pydot": None, "gdown": None,
                "tqdm": "4.67.1"}
    # gdown and tqdm fetch the data file (requirements.txt's pins): a kernel's own tqdm stays.
    assert notebook.plan(ROOT, versions, python=(3, 13)) == (
        ["numpy==2.2.6", "scipy==1.15.3", "matplotlib==3.10.3", "six==1.17.0", "soundfile==0.14.0",
         "pydot==4.0.1", "gdown==6.5.1", "tqdm==4.67.1", "scipy-openblas32==0.3.34.481.3"], "theano==1.0.5",
        "NumPy 2.2.6, SciPy 1.15.3, matplotlib 3.10.3, six 1.17.0, tqdm 4.67.1", False)
    for kept in ("2.1.0", "2.3.5", "2.5.5"):
        assert notebook.plan(ROOT, dict(versions, numpy=kept))[3] is False


@pytest.mark.parametrize("numpy_version", ["2.0.2", "1.26.4", "2.6.0", None])
def test_another_numpy_is_replaced_by_the_pin_with_its_scipy(numpy_version):
    versions = {"numpy": numpy_version, "scipy": "1.15.3", "matplotlib": "3.10.3", "six": None,
                "theano": None, "scipy_openblas32": None, "soundfile": None}
    requirements, theano, kept, replaces = notebook.plan(ROOT, versions, python=(3, 13))
    assert replaces is True and requirements[:2] == ["numpy==2.5.5", "scipy==1.18.1"]
    assert "matplotlib==3.10.3" in requirements and kept == "matplotlib 3.10.3"
    # Python 3.11's own pins (requirements.txt's markers).
    requirements = notebook.plan(ROOT, dict(versions, scipy=None), python=(3, 11))[0]
    assert requirements[:2] == ["numpy==2.3.5", "scipy==1.16.3"]


def test_the_installers_pins_follow_the_markers(tmp_path):
    (tmp_path / "r.txt").write_text('numpy==1.0; python_version < "3.12"\nnumpy==2.0; python_version >= "3.12"\n'
                                    'six==1; sys_platform == "linux"\n')
    assert [notebook.pinned(str(tmp_path / "r.txt"), "numpy", version) for version in ((3, 11), (3, 12), (3, 15))] \
        == ["numpy==1.0", "numpy==2.0", "numpy==2.0"]
    with pytest.raises(notebook.InstallError, match="a marker this installer cannot read"):
        notebook.pinned(str(tmp_path / "r.txt"), "six")


def requirement(name):
    with open(os.path.join(ROOT, "lesson_helpers", "requirements.txt")) as lines:
        return next(line.strip() for line in lines if line.startswith(name + "=="))


def kernel_venv(folder, packages=()):
    """A new venv of this Python holding a kernel, nbclient, nbconvert (make notebook's runner joins the
    kernel's pieces of output with it; hosted kernels have it) and `packages`; returns its python."""
    venv.EnvBuilder(with_pip=True).create(str(folder))
    python = str(folder / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    requirement("ipykernel"), requirement("nbclient"), requirement("nbconvert")] + list(packages),
                   check=True, timeout=900)
    return python


@pytest.mark.skipif(not os.environ.get("GENRE_MLP_FRESH_KERNEL"),
                    reason="a few minutes and PyPI: GENRE_MLP_FRESH_KERNEL=1 runs it (CI does)")
def test_a_fresh_kernel_gets_the_packages_from_the_first_cell(tmp_path, with_internet):
    # A new venv of this Python with nothing but a kernel and nbclient: the notebook's first
    # code cell must install the rest into the kernel's own Python, and the lesson then runs.
    python = kernel_venv(tmp_path / "fresh")
    probe = "import importlib.util as u; print([n for n in ('numpy', 'theano', 'matplotlib') if u.find_spec(n)])"
    assert subprocess.run([python, "-c", probe], capture_output=True, text=True).stdout.strip() == "[]"
    output = tmp_path / "executed.ipynb"
    result = subprocess.run([python, os.path.join(ROOT, "lesson_helpers", "notebook_route", "lesson_notebook.py"), "run",
                             "--output", str(output), "--"] + SHORT_RUN + ["--stand-in"],
                            capture_output=True, text=True, timeout=1800, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    import nbformat
    executed_copy = nbformat.read(str(output), as_version=4)
    found, text = outputs(executed_copy), printed_text(executed_copy)
    assert "lacks numpy, scipy, theano, matplotlib, " in text and "installing the lesson's packages" in text
    assert "Installed; the lesson goes on." in text
    assert "BLAS: OpenBLAS (scipy-openblas32 wheel)" in text
    assert len(accuracy_lines(text)) == 2 and sum(kind == "png" for kind, value in found) == 4  # the graph too
    assert subprocess.run([python, "-c", probe], capture_output=True, text=True).stdout.strip() == \
        "['numpy', 'theano', 'matplotlib']"


def mistakes_case():
    rng = np.random.RandomState(1)
    excerpts = rng.standard_normal((10, 1200)).astype(np.float32)
    targets = np.repeat([0.0, 1.0], 5).astype(np.float32)
    probabilities = np.array([0.1, 0.7, 0.95, 0.2, 0.51, 0.9, 0.25, 0.02, 0.8, 0.6], dtype=np.float32)
    return excerpts, targets, probabilities


def test_mistakes_figure_draws_the_surest_mistakes_of_each_kind():
    excerpts, targets, probabilities = mistakes_case()
    # Worked out by hand. Classical called rock: 2 (0.95), 1 (0.7), 4 (0.51); rock called classical:
    # 7 (0.02), 6 (0.25). Two of each kind are drawn, the surest first.
    figure = pictures.mistakes_figure(excerpts, targets, probabilities, per_kind=2)
    grid = np.array(figure.axes).reshape(2, 2)
    assert grid[0, 0].get_title(loc="left") == "classical called rock: 3 mistakes, the surest first"
    assert grid[0, 1].get_title(loc="left") == "rock called classical: 2 mistakes, the surest first"
    for column, rows in enumerate([[2, 1], [7, 6]]):
        for axes, row in zip(grid[:, column], rows):
            np.testing.assert_array_equal(axes.get_lines()[0].get_data()[1], excerpts[row])
            assert axes.texts[0].get_text() == "test excerpt %d: probability of rock %.3f" % (row, probabilities[row])
            assert axes.get_ylabel() == "amplitude"
    assert figure._suptitle.get_text() == "The surest of the network's 5 mistakes on 10 test excerpts, of each kind"
    # One kind with none: its column says 0 and draws nothing.
    figure = pictures.mistakes_figure(excerpts, targets, np.where(targets > 0.5, 0.9, probabilities), per_kind=2)
    grid = np.array(figure.axes).reshape(2, 2)
    assert grid[0, 1].get_title(loc="left") == "rock called classical: 0 mistakes"
    assert not any(axes.axison for axes in grid[:, 1])


def test_every_picture_drawn_from_the_stand_in_says_so_in_its_title():
    from lesson_helpers.drawing import curve
    excerpts, targets, probabilities = mistakes_case()
    history = [(0, float("nan"), 0.69, 0.5), (100, 0.6, 0.55, 0.8)]
    drawn = {"samples": lambda stand_in: pictures.samples_figure(excerpts, targets, 0, per_class=2, stand_in=stand_in),
             "mistakes": lambda stand_in: pictures.mistakes_figure(excerpts, targets, probabilities, stand_in=stand_in),
             "curve": lambda stand_in: curve.curve_figure(history, "bce", 0.823, stand_in=stand_in)}
    for name, figure in drawn.items():
        title = figure(True)._suptitle.get_text()
        assert title.startswith("On the generated stand-in, not the lesson's recordings\n"), name
        assert "stand-in" not in figure(False)._suptitle.get_text(), name


def test_listening_to_the_mistakes(capsys):
    from lesson_helpers.sound import listen
    excerpts, targets, probabilities = mistakes_case()
    listen.play_mistakes(excerpts, targets, probabilities, per_kind=2)
    lines = capsys.readouterr().out.splitlines()
    # Outside a notebook IPython's display prints each player's repr: one after each excerpt's line.
    assert [line for line in lines if "Audio object" not in line] == [
        "classical called rock: 3 mistakes, the surest first",
        "  test excerpt 2, probability of rock 0.950", "  test excerpt 1, probability of rock 0.700",
        "rock called classical: 2 mistakes, the surest first",
        "  test excerpt 7, probability of rock 0.020", "  test excerpt 6, probability of rock 0.250"]
    assert sum("Audio object" in line for line in lines) == 4


def test_samples_have_their_own_scale_and_an_amplitude_axis():
    excerpts = np.vstack([0.01 * np.ones((4, 1200)), np.ones((4, 1200))]).astype(np.float32)
    excerpts[:, ::2] *= -1
    figure = pictures.samples_figure(excerpts, np.repeat([0.0, 1.0], 4).astype(np.float32), seed=0)
    grid = np.array(figure.axes).reshape(4, 2)
    assert all(axes.get_ylabel() == "amplitude" for axes in grid[:, 0])
    quiet, loud = grid[0, 0].get_ylim(), grid[0, 1].get_ylim()
    assert quiet[1] < 0.05 and loud[1] > 0.5  # the classical excerpt fills its own panel


def test_the_curve_starts_at_update_0_with_loudness_and_the_lessons_83():
    from lesson_helpers.drawing import curve
    history = [(0, float("nan"), 0.69, 0.5), (100, 0.6, 0.55, 0.8), (200, 0.5, 0.5, 0.85)]
    figure = curve.curve_figure(history, "bce", loudness_accuracy=0.823)
    left, zoomed, _ = figure.axes
    accuracy, lesson, loudness = left.get_lines()
    assert list(accuracy.get_xdata()) == [0, 100, 200] and list(accuracy.get_ydata()) == [50, 80, 85]
    assert list(lesson.get_ydata()) == [83, 83] and list(loudness.get_ydata()) == [82.3, 82.3]
    assert "loudness alone (82.3%)" in [text.get_text() for text in left.get_legend().get_texts()]
    # Told apart at a glance: unlike styles, and a panel a few points high where each is named
    # beside its line, the higher above it, the lower below.
    assert (lesson.get_linestyle(), loudness.get_linestyle()) == ("--", "-")
    assert loudness.get_linewidth() >= 4 * lesson.get_linewidth() and lesson.get_color() != loudness.get_color()
    trained, *references = zoomed.get_lines()
    assert list(trained.get_xdata()) == [100, 200] and list(trained.get_ydata()) == [80, 85]
    assert [list(line.get_ydata()) for line in references] == [[83, 83], [82.3, 82.3]]
    assert zoomed.get_ylim() == (79, 86)  # a point beyond the lowest and the highest of them all
    assert [(text.get_text(), text.get_position()[1], text.get_va()) for text in zoomed.texts] == [
        ("the lesson's 83% (real data)", 83, "bottom"), ("loudness alone (82.3%)", 82.3, "top")]
    # Loudness above the lesson's 83%: the names change sides.
    zoomed = curve.curve_figure(history, "bce", loudness_accuracy=0.9).axes[1]
    assert [(text.get_text(), text.get_va()) for text in zoomed.texts] == [
        ("loudness alone (90.0%)", "bottom"), ("the lesson's 83% (real data)", "top")]


# A Colab-like runtime (docs/platforms.md): Python's own NumPy 2.2, SciPy 1.15 and matplotlib 3.10,
# NumPy imported at kernel start (an IPython start-up file), as a hosted runtime may do.
HOSTED = ["numpy==2.2.6", "scipy==1.15.3", "matplotlib==3.10.3", "setuptools==80.9.0"]


def freeze(python):
    listed = subprocess.run([python, "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True)
    return dict(line.split("==", 1) for line in listed.stdout.split() if "==" in line)


@pytest.mark.skipif(not os.environ.get("GENRE_MLP_FRESH_KERNEL") or sys.version_info[:2] != (3, 13),
                    reason="a few minutes and PyPI, on Colab's Python 3.13: GENRE_MLP_FRESH_KERNEL=1 runs it (CI does)")
def test_a_hosted_kernel_keeps_its_numpy_and_runs_without_a_restart(tmp_path, with_internet):
    python = kernel_venv(tmp_path / "hosted", HOSTED)
    before = freeze(python)
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-numpy.py").write_text("import numpy\n")
    output = tmp_path / "executed.ipynb"
    environ = dict(os.environ, IPYTHONDIR=str(tmp_path / "ipython"))
    result = subprocess.run([python, os.path.join(ROOT, "lesson_helpers", "notebook_route", "lesson_notebook.py"), "run",
                             "--output", str(output), "--"] + SHORT_RUN + ["--stand-in"],
                            capture_output=True, text=True, timeout=1800, cwd=ROOT, env=environ)
    assert result.returncode == 0, result.stderr
    import nbformat
    executed_copy = nbformat.read(str(output), as_version=4)
    found, text = outputs(executed_copy), printed_text(executed_copy)
    assert "installing only those into it, keeping its NumPy 2.2.6, SciPy 1.15.3, matplotlib 3.10.3" in text
    assert "Installed; the lesson goes on." in text and "restart" not in text
    assert "BLAS: OpenBLAS (scipy-openblas32 wheel)" in text
    assert len(accuracy_lines(text)) == 2 and sum(kind == "png" for kind, value in found) == 4  # the graph too
    after = freeze(python)
    changed = {name: (version, after.get(name)) for name, version in before.items() if after.get(name) != version}
    assert changed == {}  # nothing the runtime had was replaced
    assert {"theano", "scipy-openblas32", "soundfile"} <= {name.lower() for name in set(after) - set(before)}


# ---------------------------------------------------------------------------
# The notebook route without a kernel: the parameters cell, the executed copy, the one-line
# error, a kernel short of matplotlib, the first cell run twice
# ---------------------------------------------------------------------------
def notebook_of(*cells):
    import nbformat
    made = nbformat.v4.new_notebook()
    for number, (source, tags) in enumerate(cells, start=1):
        made.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": list(tags)}, id="cell-%02d" % number))
    return made


@pytest.mark.parametrize("tagged", [0, 2])
def test_parameters_must_be_tagged_on_one_cell(tagged):
    made = notebook_of(*[("NOTEBOOK_ARGS = []", ["parameters"])] * tagged + [("print(1)", [])])
    with pytest.raises(lesson_notebook.NotebookError) as raised:
        lesson_notebook.with_arguments(made, ["--updates", "10"])
    assert str(raised.value) == "genre_mlp.ipynb has %d cells tagged parameters, not 1: run `make ipynb`" % tagged


class FakeKernel:
    has_kernel = False


def fake_execution(monkeypatch, outputs_of_cell_2):
    """nbclient.NotebookClient replaced by one that gives the last cell these outputs."""
    import nbclient
    import nbformat

    class Client:
        def __init__(self, notebook, **options):
            self.notebook = notebook

        def execute(self):
            cell = self.notebook.cells[-1]
            cell.outputs = [nbformat.from_dict(output) for output in outputs_of_cell_2]
            if any(output["output_type"] == "error" for output in outputs_of_cell_2):
                raise nbclient.exceptions.CellExecutionError("traceback", "ename", "evalue")
    monkeypatch.setattr(nbclient, "NotebookClient", Client)
    monkeypatch.setattr(lesson_notebook, "kernel_manager", lambda folder: FakeKernel())


def test_the_executed_copy_is_written_atomically(tmp_path, monkeypatch):
    import nbformat
    source = tmp_path / "lesson.ipynb"
    nbformat.write(notebook_of(("NOTEBOOK_ARGS = []", ["parameters"]), ("print('hi')", [])), str(source))
    fake_execution(monkeypatch, [{"output_type": "stream", "name": "stdout", "text": "hi\n"}])
    output, other_name = tmp_path / "executed.ipynb", tmp_path / "other-name.ipynb"
    output.write_text("the run before\n")
    os.link(output, other_name)  # written in place, the other name would change too
    lesson_notebook.run(["--updates", "3"], path=str(source), output=str(output))
    assert other_name.read_text() == "the run before\n"
    written = nbformat.read(str(output), as_version=4)
    assert written.cells[1].source == "NOTEBOOK_ARGS = ['--updates', '3']  # from make notebook ARGS=..."
    assert written.cells[2].outputs[0].text == "hi\n"
    # Through a symlink: the link stays, its target gets the new copy.
    target = tmp_path / "kept" / "executed.ipynb"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "link.ipynb"
    link.symlink_to(target)
    lesson_notebook.run([], path=str(source), output=str(link))
    assert link.is_symlink() and nbformat.read(str(target), as_version=4).cells[1].outputs[0].text == "hi\n"
    assert sorted(os.listdir(tmp_path)) == ["executed.ipynb", "kept", "lesson.ipynb", "link.ipynb",
                                            "other-name.ipynb"]  # no temporary file left


def test_the_lessons_own_error_line_is_the_one_line_reported(tmp_path, monkeypatch):
    import nbformat
    source = tmp_path / "lesson.ipynb"
    nbformat.write(notebook_of(("NOTEBOOK_ARGS = []", ["parameters"]), ("sys.exit('error: ...')", [])), str(source))
    # What ipykernel records for sys.exit("error: ..."): no stderr line, the message as the evalue.
    message = "error: no.npz: not found; give the lesson's data file (README \"The data\")"
    fake_execution(monkeypatch, [{"output_type": "error", "ename": "SystemExit", "evalue": message,
                                  "traceback": ["An exception has occurred, use %tb to see the full traceback.\n",
                                                "SystemExit: " + message]}])
    output = tmp_path / "executed.ipynb"
    with pytest.raises(lesson_notebook.NotebookError) as stopped:
        lesson_notebook.run([], path=str(source), output=str(output))
    assert str(stopped.value) == ("the notebook stopped: no.npz: not found; give the lesson's data file "
                                  "(README \"The data\") (cell cell-02); its outputs are in %s" % output)
    assert output.exists()


def test_any_other_exception_is_named_by_its_type(tmp_path, monkeypatch):
    import nbformat
    source = tmp_path / "lesson.ipynb"
    nbformat.write(notebook_of(("NOTEBOOK_ARGS = []", ["parameters"]), ("1 / 0", [])), str(source))
    fake_execution(monkeypatch, [{"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero",
                                  "traceback": ["..."]}])
    with pytest.raises(lesson_notebook.NotebookError, match=r"stopped: ZeroDivisionError: division by zero "
                                                            r"\(cell cell-02\)"):
        lesson_notebook.run([], path=str(source), output=str(tmp_path / "out.ipynb"))


def pins_in(requirements, name):
    """`name==X` from a requirements file, read here without the installer's code."""
    return next(line.split(";")[0].strip() for line in open(requirements) if line.startswith(name + "=="))


def test_a_kernel_lacking_only_matplotlib_gets_only_matplotlib(monkeypatch):
    import importlib.metadata
    calls, said = [], []
    monkeypatch.setattr(notebook, "missing", lambda names=notebook.NEEDED: ["matplotlib"])
    real_version = notebook.installed_version
    monkeypatch.setattr(notebook, "installed_version", lambda name: None if name == "matplotlib" else real_version(name))
    monkeypatch.setattr(notebook, "pip", lambda python, arguments, environ=None: calls.append(arguments))
    assert notebook.install_missing_packages(folder=ROOT, python="/kernel/python", log=said.append) is True
    matplotlib_pin = pins_in(os.path.join(ROOT, "lesson_helpers", "requirements.txt"), "matplotlib")
    packages = calls[0]
    assert matplotlib_pin in packages
    # Everything else as the kernel has it, pinned so that pip cannot move it.
    kept = ("numpy", "scipy", "six", "soundfile", "pydot", "gdown", "tqdm")
    for distribution in kept:
        assert "%s==%s" % (distribution, importlib.metadata.version(distribution)) in packages
    assert len(packages) == 8  # the BLAS wheel it has is left out, and so left alone
    assert said[0] == ("This kernel's Python (/kernel/python) lacks matplotlib: installing only those into it, keeping "
                       "its NumPy %s, SciPy %s, six %s, soundfile %s, pydot %s, gdown %s, tqdm %s (a minute or two)..."
                       % tuple(importlib.metadata.version(name) for name in kept))
    assert said[-1] == "Installed; the lesson goes on."


# The notebook's code cells in order in one fresh Python, as a kernel runs them (no Jupyter:
# display() prints), with the lesson's options injected as `make notebook` injects them.
CELLS_WITHOUT_A_KERNEL = r"""
import json, sys
arguments, blocked = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for name in blocked:
    sys.modules[name] = None  # not installed, as far as imports and find_spec can tell
import hashlib, nbformat
from lesson_helpers.notebook_route import lesson_notebook, notebook
notebook.install_missing_packages = lambda *args, **kwargs: False  # this test's kernel installs nothing
try:
    import IPython.display
    def display(shown, *more):  # what a kernel would show, as one line: a picture by its digest
        data = getattr(shown, "data", None)
        print("shown inline:", type(shown).__name__, hashlib.sha256(data).hexdigest() if isinstance(data, bytes) else "")
    IPython.display.display = display
except ImportError:
    pass
cells = lesson_notebook.with_arguments(nbformat.read("genre_mlp.ipynb", as_version=4), arguments).cells
namespace = {"__name__": "__main__"}
for cell in cells:
    if cell.cell_type == "code":
        exec(compile(cell.source, cell.get("id"), "exec"), namespace)
"""


@pytest.mark.once
def test_a_kernel_without_matplotlib_says_no_pictures_once(small_file, tmp_path):
    result = subprocess.run([sys.executable, "-c", CELLS_WITHOUT_A_KERNEL,
                             json.dumps(["--updates", "20", "--eval-step", "10", "--data", small_file]),
                             json.dumps(["matplotlib"])], capture_output=True, text=True, cwd=ROOT, timeout=600)  # the lesson's WAV goes to lesson_files/
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert [line for line in result.stdout.splitlines() if "pictures" in line.lower()] == [
        "No pictures: matplotlib is not installed (%s -m pip install -r %s)."
        % (sys.executable, os.path.join(ROOT, "lesson_helpers", "requirements.txt"))]
    assert len(accuracy_lines(result.stdout)) == 2  # the lesson ran to its end all the same


def test_the_first_cell_run_twice_applies_each_piece_once(genre_mlp):
    from theano.gof import cmodule
    from theano.gof.op import COp
    from theano.tensor import basic, blas
    from theano.tensor.type import TensorType
    from theano_today import theano_numpy2, theano_setup

    def state():
        return (TensorType.filter, basic.MaxAndArgmax.c_code, basic.MaxAndArgmax.c_code_cache_version,
                COp.c_code_cache_version, blas.Dot22.__props__, cmodule.GCC_compiler.compile_str,
                tuple(theano_numpy2.mend(genre_mlp.theano)))
    before = state()
    environ = dict(os.environ)
    for _ in range(2):  # what the notebook's first code cell does, run again
        theano, _ = theano_setup.import_theano(environ)
    assert theano is genre_mlp.theano and state() == before
    version = basic.MaxAndArgmax(axis=[0]).c_code_cache_version()
    assert version.count("npy_ravel_axis") == 1
    assert environ.get("THEANO_FLAGS") == os.environ.get("THEANO_FLAGS")


@pytest.mark.once
def test_the_notebook_writes_each_file_asked_for_and_shows_the_pictures_too(small_file, tmp_path):
    import hashlib
    files = {option: str(tmp_path / name) for option, name in (
        ("--plot-samples", "samples.png"), ("--plot", "curve.png"), ("--save", "model.npz"), ("--curve", "curve.csv"))}
    arguments = ["--updates", "20", "--eval-step", "10", "--data", small_file]
    for option, path in files.items():
        arguments += [option, path]
    result = subprocess.run([sys.executable, "-c", CELLS_WITHOUT_A_KERNEL, json.dumps(arguments), "[]"],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    said = result.stdout.splitlines()
    for line in ("Drew random excerpts of each class in %s." % files["--plot-samples"],
                 "Saved the model to %s." % files["--save"], "Wrote the learning curve to %s." % files["--curve"],
                 "Drew the learning curve in %s." % files["--plot"]):
        assert said.count(line) == 1, line
    shown = [line.split()[-1] for line in said if line.startswith("shown inline: Image")]
    from lesson_helpers.drawing.graph import missing_tool
    graph = [] if missing_tool() else [os.path.join(ROOT, "lesson_files", "evaluate.png")]
    assert len(shown) == 3 + len(graph)  # the excerpts, the graph (with pydot and dot), the curve, the mistakes
    # Each picture written to a file is the one shown inline, byte for byte.
    for path, digest in zip([files["--plot-samples"]] + graph + [files["--plot"]], shown):
        assert hashlib.sha256(open(path, "rb").read()).hexdigest() == digest, path
    history = np.loadtxt(files["--curve"], delimiter=",", skiprows=1)
    assert list(history[:, 0]) == [10, 20]
    with np.load(files["--save"]) as saved:
        assert len(saved.files) > 1


def drawn_rows(figure):
    return [int(axes.texts[0].get_text().split()[-1]) for axes in figure.axes if axes.texts]


@pytest.mark.parametrize("per_class", [4, 3])
def test_no_excerpt_is_drawn_twice_even_when_a_class_has_few(per_class):
    # A class with exactly 4 excerpts (or 3): every one of them, each once.
    excerpts = np.random.RandomState(0).standard_normal((per_class + 30, 1200)).astype(np.float32)
    targets = np.array([0.0] * per_class + [1.0] * 30, dtype=np.float32)
    for seed in range(5):
        rows = drawn_rows(pictures.samples_figure(excerpts, targets, seed))
        classical = [row for row in rows if targets[row] == 0]
        assert sorted(classical) == list(range(per_class))
        assert len(rows) == len(set(rows)) == per_class + 4


@pytest.mark.parametrize("loss, name", [("bce", "binary cross-entropy"), ("mse", "squared error")])
def test_accuracy_has_an_axis_of_its_own_and_the_losses_theirs(loss, name):
    from lesson_helpers.drawing import curve
    history = [(0, float("nan"), 0.69, 0.30), (100, 0.6, 0.55, 0.8), (200, 0.5, 0.45, 0.9)]
    left, right = curve.curve_figure(history, loss).axes
    assert left.get_ylabel() == "test accuracy (%)" and right.get_ylabel() == name
    assert [list(line.get_ydata()) for line in left.get_lines()] == [[30, 80, 90], [83, 83]]
    assert left.get_ylim() == (25, 100)  # 5 points below the lowest accuracy, up to 100%
    train, test = right.get_lines()
    assert np.isnan(train.get_ydata()[0]) and list(train.get_ydata()[1:]) == [0.6, 0.5]
    assert list(test.get_ydata()) == [0.69, 0.55, 0.45]
    assert right.get_ylim()[1] < 1  # the losses' scale, not the accuracy's
    assert list(test.get_xdata()) == list(train.get_xdata()) == [0, 100, 200]


def old_and_linked(tmp_path, name):
    """`name` holding an older file, with a second name for the same file beside it."""
    path = tmp_path / name
    path.write_bytes(b"an older file")
    os.link(path, tmp_path / ("other-name-of-" + name))
    return path


def test_the_curve_and_a_picture_are_written_atomically(tmp_path):
    from lesson_helpers.drawing import curve
    history = [(10, 0.6, 0.55, 0.8), (20, 0.5, 0.45, 0.9)]
    csv, png = old_and_linked(tmp_path, "curve.csv"), old_and_linked(tmp_path, "curve.png")
    curve.write_curve(str(csv), history)
    pictures.draw(curve.curve_figure(history, "bce"), str(png))
    # A new file renamed into place: the file's other name still holds the old one.
    for path in (csv, png):
        assert (tmp_path / ("other-name-of-" + path.name)).read_bytes() == b"an older file"
    assert csv.read_text() == ("update,train_loss,test_loss,test_accuracy\n"
                               "10,0.600000,0.550000,0.800000\n20,0.500000,0.450000,0.900000\n")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(os.listdir(tmp_path)) == 4  # no temporary file left


def test_a_picture_that_cannot_be_drawn_leaves_the_old_file(tmp_path):
    png = old_and_linked(tmp_path, "curve.png")

    class Broken:
        def savefig(self, *args, **kwargs):
            raise RuntimeError("matplotlib failed")
    with pytest.raises(RuntimeError):
        pictures.draw(Broken(), str(png))
    assert png.read_bytes() == b"an older file" and len(os.listdir(tmp_path)) == 2


# ---------------------------------------------------------------------------
# The picture of the compiled graph (theano.printing.pydotprint, pydot, Graphviz's dot)
# ---------------------------------------------------------------------------
def test_the_graph_is_drawn_into_its_file_atomically(genre_mlp, model, tmp_path, capsys):
    from lesson_helpers.drawing import graph
    if graph.missing_tool():
        if os.environ.get("CI"):
            pytest.fail("CI must install pydot and Graphviz: %s" % graph.missing_tool())
        pytest.skip(graph.missing_tool())
    path = str(tmp_path / "lesson_files" / "evaluate.png")
    assert graph.draw_graph(genre_mlp.theano.printing.pydotprint, model.evaluate, path) == path
    assert capsys.readouterr().out == ""  # pydotprint's own "The output file is available at" is left out
    assert os.listdir(tmp_path / "lesson_files") == ["evaluate.png"]  # no temporary file left
    with open(path, "rb") as drawn:
        height, width = png_shape(drawn.read())[:2]
    assert height > 400 and width > 400  # the forward pass: some 16 operations, laid out by dot


@pytest.mark.parametrize("absent, line", [
    ("dot", "No picture of the graph: Graphviz's dot command is not installed (apt-get install graphviz)."),
    ("pydot", "No picture of the graph: pydot is not installed (make setup installs it: "
              "lesson_helpers/requirements.txt).")])
def test_without_pydot_or_dot_the_graph_is_one_line(genre_mlp, model, tmp_path, capsys, monkeypatch, absent, line):
    from lesson_helpers.drawing import graph
    if absent == "dot":
        monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no dot on it
    else:
        real = importlib.util.find_spec
        monkeypatch.setattr(importlib.util, "find_spec", lambda name, *rest: None if name == "pydot" else real(name, *rest))
    path = tmp_path / "evaluate.png"
    assert graph.draw_graph(genre_mlp.theano.printing.pydotprint, model.evaluate, str(path)) is None
    assert capsys.readouterr().out.splitlines() == [line]
    assert not path.exists()


def test_the_graphs_summary_counts_what_the_prose_says(model):
    # The prose gives these counts: the forward pass alone, and with the gradient and the updates.
    from lesson_helpers.drawing.graph import graph_summary
    assert graph_summary(model.evaluate).startswith("16 operations: ")
    assert graph_summary(model.train_batch).startswith("41 operations: ")


def test_predict_in_the_notebook_classifies_and_stops_in_one_line(genre_mlp, model, tmp_path):
    soundfile = pytest.importorskip("soundfile")
    from lesson_helpers.command_line.model_file import save_model
    model_path, song = str(tmp_path / "model.npz"), str(tmp_path / "song.wav")
    save_model(model, model_path, 0.5)
    soundfile.write(song, np.sin(np.arange(400 * 3) / 3.0) * 0.3, 400)
    output = tmp_path / "executed.ipynb"
    result = subprocess.run([sys.executable, os.path.join(ROOT, "lesson_helpers", "notebook_route", "lesson_notebook.py"),
                             "run", "--output", str(output), "--", "--predict", model_path, song],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    import nbformat
    found = outputs(nbformat.read(str(output), as_version=4))
    text = "".join(value for kind, value in found if kind == "text")
    assert re.search(r"^%s: (rock|classical) \(probability of rock \d\.\d\d\)$" % re.escape(song), text, re.M)
    # The run stops there, in one line and no traceback: no data, no network, no training.
    assert [value for kind, value in found if kind == "error"] == ["PredictionsDone: "]
    assert "Accuracy" not in text and "Data:" not in text
