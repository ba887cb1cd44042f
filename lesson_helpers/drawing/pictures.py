"""The lesson's pictures: random excerpts of each class, and drawing any figure to a PNG
file or inline in a notebook (`genre_mlp.py --plot-samples`, `--plot`; needs matplotlib).

Figures are built with matplotlib's object interface (matplotlib.figure.Figure, no
pyplot), so drawing one needs no screen and never changes a notebook kernel's backend.
"""
import io
import os

import numpy as np

from lesson_helpers.command_line.stopped import stage
from lesson_helpers.files import is_special, write_atomically

CLASS_NAMES = ("classical", "rock")   # target 0 and target 1
CLASS_COLOURS = ("tab:blue", "tab:red")
SAMPLE_RATE = 400                     # the lesson's excerpts: 1200 samples, 3 s
EXCERPTS_PER_CLASS = 4


def samples_figure(excerpts, targets, seed, per_class=EXCERPTS_PER_CLASS):
    """`per_class` random excerpts of each class as waveforms over their 3 s, a column per class.

    The draw has a generator of its own, so the batches the training sees stay the same.
    """
    from matplotlib.figure import Figure
    random = np.random.RandomState(seed)
    figure = Figure(figsize=(10, 1.5 * per_class + 0.8), layout="constrained")
    # Each panel its own y-scale: at one shared scale the quieter classical excerpts look flat.
    grid = figure.subplots(per_class, 2, sharex=True, squeeze=False)
    seconds = np.arange(excerpts.shape[1]) / SAMPLE_RATE
    for column, (name, colour) in enumerate(zip(CLASS_NAMES, CLASS_COLOURS)):
        rows = np.flatnonzero(targets == column)
        chosen = np.sort(random.choice(rows, size=min(per_class, len(rows)), replace=False))
        grid[0, column].set_title(name)
        for axes, row in zip(grid[:, column], chosen):
            axes.plot(seconds, excerpts[row], color=colour, linewidth=0.6)
            axes.text(0.01, 0.95, "excerpt %d" % row, transform=axes.transAxes, va="top", fontsize=8)
            axes.grid(alpha=0.3)
        grid[-1, column].set_xlabel("time (s)")
    for axes in grid[:, 0]:
        axes.set_ylabel("amplitude")
    figure.suptitle("%d random training excerpts of each class, 3 s at %d Hz (each panel its own scale)"
                    % (per_class, SAMPLE_RATE))
    return figure


def mistakes_figure(excerpts, targets, probabilities, count=4):
    """Up to `count` test excerpts the network got wrong, the most confidently wrong first."""
    from matplotlib.figure import Figure
    wrong = np.flatnonzero((probabilities > 0.5) != (targets > 0.5))
    confidence = np.abs(probabilities[wrong] - 0.5)
    chosen = wrong[np.argsort(-confidence, kind="stable")][:count]
    figure = Figure(figsize=(10, 1.5 * max(len(chosen), 1) + 0.8), layout="constrained")
    grid = figure.subplots(max(len(chosen), 1), 1, sharex=True, squeeze=False)[:, 0]
    seconds = np.arange(excerpts.shape[1]) / SAMPLE_RATE
    for axes, row in zip(grid, chosen):
        truth = int(targets[row] > 0.5)
        axes.plot(seconds, excerpts[row], color=CLASS_COLOURS[truth], linewidth=0.6)
        axes.set_title("test excerpt %d: %s, called %s (probability of rock %.2f)"
                       % (row, CLASS_NAMES[truth], CLASS_NAMES[1 - truth], probabilities[row]), fontsize=9)
        axes.set_ylabel("amplitude")
        axes.grid(alpha=0.3)
    grid[-1].set_xlabel("time (s)")
    figure.suptitle("The most confidently wrong of %d mistakes on the test set" % len(wrong))
    return figure


def png_bytes(figure, format="png"):
    buffer = io.BytesIO()
    figure.savefig(buffer, format=format, dpi=100)
    return buffer.getvalue()


def file_format(path):
    """The format a picture file gets: its extension's (lesson_helpers/command_line/options.py checked it), PNG for a device."""
    extension = os.path.splitext(path)[1][1:].lower()
    return "png" if is_special(path) or not extension else extension


def draw(figure, path=None, inline=False):
    """Write `figure` to `path` (atomically) in the format its extension names, show it inline, or both."""
    stage.now("while drawing")
    # A PNG is drawn once for both: a second drawing of a constrained layout can move a pixel.
    png = png_bytes(figure) if inline or (path and file_format(path) == "png") else None
    if path:
        picture = png if file_format(path) == "png" else png_bytes(figure, file_format(path))
        write_atomically(path, lambda stream: stream.write(picture))
        stage.wrote(path)
    if inline:
        from IPython.display import Image, display  # in a notebook kernel, IPython is there
        display(Image(data=png))


_told = []  # the notebook says once that it has no pictures


def show(make_figure, path=None, said=None):
    """A picture where it can be seen: inline in a notebook kernel (and written to `path` too, if
    given); from the script only to `path`. make_figure() is called only when the picture is drawn;
    `said` is printed once it is in `path` ("Drew the learning curve in %s.")."""
    import importlib.util
    from lesson_helpers import route
    inline = route.in_kernel()
    if inline and importlib.util.find_spec("matplotlib") is None:
        if not _told:
            from lesson_helpers.command_line.cli import install_hint
            print("No pictures: matplotlib is not installed (%s)." % install_hint())
            _told.append(True)
        return
    if inline or path:
        draw(make_figure(), path, inline=inline)
    if path and said:
        print(said % path)


def print_confusion(counts):
    """The confusion matrix as a small table: rows the true class, columns what the network said."""
    print("%-16s %10s %10s" % ("", "said classical", "said rock"))
    for name, row in zip(("truly classical", "truly rock"), counts):
        print("%-16s %14d %10d" % (name, row[0], row[1]))
