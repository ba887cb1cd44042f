"""The learning curve: `genre_mlp.py --curve` (CSV) and the figure `--plot` draws (needs matplotlib).

`history` is what genre_mlp.train returns: one (update, train loss, test loss,
test accuracy) per evaluation.
"""
import numpy as np

from lesson_helpers.command_line.stopped import stage
from lesson_helpers.files import write_atomically

LESSON_ACCURACY = 0.83   # what the lesson reports on its real data
LOSS_NAMES = {"bce": "binary cross-entropy", "mse": "squared error"}


def write_curve(path, history):
    stage.now("while writing the curve")
    lines = ["update,train_loss,test_loss,test_accuracy"]
    lines += ["%d,%.6f,%.6f,%.6f" % tuple(row) for row in history]
    write_atomically(path, lambda stream: stream.write(("\n".join(lines) + "\n").encode()))
    stage.wrote(path)


def curve_figure(history, loss, loudness_accuracy=None):
    """Test accuracy beside the train and test loss, one point per evaluation; a row of
    update 0 (the untrained network, its train loss nan) starts the curve where training did.
    `loudness_accuracy`: what loudness alone gets on the test set, drawn as a reference."""
    from matplotlib.figure import Figure  # no pyplot: see lesson_helpers/drawing/pictures.py
    updates, train_loss, test_loss, accuracy = (np.array(column, dtype=float) for column in zip(*history))
    figure = Figure(figsize=(10, 4), layout="tight")
    left, right = figure.subplots(1, 2)
    left.plot(updates, 100 * accuracy, "o-", label="test accuracy")
    left.axhline(100 * LESSON_ACCURACY, color="gray", linestyle="--", label="the lesson's 83% (real data)")
    if loudness_accuracy is not None:
        left.axhline(100 * loudness_accuracy, color="tab:orange", linestyle=":",
                     label="loudness alone (%.1f%%)" % (100 * loudness_accuracy))
    left.set(xlabel="update", ylabel="test accuracy (%)", title="Accuracy", ylim=(min(40, 100 * np.nanmin(accuracy) - 5), 100))
    right.plot(updates, train_loss, "o-", label="train loss (batches since last evaluation)")
    right.plot(updates, test_loss, "s-", label="test loss")
    right.set(xlabel="update", ylabel=LOSS_NAMES[loss], title="Loss")
    for axes in (left, right):
        axes.grid(alpha=0.3)
        axes.legend()
    return figure
