#!/usr/bin/env python3
"""genre_mlp.ipynb and genre_cnn.ipynb: made from genre_mlp.py and genre_cnn.py by jupytext, and
run in a Jupyter kernel by nbclient.

    python lesson_helpers/notebook_route/lesson_notebook.py write          # both .py -> .ipynb (`make ipynb`)
    python lesson_helpers/notebook_route/lesson_notebook.py run [-- ARGS]  # execute it (`make notebook ARGS=...`)
    python lesson_helpers/notebook_route/lesson_notebook.py run --lesson cnn   # the next lesson (`make notebook LESSON=cnn`)

genre_mlp.py is the one source of the lesson: its `# %%` lines (jupytext's percent
format) mark the cells, so JupyterLab with jupytext, VS Code and PyCharm open it as a
notebook as it is. genre_mlp.ipynb is the same cells for sites that take only .ipynb
(Colab, GitHub), committed without outputs; tests/test_notebook.py fails when the two
disagree. Cell ids are numbered rather than random, so that writing it twice gives the
same file.

`run` executes genre_mlp.ipynb in a kernel of the Python running this (the venv's, for
`make notebook`), from the project's folder, and writes the executed copy with its
outputs to genre_mlp.executed.ipynb (ignored by git). The lesson's options, ARGS, go in
a cell placed after the one tagged "parameters", as papermill does: the kernel's own
command line is not the lesson's.
"""
import argparse
import atexit
import copy
import json
import os
import shutil
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)  # run as a script: the project's packages live in its folder

from lesson_helpers.command_line import cli, stopped  # noqa: E402
from lesson_helpers.files import WriteError, write_atomically  # noqa: E402

LESSONS = ("mlp", "cnn")  # genre_mlp.py, the first lesson; genre_cnn.py, the next


def lesson_paths(lesson):
    """The lesson's script, its notebook, and the executed copy `run` writes."""
    return tuple(os.path.join(ROOT, "genre_%s%s" % (lesson, end)) for end in (".py", ".ipynb", ".executed.ipynb"))


SCRIPT, NOTEBOOK, EXECUTED = lesson_paths("mlp")
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
CELL_TIMEOUT = 1800  # seconds: the training cell's 5000 updates take about 10 s here, a slow CPU more


class NotebookError(Exception):
    """One line: what went wrong in the notebook, and where to look."""


def notebook_text(script=SCRIPT):
    """genre_mlp.ipynb's text, made from the percent-format script by jupytext."""
    import jupytext
    notebook = jupytext.read(script, fmt="py:percent")
    # jupytext lists the cells' metadata keys from a set, in an order that changes from run to run.
    settings = notebook.metadata.get("jupytext", {})
    if "cell_metadata_filter" in settings:
        keys = settings["cell_metadata_filter"].split(",")
        named = sorted(key for key in keys if key != "-all")
        settings["cell_metadata_filter"] = ",".join(named + (["-all"] if "-all" in keys else []))
    for number, cell in enumerate(notebook.cells, start=1):
        cell["id"] = "cell-%02d" % number
    notebook.metadata["kernelspec"] = KERNELSPEC
    notebook.metadata["language_info"] = {"name": "python"}
    return jupytext.writes(notebook, fmt="ipynb")


def write(path=NOTEBOOK, script=SCRIPT):
    text = notebook_text(script)
    write_atomically(path, lambda stream: stream.write(text.encode()))
    return path


def with_arguments(notebook, arguments):
    """A copy of `notebook` whose parameters cell is followed by one setting NOTEBOOK_ARGS."""
    import nbformat
    notebook = copy.deepcopy(notebook)
    tagged = [index for index, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])]
    if len(tagged) != 1:
        raise NotebookError("%s has %d cells tagged parameters, not 1: run `make ipynb`"
                            % (os.path.basename(NOTEBOOK), len(tagged)))
    if arguments:
        cell = nbformat.v4.new_code_cell("NOTEBOOK_ARGS = %r  # from make notebook ARGS=..." % (arguments,),
                                         metadata={"tags": ["injected-parameters"]})
        cell["id"] = "injected-parameters"
        notebook.cells.insert(tagged[0] + 1, cell)
    return notebook


def kernel_manager(folder):
    """A kernel of this very Python, whatever kernels the user has installed elsewhere."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    spec = os.path.join(folder, "lesson")
    os.makedirs(spec)
    with open(os.path.join(spec, "kernel.json"), "w") as out:
        json.dump({"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                   "display_name": "genre_mlp (%s)" % sys.executable, "language": "python"}, out)
    # Unix sockets in `folder` rather than TCP ports on localhost: no port to collide
    # with, nothing reachable from elsewhere, and no warning from the kernel about it.
    return KernelManager(kernel_name="lesson", kernel_spec_manager=KernelSpecManager(kernel_dirs=[folder]),
                         transport="ipc", ip=os.path.join(folder, "kernel"))


def coalesced(notebook):
    """`notebook` with each run of consecutive stream outputs of one name merged into one output.
    The kernel sends what it has at each flush, so one cell's printed lines arrive in pieces that
    may split a line from its newline; nbconvert's preprocessor joins them, keeping the order of
    text and pictures (nbclient's coalesce_streams would move text printed after a picture before it)."""
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor
    return CoalesceStreamsPreprocessor().preprocess(notebook, {})[0]


def failure(notebook):
    """The first error in the executed notebook, as one line: the lesson's own error line if it gave one."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") != "PredictionsDone":  # --predict's end
                printed = [line for out in cell.outputs if out.get("name") == "stderr"
                           for line in out.get("text", "").splitlines() if line.startswith("error: ")]
                if printed:      # argparse's line (lesson_helpers/command_line/cli.py)
                    message = printed[-1][len("error: "):]
                elif output.ename == "SystemExit" and output.evalue.startswith("error: "):
                    message = output.evalue[len("error: "):]   # sys.exit("error: ...")
                else:
                    message = "%s: %s" % (output.ename, output.evalue)
                return "%s (cell %s)" % (message, cell.get("id"))
    return None


def execute(client):
    """client.execute() in a thread of its own: in the main thread nbclient takes SIGINT for
    itself and goes on running the notebook, so that Ctrl-C did nothing. Here the main thread
    waits, and a Ctrl-C reaches it as KeyboardInterrupt."""
    outcome = []

    def work():
        try:
            client.execute()
        except BaseException as error:  # handed to the main thread, which raises it
            outcome.append(error)
    worker = threading.Thread(target=work, name="notebook", daemon=True)
    worker.start()
    try:
        worker.join()
    except KeyboardInterrupt:
        # The kernel runs in a session of its own (the terminal's Ctrl-C misses it): shut it down,
        # once it has started if it was starting, so that none is left running.
        waited = 0
        while worker.is_alive() and not client.km.has_kernel and waited < 600:
            worker.join(0.1)
            waited += 1
        if client.km.has_kernel:
            client.km.shutdown_kernel(now=True)
        # nbclient's own clean-up, left for the exit, would stop the kernel's channels from this
        # thread while the worker's event loop still holds them; on Python 3.12 that waits forever.
        # (Its name is nbclient 0.11.0's, pinned; the Ctrl-C test hangs on 3.12 without this.)
        atexit.unregister(client._cleanup_kernel)
        client.km.cleanup_resources()
        worker.join(10)
        raise
    if outcome:
        raise outcome[0]


class Stopped(KeyboardInterrupt):
    """Ctrl-C: the message says which cell was running and what was not written."""


def stopped_in(notebook, output):
    """Stopped for a notebook whose run was interrupted: the cell it was in (the last one started)."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    started = [number for number, cell in enumerate(code, start=1) if cell.get("execution_count")]
    where = ("in cell %s (code cell %d of %d)" % (code[started[-1] - 1].get("id"), started[-1], len(code))
             if started else "before the first cell ran")
    return Stopped("%s; the kernel is shut down; %s not written (an earlier one is kept as it was)"
                   % (where, output) if os.path.exists(output) else
                   "%s; the kernel is shut down; %s not written" % (where, output))


def run(arguments, path=NOTEBOOK, output=EXECUTED, timeout=CELL_TIMEOUT):
    """Execute `path` with the lesson's options `arguments`; the executed copy goes to `output`."""
    import nbclient
    import nbformat
    if not os.path.exists(path):
        raise NotebookError("%s not found: run `make ipynb` to make it from its .py file" % path)
    notebook = with_arguments(nbformat.read(path, as_version=4), arguments)
    folder = tempfile.mkdtemp(prefix="genre-mlp-kernel.")
    try:
        manager = kernel_manager(folder)
        client = nbclient.NotebookClient(notebook, timeout=timeout, km=manager,
                                         resources={"metadata": {"path": ROOT}})
        try:
            execute(client)
        except nbclient.exceptions.CellExecutionError:
            pass  # the executed copy is written all the same, to show where it stopped
        except KeyboardInterrupt:  # the kernel is shut down; the last executed copy is kept, not replaced
            raise stopped_in(notebook, output) from None
        if manager.has_kernel:  # nbclient leaves a kernel it was given running
            manager.shutdown_kernel()
        notebook = coalesced(notebook)
        write_atomically(output, lambda stream: stream.write(nbformat.writes(notebook).encode()))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    problem = failure(notebook)
    if problem:
        raise NotebookError("the notebook stopped: %s; its outputs are in %s" % (problem, output))
    return notebook


def main(argv=None):
    parser = cli.Parser(prog="lesson_helpers/notebook_route/lesson_notebook.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("write", help="make genre_mlp.ipynb and genre_cnn.ipynb from their .py files")
    runner = commands.add_parser("run", help="execute genre_mlp.ipynb (or --lesson cnn: genre_cnn.ipynb), "
                                 "writing genre_mlp.executed.ipynb (genre_cnn.executed.ipynb)")
    runner.add_argument("--lesson", choices=LESSONS, default="mlp", help="mlp, the first lesson (the default), or "
                        "cnn, the next")
    runner.add_argument("--output", help="where the executed copy goes (default genre_LESSON.executed.ipynb)")
    runner.add_argument("--notebook", help="the notebook to run (default genre_LESSON.ipynb)")
    runner.add_argument("arguments", nargs=argparse.REMAINDER, help="-- then the lesson's options")
    args = parser.parse_args(argv)
    try:
        if args.command == "write":
            for lesson in LESSONS:
                script, notebook, _ = lesson_paths(lesson)
                print("Wrote %s from %s." % (os.path.relpath(write(notebook, script)), os.path.relpath(script)))
            return
        _, notebook, executed = lesson_paths(args.lesson)
        args.output = args.output or executed
        arguments = args.arguments[1:] if args.arguments[:1] == ["--"] else args.arguments
        run(arguments, path=args.notebook or notebook, output=args.output)
        print("Ran the notebook; its outputs are in %s." % os.path.relpath(args.output))
    except ImportError as error:
        sys.exit("error: %s is not installed for %s: %s (make setup does)"
                 % (error.name, sys.executable, cli.install_hint()))
    except (NotebookError, WriteError) as error:
        sys.exit("error: %s" % error)
    except RuntimeError as error:  # nbclient's DeadKernelError: the kernel could not start or died
        sys.exit("error: the notebook's kernel stopped: %s" % error)
    except Stopped as stop:
        stopped.exit_stopped(str(stop))
    except KeyboardInterrupt:
        stopped.exit_stopped("before the notebook ran; nothing written")


if __name__ == "__main__":
    main()
