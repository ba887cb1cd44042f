"""What the convolutional network's first layer learned (genre_cnn.py): its kernels, and what
each of them finds in a classical and a rock excerpt. Needs matplotlib; no pyplot (pictures.py).

`kernels` is the first layer's weights as (filters, width); `activations` maps a name
("classical", "rock") to (the excerpt's 1200 samples, its (filters, steps) activations).
"""
import numpy as np

from lesson_helpers.drawing.pictures import CLASS_COLOURS, SAMPLE_RATE, titled


def order_by_strength(kernels):
    """The filters, the strongest (largest sum of squared weights) first: the picture's row order."""
    return np.argsort(-np.sum(kernels ** 2, axis=1), kind="stable")


def kernels_figure(kernels, activations, stand_in=False):
    from matplotlib.figure import Figure
    order = order_by_strength(kernels)
    figure = Figure(figsize=(13, 7.5), layout="constrained")
    grid = figure.add_gridspec(2, 3, height_ratios=(1, 3), width_ratios=(1, 2, 2))
    bound = np.abs(kernels).max()
    axes = figure.add_subplot(grid[:, 0])
    image = axes.imshow(kernels[order], aspect="auto", cmap="RdBu_r", vmin=-bound, vmax=bound,
                        extent=(-0.5, kernels.shape[1] - 0.5, len(order) - 0.5, -0.5))
    axes.set(title="The %d kernels, strongest on top" % len(order), xlabel="tap (one sample, 2.5 ms)",
             ylabel="filter")
    figure.colorbar(image, ax=axes, location="bottom", label="weight")
    peak = max(np.abs(found).max() for _, found in activations.values()) or 1.0
    for column, (name, (excerpt, found)) in enumerate(activations.items(), start=1):
        top = figure.add_subplot(grid[0, column])
        seconds = np.arange(len(excerpt)) / SAMPLE_RATE
        top.plot(seconds, excerpt, color=CLASS_COLOURS[column - 1], linewidth=0.6)
        top.set(title="A %s test excerpt" % name, xlim=(0, len(excerpt) / SAMPLE_RATE), ylabel="amplitude")
        top.grid(alpha=0.3)
        bottom = figure.add_subplot(grid[1, column], sharex=top)
        shown = bottom.imshow(found[order], aspect="auto", cmap="magma", vmin=0, vmax=peak,
                              extent=(0, len(excerpt) / SAMPLE_RATE, len(order) - 0.5, -0.5))
        bottom.set(xlabel="time (s)", ylabel="filter (same order)",
                   title="What each filter found: its ReLU output, %d steps" % found.shape[1])
    figure.colorbar(shown, ax=bottom, location="bottom", label="activation (0: nothing found)")
    figure.suptitle(titled("The first convolution: kernels and their activations", stand_in))
    return figure
