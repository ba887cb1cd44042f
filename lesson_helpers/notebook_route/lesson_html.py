#!/usr/bin/env python3
"""make html: the lesson run as a notebook, then written as one web page to read without running it.

    python lesson_helpers/notebook_route/lesson_html.py [--lesson cnn] [--output genre_mlp.html] [-- ARGS]

Executes genre_mlp.ipynb as `make notebook` does (lesson_notebook.run, the lesson's
options ARGS included), then turns the executed notebook into one HTML file with
nbconvert: the prose, the code, its printed lines and its pictures, which nbconvert
embeds as data: URIs. The page loads nothing from elsewhere (no MathJax or
require.js from a CDN), so it opens offline, from a file or an e-mail attachment.
It is written atomically (ignored by git): a failed run leaves the last good page.
"""
import argparse
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)  # run as a script: the project's packages live in its folder

from lesson_helpers.command_line import cli, stopped
from lesson_helpers.notebook_route import lesson_notebook  # noqa: E402
from lesson_helpers.files import WriteError, check_writable, write_atomically  # noqa: E402

PAGE = os.path.join(ROOT, "genre_mlp.html")
TITLES = {"mlp": "Music genre prediction using Theano",
          "cnn": "Can we do better? A convolutional network in Theano"}
TITLE = TITLES["mlp"]
# Script tags whose source is on the web (MathJax, require.js): the page works without them.
REMOTE_SCRIPT = re.compile(r'<script[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>\s*')


def page_text(executed, title=TITLE):
    """The executed notebook as one self-contained HTML page."""
    from nbconvert import HTMLExporter
    # embed_images: markdown images too, not only the outputs. The streams are coalesced here as well
    # as in lesson_notebook.run, so that a page made from any executed notebook shows whole lines.
    exporter = HTMLExporter(embed_images=True, config={"CoalesceStreamsPreprocessor": {"enabled": True}})
    body, _ = exporter.from_notebook_node(executed, resources={"metadata": {"name": title}})
    return REMOTE_SCRIPT.sub("", body)


def write_page(arguments, output=PAGE, lesson="mlp"):
    """Run the lesson's notebook with `arguments` and write it to `output` as a page."""
    check_writable(output, example="genre_%s.html" % lesson)  # before the run, not after it
    folder = tempfile.mkdtemp(prefix="genre-mlp-html.")
    try:
        executed = lesson_notebook.run(arguments, path=lesson_notebook.lesson_paths(lesson)[1],
                                       output=os.path.join(folder, "executed.ipynb"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    text = page_text(executed, TITLES[lesson])
    write_atomically(output, lambda stream: stream.write(text.encode()))
    return len(text.encode())


def main(argv=None):
    parser = cli.Parser(prog="lesson_helpers/notebook_route/lesson_html.py", description=__doc__.split("\n")[0])
    parser.add_argument("--lesson", choices=lesson_notebook.LESSONS, default="mlp",
                        help="mlp, the first lesson (the default), or cnn, the next")
    parser.add_argument("--output", help="where the page goes (default genre_LESSON.html)")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="-- then the lesson's options")
    args = parser.parse_args(argv)
    args.output = args.output or os.path.join(ROOT, "genre_%s.html" % args.lesson)
    arguments = args.arguments[1:] if args.arguments[:1] == ["--"] else args.arguments
    try:
        size = write_page(arguments, args.output, args.lesson)
    except ImportError as error:
        sys.exit("error: %s is not installed for %s: %s (make setup does)" % (error.name, sys.executable,
                                                                               cli.install_hint()))
    except (lesson_notebook.NotebookError, WriteError) as error:
        sys.exit("error: %s" % error)
    except RuntimeError as error:  # nbclient's DeadKernelError
        sys.exit("error: the notebook's kernel stopped: %s" % error)
    except lesson_notebook.Stopped as stop:  # its first part says which cell was running
        stopped.exit_stopped("%s; the kernel is shut down; %s not written" % (str(stop).split("; ")[0], args.output))
    except KeyboardInterrupt:
        stopped.exit_stopped("before the notebook ran; %s not written" % args.output)
    print("Ran the notebook and wrote it as one page, %s (%d kB): open it in a browser."
          % (os.path.relpath(args.output), round(size / 1000)))


if __name__ == "__main__":
    main()
