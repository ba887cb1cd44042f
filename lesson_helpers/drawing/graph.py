"""The picture of a compiled Theano function: theano.printing.pydotprint writes the graph in
Graphviz's dot language through pydot, and Graphviz's `dot` command lays it out as a PNG. Here:
whether both are at hand (else one line saying what to install, and no picture), and the file
written atomically into the lesson's folder of files. The drawing call itself is the lesson's
(genre_mlp.py owns Theano; this package never imports it)."""
import importlib.util
import os
import shutil
import tempfile

from lesson_helpers.command_line.stopped import stage
from lesson_helpers.files import write_atomically

MISSING = {"pydot": "pydot is not installed (make setup installs it: lesson_helpers/requirements.txt)",
           "dot": "Graphviz's dot command is not installed (apt-get install graphviz)"}


def missing_tool():
    """What keeps the graph from being drawn, in words; None when pydot and dot are both there."""
    if importlib.util.find_spec("pydot") is None:
        return MISSING["pydot"]
    if shutil.which("dot") is None:
        return MISSING["dot"]
    return None


def draw_graph(pydotprint, function, path):
    """`pydotprint(function, outfile=...)` into `path` (a PNG), shown inline in a notebook kernel.
    Returns the path, or None after one line saying why there is no picture."""
    from lesson_helpers import route
    why = missing_tool()
    if why:
        print("No picture of the graph: %s." % why)
        return None
    stage.now("while drawing")
    with tempfile.TemporaryDirectory() as folder:
        drawn = os.path.join(folder, "graph.png")
        pydotprint(function, outfile=drawn, format="png", var_with_name_simple=True, print_output_file=False)
        with open(drawn, "rb") as picture:
            png = picture.read()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_atomically(path, lambda stream: stream.write(png))
    if route.in_kernel():
        from IPython.display import Image, display
        display(Image(data=png))
    return path


def graph_summary(function):
    """How many operations a compiled function runs, and the commonest kinds."""
    from collections import Counter
    kinds = Counter(type(node.op).__name__ for node in function.maker.fgraph.toposort())
    return "%d operations: %s" % (sum(kinds.values()), ", ".join("%s x%d" % kind for kind in kinds.most_common(6)))
