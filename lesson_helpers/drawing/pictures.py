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


STAND_IN_TITLE = "On the generated stand-in, not the lesson's recordings"


def titled(text, stand_in):
    """A picture's title; one drawn from the stand-in says so, on a line of its own."""
    return "%s\n%s" % (STAND_IN_TITLE, text) if stand_in else text


def samples_figure(excerpts, targets, seed, per_class=EXCERPTS_PER_CLASS, stand_in=False):
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
    figure.suptitle(titled("%d random training excerpts of each class, 3 s at %d Hz (each panel its own scale)"
                           % (per_class, SAMPLE_RATE), stand_in))
    return figure


MISTAKES = (("classical called rock", 0), ("rock called classical", 1))  # (the kind, the true class)


def confident_mistakes(targets, probabilities, per_kind):
    """For each kind of mistake, classical called rock and rock called classical: (its name, how
    many test excerpts it holds, its `per_kind` most confident rows, the surest first)."""
    probabilities, is_rock = np.asarray(probabilities), np.asarray(targets) > 0.5
    found = []
    for name, truth in MISTAKES:
        wrong = np.flatnonzero(((probabilities > 0.5) != is_rock) & (is_rock == bool(truth)))
        # How sure the wrong answer was: the probability of rock for one kind, of classical for the other.
        sureness = probabilities[wrong] if truth == 0 else 1 - probabilities[wrong]
        found.append((name, len(wrong), wrong[np.argsort(-sureness, kind="stable")][:per_kind]))
    return found


def mistakes_figure(excerpts, targets, probabilities, per_kind=3, stand_in=False):
    """The most confidently wrong test excerpts of each kind, a column per kind, each column
    titled with how many mistakes of that kind there were."""
    from matplotlib.figure import Figure
    kinds = confident_mistakes(targets, probabilities, per_kind)
    rows = max(1, max(len(chosen) for _, _, chosen in kinds))
    figure = Figure(figsize=(12, 1.6 * rows + 1.2), layout="constrained")
    grid = figure.subplots(rows, 2, sharex=True, squeeze=False)
    seconds = np.arange(excerpts.shape[1]) / SAMPLE_RATE
    for column, (name, count, chosen) in enumerate(kinds):
        truth = MISTAKES[column][1]
        grid[0, column].set_title("%s: %d mistake%s%s" % (name, count, "" if count == 1 else "s",
                                                         ", the surest first" if count > 1 else ""),
                                  loc="left", fontsize=10, fontweight="bold")
        for row in range(rows):
            axes = grid[row, column]
            if row >= len(chosen):
                axes.set_axis_off()
                continue
            excerpt = chosen[row]
            axes.plot(seconds, excerpts[excerpt], color=CLASS_COLOURS[truth], linewidth=0.6)
            axes.text(0.01, 0.95, "test excerpt %d: probability of rock %.3f" % (excerpt, probabilities[excerpt]),
                      transform=axes.transAxes, va="top", fontsize=8,
                      bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1))
            axes.set_ylabel("amplitude")
            axes.grid(alpha=0.3)
        grid[-1, column].set_xlabel("time (s)")
    total = sum(count for _, count, _ in kinds)
    figure.suptitle(titled("The surest of the network's %d mistakes on %d test excerpts, of each kind"
                           % (total, len(targets)), stand_in))
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
