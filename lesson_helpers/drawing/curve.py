"""The learning curve: `genre_mlp.py --curve` (CSV) and the figure `--plot` draws (needs matplotlib).

`history` is what genre_mlp.train returns: one (update, train loss, test loss,
test accuracy) per evaluation.
"""
import numpy as np

from lesson_helpers.command_line.stopped import stage
from lesson_helpers.files import write_atomically
from lesson_helpers.drawing.pictures import titled

LESSON_ACCURACY = 0.83   # what the lesson reports on its real data
LOSS_NAMES = {"bce": "binary cross-entropy", "mse": "squared error"}


def write_curve(path, history):
    stage.now("while writing the curve")
    lines = ["update,train_loss,test_loss,test_accuracy"]
    lines += ["%d,%.6f,%.6f,%.6f" % tuple(row) for row in history]
    write_atomically(path, lambda stream: stream.write(("\n".join(lines) + "\n").encode()))
    stage.wrote(path)


def curve_figure(history, loss, loudness_accuracy=None, stand_in=False, lesson=(LESSON_ACCURACY, "the lesson's 83% (real data)"),
                 others=()):
    """Test accuracy beside the train and test loss, one point per evaluation; a row of
    update 0 (the untrained network, its train loss nan) starts the curve where training did.
    `loudness_accuracy`: what loudness alone gets on the test set, drawn as a reference, and
    the trained part once more, zoomed; `stand_in`: the title says the run was on the stand-in;
    `lesson`: the published result (accuracy, its name); `others`: more (accuracy, name) lines,
    such as the first lesson's MLP beside the convolutional network."""
    from matplotlib.figure import Figure  # no pyplot: see lesson_helpers/drawing/pictures.py
    updates, train_loss, test_loss, accuracy = (np.array(column, dtype=float) for column in zip(*history))
    references = [(100 * lesson[0], lesson[1], dict(color="black", linestyle="--", linewidth=1))]
    references += [(100 * value, name, dict(color="tab:green", linestyle=":", linewidth=2)) for value, name in others]
    if loudness_accuracy is not None:
        references.append((100 * loudness_accuracy, "loudness alone (%.1f%%)" % (100 * loudness_accuracy),
                           dict(color="tab:orange", linewidth=5, alpha=0.5)))
    zoomed = loudness_accuracy is not None and (updates > 0).any()
    figure = Figure(figsize=(14 if zoomed else 10, 4.3), layout="tight")
    panels = figure.subplots(1, 3 if zoomed else 2)
    left, right = panels[0], panels[-1]
    left.plot(updates, 100 * accuracy, "o-", label="test accuracy")
    for value, name, style in references:
        left.axhline(value, label=name, **style)
    left.set(xlabel="update", ylabel="test accuracy (%)", title="Accuracy",
             ylim=(min(40, 100 * np.nanmin(accuracy) - 5), 100))
    left.legend(loc="lower right")
    if zoomed:
        zoom(panels[1], updates[updates > 0], 100 * accuracy[updates > 0], references)
    right.plot(updates, train_loss, "o-", label="train loss (batches since last evaluation)")
    right.plot(updates, test_loss, "s-", label="test loss")
    right.set(xlabel="update", ylabel=LOSS_NAMES[loss], title="Loss")
    right.legend()
    for axes in panels:
        axes.grid(alpha=0.3)
    figure.suptitle(titled("The learning curve", stand_in))
    return figure


def zoom(axes, updates, accuracy, references):
    """The trained part again, a few points high, where lines less than a point apart (the
    lesson's 83%, loudness alone) lie well apart, each named beside itself."""
    axes.plot(updates, accuracy, "o-")
    for rank, (value, name, style) in enumerate(sorted(references, key=lambda reference: -reference[0])):
        axes.axhline(value, **style)
        # The higher one's name above its line, the lower one's below.
        axes.text(0.02, value, name, transform=axes.get_yaxis_transform(), va="top" if rank == len(references) - 1 else "bottom")
    values = [value for value, _, _ in references] + list(accuracy)
    axes.set(xlabel="update", ylabel="test accuracy (%)", title="Accuracy after training began, zoomed",
             ylim=(min(values) - 1, max(values) + 1))
